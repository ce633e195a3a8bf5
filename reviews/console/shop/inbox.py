"""The merchants' inbox: every review of the shop whatever its state, filtered and searched; one review
with the shop's public reply and its reports to the moderators (the export of them all is `export`).

Pages only: reading is `reviews.collection.listing`, replying `reviews.collection.replies`,
reporting `reviews.collection.reports`. A merchant never edits, hides or deletes a review: it may
answer it in public (agent and up) or ask Attest's moderators to look at it (agent and up); the
moderators decide. Every page and each POST checks the role on the server (`guards.shop_page`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.collection import listing, replies, reports
from reviews.collection.listing import STATES, Filters
from reviews.collection.reasons import reason as reject_reason
from reviews.console import params
from reviews.console.errors import PageNotFound
from reviews.console.guards import posted, shop_page
from reviews.console.shop import charts, inbox_photos
from reviews.console.shops import Shop, render_shop
from reviews.console.web import _, _n, first
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.i18n import babel_locale


def filters_of(request: Request) -> Filters:
    """The inbox's filters from the URL; a value that makes no sense is left out, not an error. With
    none at all the inbox is a work list: the published reviews that wait for a reply."""
    q = request.query_params
    if not [k for k in q.keys() if k not in ("page", "saved")]:
        return Filters(state="published", replied=False, page=params.whole(q.get("page"), 1, 100_000) or 1)
    state = q.get("state") or None
    replied = {"yes": True, "no": False}.get(q.get("replied") or "")
    return Filters(stars=params.whole(q.get("stars"), 1, 5), product=(q.get("product") or "").strip()[:200] or None,
                   language=(q.get("lang_filter") or "").strip()[:10] or None,
                   state=state if state in STATES else None, replied=replied,
                   since=params.day(q.get("from")), until=params.day(q.get("to")),
                   text=(q.get("q") or "").strip()[:listing.QUERY_MAX] or None,
                   page=params.whole(q.get("page"), 1, 100_000) or 1)


def _reject_label(code: str | None) -> str | None:
    found = reject_reason(code)
    return found.label if found else code


@shop_page("viewer")
async def inbox_page(request: Request, found: Shop) -> Response:
    f = filters_of(request)
    pool = found.who.svc.pool
    entries, total = await listing.inbox(pool, found.merchant.id, f)
    query = f.query() or {"replied": "any"}  # every review (no filter) is asked for by a key of its own
    figures = await listing.figures(pool, found.merchant.id, found.who.svc.clock.now())
    months = await listing.monthly_ratings(pool, found.merchant.id, found.who.svc.clock.now())
    work = f == Filters(state="published", replied=False, page=f.page)
    return render_shop("inbox.html", found, section="inbox", entries=entries, total=total, filters=f,
                       figures=_figures(found.who.locale, figures), work=work,
                       trend=_trend(found.who.locale, months),
                       saved=request.query_params.get("saved") == "reply", reply_max=replies.MAX_LENGTH,
                       options=await listing.options(pool, found.merchant.id), states=STATES, shop_filter=listing.SHOP,
                       page=f.page, pages=max(1, -(-total // listing.PAGE)), query=urlencode(query),
                       reject_label=_reject_label)


def _figures(locale: str, f: listing.Figures) -> dict[str, Any]:
    """The inbox's figures as read: numbers and durations in the user's language, "—" for none."""
    where = babel_locale(locale)

    def stars(value: float | None) -> str:
        return format_decimal(value, "0.0", locale=where) if value is not None else "—"
    return {"n_30": f.count_30, "n_all": f.count_all, "average_30": stars(f.average_30),
            "count_30": format_decimal(f.count_30, locale=where),
            "average_all": stars(f.average_all), "count_all": format_decimal(f.count_all, locale=where),
            "unanswered": format_decimal(f.unanswered, locale=where),
            "reply_rate": format_percent(f.reply_rate, locale=where) if f.reply_rate is not None else "—",
            "median_reply": format_timedelta(f.median_reply, locale=where) if f.median_reply is not None else "—"}


def _trend(locale: str, months: list[listing.Month]) -> dict[str, Any] | None:
    """The rating by month as a chart and as the rows of the table that says the same."""
    if not months:
        return None
    where = babel_locale(locale)
    rows: list[dict[str, str]] = [
        {"month": format_skeleton("yMMM", m.month, locale=where),
         "average": format_decimal(m.average, "0.0", locale=where), "count": format_decimal(m.count, locale=where)}
        for m in months]
    points = [charts.Point(r["month"], m.average,
                           _n(locale, "%(average)s from %(num)s review", "%(average)s from %(num)s reviews", m.count)
                           % {"average": r["average"], "num": r["count"]}) for r, m in zip(rows, months, strict=True)]
    svg = charts.trend_chart(points, title=_(locale, "Average rating by month, the last 12 months"),
                             description=_(locale, "The same figures are in the table below."),
                             chart_id="rating-trend")
    return {"svg": svg, "rows": rows}


async def _review_page(found: Shop, review_id: int, *, status_code: int = 200, problem: str | None = None,
                       draft: str | None = None, saved: str | None = None) -> Response:
    page = await listing.review(found.who.svc.pool, found.merchant.id, review_id)
    if page is None:
        raise PageNotFound()
    own = await replies.of_review(found.who.svc.pool, review_id)
    own = own if own is not None and not own.imported else None  # the shop's own: one it wrote or edited
    return render_shop("inbox_review.html", found, status_code=status_code, section="inbox", page=page,
                       r=page.review, reply=own, problem=problem, saved=saved,
                       draft=draft if draft is not None else (page.review.reply or ""),
                       may_reply=page.review.state in replies.REPLYABLE,
                       may_report=page.review.state in reports.REPORTABLE,
                       reject_label=_reject_label, reply_max=replies.MAX_LENGTH, note_max=reports.NOTE_MAX,
                       **inbox_photos.context(found, page))


@shop_page("viewer")
async def review_page(request: Request, found: Shop) -> Response:
    saved = request.query_params.get("saved")
    return await _review_page(found, request.path_params["review_id"],
                              saved=saved if saved in ("reply", "report", "photo-report") else None)


def _problem(locale: str, exc: ValidationError, field: str) -> str:
    fields = exc.fields
    if "review" in fields:
        return _(locale, "This review can no longer be answered or reported in its present state.")
    if field == "reply":
        return _(locale, "Please write a reply of at most %(max)s characters.") % {"max": replies.MAX_LENGTH}
    if "reason" in fields:
        return _(locale, "Please choose why you report this review.")
    return _(locale, "Please keep the note to at most %(max)s characters.") % {"max": reports.NOTE_MAX}


@shop_page("agent")
async def reply(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    review_id: int = request.path_params["review_id"]
    assert found.who.user is not None
    text = first(form, "reply")
    try:
        async with found.who.svc.pool.acquire() as conn:
            await replies.save(conn, merchant_id=found.merchant.id, review_id=review_id, text=text,
                               author=found.who.user.email, user_id=found.who.user.id, now=found.who.svc.clock.now())
    except NotFound:
        raise PageNotFound() from None
    except ValidationError as exc:
        return await _review_page(found, review_id, status_code=422, problem=_problem(found.who.locale, exc, "reply"),
                                  draft=text)
    if first(form, "back") == "inbox":  # the inline reply of the inbox's card: back to the work list
        query = first(form, "query")
        return RedirectResponse(f"/console/m/{quote(found.merchant.slug, safe='')}?"
                                + "&".join(x for x in (query, "saved=reply") if x), status_code=303)
    return RedirectResponse(_review_url(found, review_id, "reply"), status_code=303)


@shop_page("agent")
async def report(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    review_id: int = request.path_params["review_id"]
    assert found.who.user is not None
    photo = inbox_photos.photo_id(first(form, "photo"))
    try:
        async with found.who.svc.pool.acquire() as conn:
            await reports.report(conn, merchant_id=found.merchant.id, review_id=review_id,
                                 reason=first(form, "reason"), note=first(form, "note"),
                                 reporter=found.who.user.email, user_id=found.who.user.id,
                                 now=found.who.svc.clock.now(), photo_id=photo)
    except NotFound:
        raise PageNotFound() from None
    except ValidationError as exc:
        return await _review_page(found, review_id, status_code=422,
                                  problem=_problem(found.who.locale, exc, "report"))
    return RedirectResponse(_review_url(found, review_id, "report" if photo is None else "photo-report"),
                            status_code=303)


def _review_url(found: Shop, review_id: int, saved: str) -> str:
    return f"/console/m/{quote(found.merchant.slug, safe='')}/reviews/{review_id}?saved={saved}"
