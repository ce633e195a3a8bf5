"""The review page's answers as the buyer reads them: the form with where each review stands, the
thanks and confirmation pages, and the pages that say why a link shows no form. Every answer is a
whole page in the buyer's language, in the shop's colours."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from reviews.buyer import review_form, review_photos
from reviews.buyer.pages import _, _n, date, number, page_locale, render
from reviews.buyer.review_context import SHOP, Context, Refusal, Slot, locked
from reviews.collection import appeals, reasons
from reviews.collection.appeals import Appeal
from reviews.collection.store import Review
from reviews.merchants import branding
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES


def locale_of(request: Request, ctx: Context) -> str:
    return page_locale(request, ctx.order.locale, ctx.merchant.locale)


def page(template: str, locale: str, *, status_code: int = 200, merchant: Merchant | None = None,
         headers: dict[str, str] | None = None, **context: Any) -> Response:
    response = render(template, locale, status_code=status_code, headers=headers, merchant=merchant,
                      **_branding(merchant), **context)
    return response


def error(locale: str, status_code: int, title: str, message: str, *, merchant: Merchant | None = None,
          switch: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Response:
    return page("error.html", locale, status_code=status_code, merchant=merchant, title=title, message=message,
                switch=switch, headers=headers)


def refusal(request: Request, refused: Refusal, link_days: int) -> Response:
    """Why this link shows no form."""
    locale = page_locale(request, *refused.locales)
    # The language links lead to the GET page of the link, which says the same.
    switch = switch_links(request)
    match refused.reason:
        case "expired":
            return error(locale, 410, _(locale, "This link has expired"),
                         _n(locale,
                            "Review links are valid for %(days)d day after the email was sent. "
                            "Thank you for your interest.",
                            "Review links are valid for %(days)d days after the email was sent. "
                            "Thank you for your interest.",
                            link_days) % {"days": link_days},
                         switch=switch)
        case "invalid":
            return error(locale, 400, _(locale, "This link is not valid"),
                         _(locale, "Please open the link exactly as it appears in the email. If you copied it, "
                                   "check that nothing is missing at the end."), switch=switch)
        case "gone":
            return error(locale, 410, _(locale, "This link is no longer valid"),
                         _(locale, "The order this link belongs to no longer exists."), switch=switch)
        case "cancelled":
            return error(locale, 410, _(locale, "This order was cancelled"),
                         _(locale, "Reviews can only be written for orders that were delivered."),
                         merchant=refused.merchant, switch=switch)
        case "refunded":
            return error(locale, 410, _(locale, "This order was refunded"),
                         _(locale, "Reviews can only be written for orders that were delivered."),
                         merchant=refused.merchant, switch=switch)
        case "withdrawn":
            return error(locale, 410, _(locale, "This link is no longer valid"),
                         _(locale, "The shop has withdrawn this review request."), merchant=refused.merchant,
                         switch=switch)


def switch_links(request: Request, keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The language links: the link's page in each language, keeping the query values that matter."""
    path = f"/r/{request.path_params['token']}"
    kept = {k: request.query_params[k] for k in keep if k in request.query_params}
    return {code: f"{path}?{urlencode({**kept, 'lang': code})}" for code in SUPPORTED_LOCALES}


def form_page(svc: Services, ctx: Context, request: Request, locale: str, values: dict[str, Any],
              errors: dict[str, str], status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    names = {s.key: s.name for s in ctx.slots}
    summary = []  # the errors at the top, each a link to its field
    for field, message in errors.items():
        key = field.partition("_")[2]
        prefix = f"{names[key]}: " if key in names else ""
        summary.append({"href": _anchor(field), "text": prefix + message})
    active = [s for s in ctx.slots if s.saved and s.saved.state != "withdrawn"]
    return page(
        "review_form.html", locale, status_code=status_code, headers=headers, merchant=ctx.merchant,
        slots=ctx.slots, shop_key=SHOP, values=values, errors=errors, summary=summary,
        status={s.key: _status(locale, s.saved, ctx.appeal_of(s)) for s in ctx.slots},
        locked={s.key for s in ctx.slots if locked(s)},
        appealable=[s for s in ctx.slots if ctx.appealable(s)],
        appeal_of={s.key: ctx.appeal_of(s) for s in ctx.slots},
        reply_of={s.key: {"body": reply.body, "at": reply.updated_at.isoformat(),
                          "date": date(locale, reply.updated_at)}
                  for s in ctx.slots if (reply := ctx.reply_of(s))},
        appeal_min=appeals.BODY_MIN, appeal_max=appeals.BODY_MAX,
        appeal_min_text=number(locale, appeals.BODY_MIN), appeal_max_text=number(locale, appeals.BODY_MAX),
        withdrawable=[s for s in active if not locked(s)],
        csrf=review_form.csrf_token(svc, ctx), token=request.path_params["token"],
        switch=switch_links(request, keep=("p", "rating")),
        switch_form="review-form",
        body_min=review_form.BODY_MIN, body_max=review_form.BODY_MAX, title_max=review_form.TITLE_MAX,
        name_max=review_form.NAME_MAX, body_min_text=number(locale, review_form.BODY_MIN),
        body_max_text=number(locale, review_form.BODY_MAX),
        editing=bool(active),
        photos=review_photos.shown(svc, ctx, locale, values, ctx.merchant.name, review_form.display_name(values)),
        photo_max=review_photos.MAX, photo_max_mb=number(locale, review_photos.MAX_MB),
        photo_accept=review_photos.ACCEPT, caption_max=review_photos.CAPTION_MAX,
    )


def thanks(svc: Services, ctx: Context, request: Request, locale: str, reviewed: set[str | None],
           photos: bool = False) -> Response:
    return page("review_thanks.html", locale, merchant=ctx.merchant, mode="thanks", token=request.path_params["token"],
                names=[s.name for s in ctx.slots if s.product_id in reviewed], days=svc.settings.review_link_days,
                switch=switch_links(request), photos=photos)


def confirm_withdraw(svc: Services, ctx: Context, request: Request, locale: str, slot: Slot) -> Response:
    return page("review_thanks.html", locale, mode="confirm_withdraw", review_key=slot.key,
                csrf=review_form.csrf_token(svc, ctx), **_withdrawing(ctx, request, slot))


def withdrawn(svc: Services, ctx: Context, request: Request, locale: str, slot: Slot) -> Response:
    return page("review_thanks.html", locale, mode="withdrawn", days=svc.settings.review_link_days,
                **_withdrawing(ctx, request, slot))


def _withdrawing(ctx: Context, request: Request, slot: Slot) -> dict[str, Any]:
    return {"merchant": ctx.merchant, "token": request.path_params["token"], "name": slot.name,
            "switch": switch_links(request)}


def appealed(ctx: Context, request: Request, locale: str, slot: Slot) -> Response:
    return page("review_appealed.html", locale, merchant=ctx.merchant, token=request.path_params["token"],
                name=slot.name, shop_review=slot.key == SHOP, switch=switch_links(request))


def _branding(merchant: Merchant | None) -> dict[str, Any]:
    colours = branding.colours(merchant.setting("accent_color") if merchant else None)
    return {"accent": colours.accent, "on_accent": colours.on_accent, "star_color": colours.star,
            "logo_url": branding.web_url(merchant.setting("logo_url")) if merchant else None}


def _anchor(field: str) -> str | None:
    kind, _sep, key = field.partition("_")
    return {"rating": f"rating-{key}-1", "title": f"title-{key}", "body": f"body-{key}",
            "display": "display-name", "appeal": f"appeal-{key}", "photos": f"upload-{key}"}.get(kind)


def _reason_label(locale: str, code: str | None) -> str | None:
    """A reject reason as the buyer reads it: its code's label in their language, or the stored text
    itself when it is no code (reasons written before there were codes)."""
    reason = reasons.reason(code)
    if reason is None:
        return code or None
    return _(locale, reason.label)  # the labels are in the pages catalog too (tests/moderation/test_notices.py)


def _status(locale: str, saved: Review | None, appeal: Appeal | None = None) -> str | None:
    """One line on where the buyer's stored review stands."""
    if saved is None:
        return None
    state = saved.state
    if state == "pending":
        line = _(locale, "Received on %(date)s. It is being checked and will then be published.")
    elif state == "published":
        line = _(locale, "Published on %(date)s.")
    elif state == "held":
        line = _(locale, "Received on %(date)s. A moderator is looking at it before it is published.")
    elif state == "rejected":
        reason = reasons.reason(saved.reject_reason)
        if reason is not None and not reason.may_resubmit:
            line = _(locale, "Not published. This review cannot be changed and sent again.")
        else:
            line = _(locale, "Not published. You can change your review and send it again.")
    else:
        line = _(locale, "You withdrew this review. You can write a new one.")
    line %= {"date": date(locale, saved.published_at if state == "published" else saved.submitted_at)}
    label = _reason_label(locale, saved.reject_reason) if state == "rejected" else None
    if label:
        line += " " + _(locale, "The moderator's reason: %(reason)s") % {"reason": label}
    if saved.edited_at and state != "withdrawn":
        line += " " + _(locale, "Edited on %(date)s.") % {"date": date(locale, saved.edited_at)}
    if appeal is not None and state != "withdrawn":
        if appeal.state == "open":
            line += " " + _(locale, "You appealed on %(date)s. Another moderator is looking at your review.") % {
                "date": date(locale, appeal.created_at)}
        elif state == "rejected":
            line += " " + _(locale, "Another moderator looked at your appeal and upheld the decision.")
    return line
