"""What every POST to a review link passes before it may change anything: the rate limits, the link
itself, the form's size and its CSRF token.

A refusal shows the form again with what was typed, so nothing is lost. A form with photos comes
as multipart: its files are spooled to disk as they arrive (Starlette's parser), within `UPLOAD_MAX`
for the whole body, and handed on unread (`reviews.buyer.review_photos`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, NamedTuple

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response

from reviews.buyer import review_context, review_form, review_photos, review_view
from reviews.buyer.pages import _, _n, page_locale
from reviews.buyer.review_context import Context, Refusal
from reviews.media import processing
from reviews.platform import tokens
from reviews.platform.errors import ApiError
from reviews.platform.http import client_ip, read_body
from reviews.platform.i18n import negotiate
from reviews.platform.ratelimit import Decision, Limit, RateLimiter
from reviews.platform.services import Services

# A buyer fixing a typo posts a few times; a script posts hundreds. Shared NATs get more room.
# Every field at its longest is a fraction of this; more is not a review.
FORM_MAX = 256 * 1024
# A form with photos: an item's worth of photos at their largest, and the text. (With the page's
# script, photos are downscaled on the phone and come to a fraction of this.)
UPLOAD_MAX = review_photos.MAX * processing.MAX_UPLOAD_BYTES + FORM_MAX
LINK_LIMIT = Limit("review-link", 10, 600)
IP_LIMIT = Limit("review-ip", 30, 600)

# What a refused form shows of what was posted, when that is not simply what was typed.
Shown = Callable[[Context, Mapping[str, str], dict[str, str]], dict[str, Any]]


class Posted(NamedTuple):
    ctx: Context
    locale: str
    form: dict[str, str]
    files: Mapping[str, Sequence[UploadFile]] = {}  # by field name, files chosen in it


class _TooLarge(Exception):
    pass


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
    multipart = request.headers.get("content-type", "").lower().startswith("multipart/form-data")
    try:
        raw = await (_multipart(request, ctx) if multipart else _urlencoded(request))
    except (ApiError, _TooLarge):
        if multipart:
            return review_view.error(locale, 413, _(locale, "These photos are too large together"), _(
                locale, "Please go back and send fewer photos at a time; what you typed is still in the form "
                        "there."), merchant=ctx.merchant)
        return review_view.error(locale, 413, _(locale, "This form is too large"),
                                 _(locale, "Please shorten your texts and send the form again."), merchant=ctx.merchant)
    except MultiPartException:
        return review_view.error(locale, 400, _(locale, "This form could not be read"),
                                 _(locale, "Please go back and send it again."), merchant=ctx.merchant)
    # A NUL cannot be typed and PostgreSQL cannot store it: dropped, not a reason to lose the text.
    form = {k: v.replace("\x00", "") for k, v in raw.items() if isinstance(v, str)}
    files: dict[str, list[UploadFile]] = {}
    for name, value in raw.multi_items():
        if isinstance(value, UploadFile):
            files.setdefault(name, []).append(value)
    refused = await _refused(svc, request, ctx, locale, form, decision, shown, minutes, retry)
    if refused is not None:
        await close(files)
        return refused
    return Posted(ctx, locale, form, files)


async def _refused(svc: Services, request: Request, ctx: Context, locale: str, form: dict[str, str],
                   decision: Decision, shown: Shown | None, minutes: int, retry: dict[str, str]) -> Response | None:
    values = shown(ctx, request.query_params, form) if shown else form
    if not decision.allowed:
        return review_view.form_page(svc, ctx, request, locale, values, {"form": _too_many(locale, minutes)}, 429,
                                     retry)
    if not review_form.csrf_ok(svc, ctx, form):
        return review_view.form_page(svc, ctx, request, locale, values, {"form": _(
            locale, "The form had expired. Please check your review and send it again.")}, 400)
    return None


async def close(files: Mapping[str, Sequence[UploadFile]]) -> None:
    """Let go of the posted files (spooled to disk past a megabyte) once they are read."""
    for chosen in files.values():
        for upload in chosen:
            await upload.close()


async def _urlencoded(request: Request) -> FormData:
    await read_body(request, FORM_MAX)  # kept by the request: the form is parsed from it
    return await request.form()


async def _multipart(request: Request, ctx: Context) -> FormData:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > UPLOAD_MAX:
        raise _TooLarge

    async def within_limit() -> AsyncGenerator[bytes, None]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > UPLOAD_MAX:
                raise _TooLarge
            yield chunk

    parser = MultiPartParser(request.headers, within_limit(), max_files=review_photos.upload_fields(ctx),
                             max_fields=1000, max_part_size=FORM_MAX)
    return await parser.parse()


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
