"""The buyer's review page at /r/<token>: GET shows the form, POST stores the reviews.

A GET never changes anything (mail scanners prefetch links).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from reviews import submissions, tokens
from reviews.i18n import negotiate, translations
from reviews.merchants import Merchant, by_id
from reviews.pages import LOCALES_DIR, error_page, page_locale, render
from reviews.services import Services

BODY_MIN = 10
BODY_MAX = 5000
TITLE_MAX = 120
NAME_MAX = 60
CSRF_MAX_AGE = 24 * 3600


def _(locale: str, message: str) -> str:
    return translations(LOCALES_DIR, "pages", locale).gettext(message)


@dataclass
class Context:
    invitation: asyncpg.Record
    order: asyncpg.Record
    merchant: Merchant
    items: list[asyncpg.Record]
    existing: dict[str, asyncpg.Record]


def default_display_name(name: str | None) -> str:
    """First name and the initial of the last: "Anna K."."""
    parts = (name or "").split()
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def user_agent_family(ua: str | None) -> str | None:
    if not ua:
        return None
    for family in ("Edg", "OPR", "Firefox", "Chrome", "Safari"):
        if family in ua:
            return {"Edg": "Edge", "OPR": "Opera"}.get(family, family)
    return "Other"


async def _load(svc: Services, request: Request) -> Context | Response:
    locale = page_locale(request)
    try:
        payload = svc.signer.load(tokens.REVIEW, request.path_params["token"],
                                  svc.settings.review_link_days * 86400)
        invitation_id = int(payload["i"])
    except tokens.TokenExpired:
        return error_page(locale, 410, _(locale, "This link has expired"),
                          _(locale, "Review links are valid for a limited time. Thank you for your interest."))
    except (tokens.TokenInvalid, KeyError, TypeError, ValueError):
        return error_page(locale, 400, _(locale, "This link is not valid"),
                          _(locale, "Please open the link exactly as it appears in the email."))
    async with svc.pool.acquire() as conn:
        invitation = await conn.fetchrow("SELECT * FROM invitations WHERE id = $1", invitation_id)
        order = invitation and await conn.fetchrow("SELECT * FROM orders WHERE id = $1", invitation["order_id"])
        if not invitation or not order:
            return error_page(locale, 410, _(locale, "This link is no longer valid"),
                              _(locale, "The order this link belongs to no longer exists."))
        merchant = await by_id(conn, invitation["merchant_id"])
        assert merchant is not None
        locale = page_locale(request, order["locale"], merchant.locale)
        if order["status"] in ("cancelled", "refunded"):
            return error_page(locale, 410, _(locale, "This order was cancelled"),
                              _(locale, "Reviews can only be written for orders that were delivered."))
        items = await conn.fetch("SELECT * FROM order_items WHERE order_id = $1 ORDER BY position", order["id"])
        rows = await conn.fetch("SELECT * FROM reviews WHERE invitation_id = $1", invitation_id)
    existing = {r["product_id"] or "": r for r in rows}
    return Context(invitation, order, merchant, list(items), existing)


def _form_state(ctx: Context, request: Request) -> dict[str, Any]:
    """The values to show: saved reviews, then a rating preselected from the email's star link."""
    values: dict[str, Any] = {"display_name": default_display_name(ctx.order["buyer_name"])}
    for item in ctx.items:
        pos = item["position"]
        saved = ctx.existing.get(item["product_id"])
        if saved and saved["state"] != "withdrawn":
            values.update({f"rating_{pos}": str(saved["rating"]), f"title_{pos}": saved["title"],
                           f"body_{pos}": saved["body"]})
            values["display_name"] = saved["display_name"]
    preselect_pos, rating = request.query_params.get("p"), request.query_params.get("rating")
    if preselect_pos and rating and rating in "12345" and len(rating) == 1:
        values.setdefault(f"rating_{preselect_pos}", rating)
        if not values.get(f"rating_{preselect_pos}"):
            values[f"rating_{preselect_pos}"] = rating
    return values


def _render_form(svc: Services, ctx: Context, locale: str, values: dict[str, Any], errors: dict[str, str],
                 token: str, status_code: int = 200) -> Response:
    return render(
        "review_form.html", locale, status_code=status_code,
        merchant=ctx.merchant, items=ctx.items, values=values, errors=errors,
        csrf=svc.signer.sign(tokens.CSRF, {"i": ctx.invitation["id"]}), token=token,
        accent=ctx.merchant.setting("accent_color"), logo_url=ctx.merchant.setting("logo_url"),
        body_min=BODY_MIN, body_max=BODY_MAX, title_max=TITLE_MAX, name_max=NAME_MAX,
        editing=any(r["state"] != "withdrawn" for r in ctx.existing.values()),
    )


async def review_page(request: Request) -> Response:
    svc: Services = request.app.state.services
    ctx = await _load(svc, request)
    if isinstance(ctx, Response):
        return ctx
    locale = page_locale(request, ctx.order["locale"], ctx.merchant.locale)
    return _render_form(svc, ctx, locale, _form_state(ctx, request), {}, request.path_params["token"])


def validate(ctx: Context, form: dict[str, str], locale: str) -> tuple[list[submissions.Submission], dict[str, str]]:
    errors: dict[str, str] = {}
    items: list[submissions.Submission] = []
    for item in ctx.items:
        pos = item["position"]
        rating = form.get(f"rating_{pos}", "").strip()
        title = re.sub(r"\s+", " ", form.get(f"title_{pos}", "")).strip()
        body = form.get(f"body_{pos}", "").strip()
        if not rating and not body and not title:
            continue  # the buyer chose not to review this product
        if rating not in ("1", "2", "3", "4", "5"):
            errors[f"rating_{pos}"] = _(locale, "Choose a rating from 1 to 5 stars.")
        if len(body) < BODY_MIN:
            errors[f"body_{pos}"] = _(locale, "Write at least %(n)d characters.") % {"n": BODY_MIN}
        elif len(body) > BODY_MAX:
            errors[f"body_{pos}"] = _(locale, "Write at most %(n)d characters.") % {"n": BODY_MAX}
        if len(title) > TITLE_MAX:
            errors[f"title_{pos}"] = _(locale, "The title can have at most %(n)d characters.") % {"n": TITLE_MAX}
        if f"rating_{pos}" not in errors and f"body_{pos}" not in errors and f"title_{pos}" not in errors:
            items.append(submissions.Submission(item["product_id"], item["name"], int(rating), title, body))
    if not items and not errors:
        errors["form"] = _(locale, "Rate at least one product.")
    name = re.sub(r"\s+", " ", form.get("display_name", "")).strip()
    if not name or len(name) > NAME_MAX:
        errors["display_name"] = _(locale, "Enter a name of 1 to %(n)d characters.") % {"n": NAME_MAX}
    return items, errors


async def submit_review(request: Request) -> Response:
    svc: Services = request.app.state.services
    ctx = await _load(svc, request)
    if isinstance(ctx, Response):
        return ctx
    locale = negotiate(request.query_params.get("lang"), ctx.order["locale"], ctx.merchant.locale)
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    token = request.path_params["token"]
    try:
        csrf = svc.signer.load(tokens.CSRF, form.get("csrf", ""), CSRF_MAX_AGE)
        if csrf.get("i") != ctx.invitation["id"]:
            raise tokens.TokenInvalid("wrong form")
    except (tokens.TokenInvalid, tokens.TokenExpired, AttributeError):
        return _render_form(svc, ctx, locale, form, {"form": _(
            locale, "The form had expired. Please check your review and send it again.")}, token, 400)
    items, errors = validate(ctx, form, locale)
    if errors:
        return _render_form(svc, ctx, locale, form, errors, token, 422)
    client_ip = request.client.host if request.client else None
    async with svc.pool.acquire() as conn:
        await submissions.save_invited(
            conn, merchant_id=ctx.merchant.id, order_id=ctx.order["id"], invitation_id=ctx.invitation["id"],
            author_hash=ctx.order["buyer_hash"], display_name=form["display_name"].strip(), locale=locale,
            items=items, now=svc.clock.now(), ip_hash=svc.hasher.ip(client_ip) if client_ip else None,
            user_agent_family=user_agent_family(request.headers.get("user-agent")),
        )
    return render("review_thanks.html", locale, merchant=ctx.merchant, count=len(items), token=token,
                  accent=ctx.merchant.setting("accent_color"))
