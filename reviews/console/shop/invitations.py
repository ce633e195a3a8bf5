"""A shop's invitations (viewer and up): the funnel in total, per week and per language (an SVG
chart with the same figures in a table), the recent invitations with their state and reason,
filtered by state and language; and cancelling one that is still scheduled (agent and up, audited).

Reading and cancelling are `reviews.invitations.store`'s; this module only shapes the pages.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_percent
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.console import params
from reviews.console.errors import PageNotFound
from reviews.console.guards import posted, shop_page
from reviews.console.shop import charts
from reviews.console.shops import Shop, render_shop
from reviews.console.web import _, first, message_page
from reviews.invitations import store as invitations
from reviews.platform import audit
from reviews.platform.i18n import babel_locale

STATES = ("scheduled", "sent", "skipped", "cancelled", "failed")
WEEKS = 12
PER_PAGE = 50
NO_LANGUAGE = "-"  # the language filter's value for orders that said none
CANCEL_REASON = "cancelled_by_shop"
# The funnel's stages in the order the tables and charts show them.
STAGES = ("ordered", "awaiting", "scheduled", "skipped", "sent", "opened", "reminded", "reviewed", "failed")
# The invitations that were or will be sent: what "sent of eligible" divides by.
ELIGIBLE = ("scheduled", "sent", "failed", "cancelled")


def stage_labels(locale: str) -> dict[str, str]:
    return {
        "ordered": _(locale, "Orders received"),
        "awaiting": _(locale, "Not invited yet"),
        "opened": _(locale, "Opened the review link"),
        "scheduled": _(locale, "Invitations scheduled"),
        "skipped": _(locale, "Skipped"),
        "sent": _(locale, "Sent"),
        "reminded": _(locale, "Reminded"),
        "reviewed": _(locale, "Reviewed"),
        "failed": _(locale, "Failed"),
        "cancelled": _(locale, "Cancelled"),
        "too_old_to_invite": _(locale, "Too old to invite"),
    }


def reason_label(locale: str, reason: str | None) -> str:
    labels = {
        "no_consent": _(locale, "the buyer did not consent"),
        "consent_unknown": _(locale, "the order did not say whether the buyer consented"),
        "no_email": _(locale, "no email address"),
        "order_cancelled": _(locale, "the order was cancelled"),
        "order_refunded": _(locale, "the order was refunded"),
        "unsubscribed": _(locale, "the buyer unsubscribed"),
        "hard_bounce": _(locale, "the address bounced"),
        "already_reviewed": _(locale, "already reviewed"),
        "too_late": _(locale, "too late to invite"),
        "recently_invited": _(locale, "invited recently for another order"),
        "rejected": _(locale, "the mail server refused it"),
        "retries_exhausted": _(locale, "the mail server could not be reached"),
        "erased": _(locale, "the buyer's data was erased"),
        CANCEL_REASON: _(locale, "cancelled in the console"),
    }
    return labels.get(reason or "", reason or "")


def state_labels(locale: str) -> dict[str, str]:
    return {"scheduled": _(locale, "scheduled"), "sent": _(locale, "sent"), "skipped": _(locale, "skipped"),
            "cancelled": _(locale, "cancelled"), "failed": _(locale, "failed")}


def rates(locale: str, row: dict[str, Any]) -> dict[str, str]:
    """The funnel's two rates as percentages in the user's language ("—" when there is nothing to divide):
    sent of the eligible invitations, reviewed of the sent ones."""
    where = babel_locale(locale)

    def share(part: int, whole: int) -> str:
        return format_percent(part / whole, locale=where) if whole else "—"
    return {"sent_rate": share(int(row["sent"]), sum(int(row.get(s, 0)) for s in ELIGIBLE)),
            "review_rate": share(int(row["reviewed"]), int(row["sent"]))}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _filters(request: Request) -> tuple[str | None, str | None, int]:
    q = request.query_params
    state = q.get("state") if q.get("state") in STATES else None
    raw = (q.get("language") or "").strip().lower()[:10]
    language = "" if raw == NO_LANGUAGE else (raw if raw.isalpha() else None)
    return state, language, params.whole(q.get("page"), 1, 10_000) or 1


def _query(state: str | None, language: str | None, page: int = 1) -> str:
    fields = {"state": state or "", "language": NO_LANGUAGE if language == "" else (language or "")}
    if page > 1:
        fields["page"] = str(page)
    return urlencode({k: v for k, v in fields.items() if v})


@shop_page("viewer")
async def invitations_page(request: Request, found: Shop) -> Response:
    svc, locale = found.who.svc, found.who.locale
    merchant_id = found.merchant.id
    labels = stage_labels(locale)
    totals = await invitations.funnel(svc.pool, merchant_id)
    totals = {**totals, "skipped_total": sum(totals["skipped"].values()), **rates(locale, totals)}
    first_week = _monday(svc.clock.now().astimezone(UTC).date()) - timedelta(weeks=WEEKS - 1)
    since = datetime.combine(first_week, time(), UTC)
    # Only the weeks with orders: a row of zeros says nothing.
    week_rows = [{**r, **rates(locale, r)}
                 for r in await invitations.funnel_by(svc.pool, merchant_id, "week", since)]
    language_rows = [{**r, **rates(locale, r)} for r in await invitations.funnel_by(svc.pool, merchant_id, "language")]
    no_language = _(locale, "(none)")

    def chart(rows: list[dict[str, Any]], categories: list[str], chart_id: str, title: str) -> str:
        return charts.bar_chart(categories, [charts.Series(labels[s], [int(r[s]) for r in rows]) for s in STAGES],
                                title=title, description=_(locale, "The same figures are in the table below."),
                                chart_id=chart_id)

    week_chart = chart(week_rows, [r["group"][5:] for r in week_rows], "funnel-weeks",
                       _(locale, "Invitation funnel per week, the last 12 weeks"))
    language_chart = chart(language_rows, [r["group"] or no_language for r in language_rows], "funnel-languages",
                           _(locale, "Invitation funnel per language"))
    state, language, page = _filters(request)
    entries, total = await invitations.listed(svc.pool, merchant_id, state=state, language=language,
                                              limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_shop(
        "shop_invitations.html", found, section="invitations",
        totals=totals, stages=STAGES, labels=labels, week_rows=week_rows, language_rows=language_rows,
        week_chart=week_chart, language_chart=language_chart, no_language=no_language,
        reason_label=lambda r: reason_label(locale, r), state_labels=state_labels(locale), states=STATES,
        state=state, language=language, languages=[r["group"] for r in language_rows], NO_LANGUAGE=NO_LANGUAGE,
        entries=entries, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
        query=_query(state, language), page_query=lambda n: _query(state, language, n))


@shop_page("agent")
async def cancel(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    invitation_id: int = request.path_params["invitation_id"]
    svc, who = found.who.svc, found.who
    assert who.user is not None
    now = svc.clock.now()
    async with svc.pool.acquire() as conn, conn.transaction():
        changed = await invitations.cancel_scheduled(conn, found.merchant.id, invitation_id, CANCEL_REASON, now)
        if changed is not None:
            before, after = changed
            await audit.record(conn, actor=who.user.email, action="invitation.cancelled", table="invitations",
                               row_id=after.id, before=before.describe(), after=after.describe(), now=now)
    if changed is None:
        existing = await invitations.get(svc.pool, invitation_id)
        if existing is None or existing.merchant_id != found.merchant.id:
            raise PageNotFound()
        return message_page(who, 409, _(who.locale, "Not cancelled"),
                            _(who.locale, "This invitation is no longer scheduled, so there is nothing to cancel."))
    state = first(form, "state")
    language = first(form, "language")
    query = urlencode({k: v for k, v in (("state", state if state in STATES else ""),
                                         ("language", language[:10])) if v})
    return RedirectResponse(f"/console/m/{found.merchant.slug}/invitations" + (f"?{query}" if query else "")
                            + "#recent", status_code=303)
