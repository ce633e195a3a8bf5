"""What every POST to a review link passes before it may change anything: the rate limits, the link
itself, the form's size and its CSRF token.

A refusal shows the form again with what was typed, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import Response

from reviews.buyer import review_context, review_form, review_view
from reviews.buyer.pages import _, _n, page_locale
from reviews.buyer.review_context import Context, Refusal
from reviews.platform import tokens
from reviews.platform.errors import ApiError
from reviews.platform.http import client_ip, read_body
from reviews.platform.i18n import negotiate
from reviews.platform.ratelimit import Limit, RateLimiter
from reviews.platform.services import Services

# A buyer fixing a typo posts a few times; a script posts hundreds. Shared NATs get more room.
# Every field at its longest is a fraction of this; more is not a review.
FORM_MAX = 256 * 1024
LINK_LIMIT = Limit("review-link", 10, 600)
IP_LIMIT = Limit("review-ip", 30, 600)

# What a refused form shows of what was posted, when that is not simply what was typed.
Shown = Callable[[Context, Mapping[str, str], dict[str, str]], dict[str, Any]]


class Posted(NamedTuple):
    ctx: Context
    locale: str
    form: dict[str, str]


async def posted(svc: Services, request: Request, shown: Shown | None = None) -> Posted | Response:
    """Count the POST, load the link, read the form, check its CSRF token; or the page that refuses it."""
    ip = client_ip(request) or "unknown"
    limiter = RateLimiter(svc.settings.secret_key)
    decision = await limiter.hit(svc.pool, [(LINK_LIMIT, _link_key(svc, request)), (IP_LIMIT, ip)],
                                 svc.clock.now())
    ctx = await review_context.load(svc, request.path_params["token"])
    retry = {"Retry-After": str(decision.retry_after)}
    minutes = max(1, -(-decision.retry_after // 60))
    if isinstance(ctx, Refusal):
        if decision.allowed:
            return review_view.refusal(request, ctx, svc.settings.review_link_days)
        locale = page_locale(request)
        message = _n(
            locale, "Too many attempts from here. Please try again in %(num)d minute.",
            "Too many attempts from here. Please try again in %(num)d minutes.", minutes) % {"num": minutes}
        return review_view.error(locale, 429, _(locale, "Too many attempts"), message, headers=retry)
    locale = negotiate(request.query_params.get("lang"), ctx.order.locale, ctx.merchant.locale)
    try:
        await read_body(request, FORM_MAX)  # kept by the request: the form is parsed from it
    except ApiError:
        return review_view.error(locale, 413, _(locale, "This form is too large"),
                                 _(locale, "Please shorten your texts and send the form again."), merchant=ctx.merchant)
    raw = await request.form()
    # A NUL cannot be typed and PostgreSQL cannot store it: dropped, not a reason to lose the text.
    form = {k: v.replace("\x00", "") for k, v in raw.items() if isinstance(v, str)}
    values = shown(ctx, request.query_params, form) if shown else form
    if not decision.allowed:
        return review_view.form_page(svc, ctx, request, locale, values, {"form": _too_many(locale, minutes)}, 429,
                                     retry)
    if not review_form.csrf_ok(svc, ctx, form):
        return review_view.form_page(svc, ctx, request, locale, values, {"form": _(
            locale, "The form had expired. Please check your review and send it again.")}, 400)
    return Posted(ctx, locale, form)


def _link_key(svc: Services, request: Request) -> str:
    """What the per-link limit counts: the invitation the token signs, so that other spellings of
    one signature (base64 allows several) share one counter."""
    token = request.path_params["token"]
    try:
        return f"invitation:{review_context.invitation_id(svc, token)}"
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return f"token:{token}"


def _too_many(locale: str, minutes: int) -> str:
    return _n(
        locale, "Too many attempts from here. Your text is kept below: please send it again in %(num)d minute.",
        "Too many attempts from here. Your text is kept below: please send it again in %(num)d minutes.",
        minutes) % {"num": minutes}
