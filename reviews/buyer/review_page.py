"""The buyer's review page at /r/<token>: GET shows the form, POST stores the reviews; a rejected
review's author may appeal once from it (POST /r/<token>/appeal). The shop's public reply to a
review (`reviews.collection.replies`) is shown under it, as the widgets show it.

A GET never changes anything (mail scanners prefetch links). Every answer, errors included,
is a whole page in the buyer's language, and a refused POST shows again everything typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import Response

from embedding import text
from reviews.buyer.pages import _, _n, page_locale, render
from reviews.collection import appeals, reasons, replies
from reviews.collection import store as reviews
from reviews.collection.appeals import Appeal
from reviews.collection.authors import default_display_name
from reviews.collection.replies import Reply
from reviews.collection.store import Review
from reviews.intake import orders
from reviews.intake.orders import Order, OrderItem
from reviews.invitations import links
from reviews.invitations import store as invitation_store
from reviews.invitations.store import Invitation
from reviews.merchants import branding
from reviews.merchants.model import Merchant
from reviews.merchants.store import by_id
from reviews.platform import audit, tokens
from reviews.platform.errors import ApiError
from reviews.platform.http import client_ip, read_body
from reviews.platform.i18n import babel_locale, negotiate
from reviews.platform.ratelimit import Limit, RateLimiter
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES

BODY_MIN = 10
BODY_MAX = 5000
TITLE_MAX = 120
NAME_MAX = 60
CSRF_MAX_AGE = 24 * 3600
SHOP = "shop"  # the form key of the review of the shop itself (stored with product_id NULL)

# A buyer fixing a typo posts a few times; a script posts hundreds. Shared NATs get more room.
# Every field at its longest is a fraction of this; more is not a review.
FORM_MAX = 256 * 1024
LINK_LIMIT = Limit("review-link", 10, 600)
IP_LIMIT = Limit("review-ip", 30, 600)

# Everything the page loads comes from us; the only exception is the shop's own images.
CSP = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: http: data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class Slot:
    """One thing the buyer may review: a product of the order, or the shop."""

    key: str  # the form fields' suffix: the item's position, or SHOP
    product_id: str | None
    name: str
    image_url: str | None
    saved: Review | None  # the buyer's stored review, if any


@dataclass
class Context:
    invitation: Invitation
    order: Order
    merchant: Merchant
    items: list[OrderItem]
    existing: dict[str, Review]
    appeals: dict[int, Appeal] = dataclass_field(default_factory=dict)  # by review id
    replies: dict[int, Reply] = dataclass_field(default_factory=dict)  # the shop's public replies, by review id

    @property
    def slots(self) -> list[Slot]:
        slots = [Slot(str(item.position), item.product_id, item.name, branding.web_url(item.image_url),
                      self.existing.get(item.product_id)) for item in self.items]
        return [*slots, Slot(SHOP, None, self.merchant.name, None, self.existing.get(""))]

    def appeal_of(self, slot: Slot) -> Appeal | None:
        return self.appeals.get(slot.saved.id) if slot.saved else None

    def reply_of(self, slot: Slot) -> Reply | None:
        """The shop's reply to the buyer's review; none once they withdrew it (it is shown nowhere)."""
        saved = slot.saved
        return self.replies.get(saved.id) if saved is not None and saved.state != "withdrawn" else None

    def appealable(self, slot: Slot) -> bool:
        """A rejected review whose author has not appealed yet (an appeal is made once)."""
        return slot.saved is not None and slot.saved.state == "rejected" and self.appeal_of(slot) is None


def locked(slot: Slot) -> bool:
    """Rejected for a reason that does not let its author mend it and send it again (a review that
    is not the buyer's own): shown, not editable, not withdrawable. An unknown (legacy) reason, as
    before reasons had codes, leaves the review editable."""
    saved = slot.saved
    if saved is None or saved.state != "rejected":
        return False
    reason = reasons.reason(saved.reject_reason)
    return reason is not None and not reason.may_resubmit


def user_agent_family(ua: str | None) -> str | None:
    if not ua:
        return None
    for family in ("Edg", "OPR", "Firefox", "Chrome", "Safari"):
        if family in ua:
            return {"Edg": "Edge", "OPR": "Opera"}.get(family, family)
    return "Other"


# --- page helpers -----------------------------------------------------------------------------

def _branding(merchant: Merchant | None) -> dict[str, Any]:
    colours = branding.colours(merchant.setting("accent_color") if merchant else None)
    return {"accent": colours.accent, "on_accent": colours.on_accent, "star_color": colours.star,
            "logo_url": branding.web_url(merchant.setting("logo_url")) if merchant else None}


def _switch(path: str, request: Request, keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The language links: the same page in each language, keeping the query values that matter."""
    kept = {k: request.query_params[k] for k in keep if k in request.query_params}
    return {code: f"{path}?{urlencode({**kept, 'lang': code})}" for code in SUPPORTED_LOCALES}


def _page(template: str, locale: str, *, status_code: int = 200, merchant: Merchant | None = None,
          headers: dict[str, str] | None = None, **context: Any) -> Response:
    response = render(template, locale, status_code=status_code, headers=headers, merchant=merchant,
                      **_branding(merchant), **context)
    response.headers["Content-Security-Policy"] = CSP
    return response


def _error(locale: str, status_code: int, title: str, message: str, *, merchant: Merchant | None = None,
           switch: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Response:
    return _page("error.html", locale, status_code=status_code, merchant=merchant, title=title, message=message,
                 switch=switch, headers=headers)


def _number(locale: str, n: int) -> str:
    return format_decimal(n, locale=babel_locale(locale))


def _date(locale: str, when: datetime | None) -> str | None:
    return format_date(when, format="long", locale=babel_locale(locale)) if when else None


# --- loading the link -------------------------------------------------------------------------

async def _load(svc: Services, request: Request) -> Context | Response:
    locale = page_locale(request)
    # The error pages' language links lead to the GET page of the link, which says the same.
    switch = _switch(f"/r/{request.path_params['token']}", request)
    try:
        payload = svc.signer.load(tokens.REVIEW, request.path_params["token"], links.review_max_age(svc))
        invitation_id = int(payload["i"])
    except tokens.TokenExpired:
        return _error(locale, 410, _(locale, "This link has expired"),
                      _n(locale,
                         "Review links are valid for %(days)d day after the email was sent. "
                         "Thank you for your interest.",
                         "Review links are valid for %(days)d days after the email was sent. "
                         "Thank you for your interest.",
                         svc.settings.review_link_days) % {"days": svc.settings.review_link_days},
                      switch=switch)
    except (tokens.TokenInvalid, KeyError, TypeError, ValueError):
        return _error(locale, 400, _(locale, "This link is not valid"),
                      _(locale, "Please open the link exactly as it appears in the email. If you copied it, "
                                "check that nothing is missing at the end."), switch=switch)
    async with svc.pool.acquire() as conn:
        invitation = await invitation_store.get(conn, invitation_id)
        order = invitation and await orders.get(conn, invitation.order_id)
        if not invitation or not order:
            return _error(locale, 410, _(locale, "This link is no longer valid"),
                          _(locale, "The order this link belongs to no longer exists."), switch=switch)
        merchant = await by_id(conn, invitation.merchant_id)
        assert merchant is not None
        locale = page_locale(request, order.locale, merchant.locale)
        if order.status == "cancelled":
            return _error(locale, 410, _(locale, "This order was cancelled"),
                          _(locale, "Reviews can only be written for orders that were delivered."),
                          merchant=merchant, switch=switch)
        if order.status == "refunded":
            return _error(locale, 410, _(locale, "This order was refunded"),
                          _(locale, "Reviews can only be written for orders that were delivered."),
                          merchant=merchant, switch=switch)
        if invitation.state == "cancelled":
            return _error(locale, 410, _(locale, "This link is no longer valid"),
                          _(locale, "The shop has withdrawn this review request."), merchant=merchant, switch=switch)
        items = await orders.items(conn, order.id)
        rows = await reviews.for_invitation(conn, invitation_id)
        filed = await appeals.of_reviews(conn, [r.id for r in rows if r.state != "withdrawn"])
        replied = await replies.of_reviews(conn, [r.id for r in rows])
    existing = {r.product_id or "": r for r in rows}
    return Context(invitation, order, merchant, list(items), existing, filed, replied)


def _locale_of(request: Request, ctx: Context) -> str:
    return page_locale(request, ctx.order.locale, ctx.merchant.locale)


# --- the form -----------------------------------------------------------------------------------

def _form_state(ctx: Context, request: Request) -> dict[str, Any]:
    """The values to show: saved reviews, then a rating preselected from the email's star link."""
    values: dict[str, Any] = {"display_name": default_display_name(ctx.order.buyer_name)}
    for slot in ctx.slots:
        saved = slot.saved
        if saved and saved.state != "withdrawn":
            values.update({f"rating_{slot.key}": str(saved.rating), f"title_{slot.key}": saved.title,
                           f"body_{slot.key}": saved.body})
            values["display_name"] = saved.display_name
    position, rating = request.query_params.get("p"), request.query_params.get("rating")
    if position and rating in ("1", "2", "3", "4", "5") and not values.get(f"rating_{position}"):
        values[f"rating_{position}"] = rating  # a saved rating wins: the buyer already decided
    return values


def reason_label(locale: str, code: str | None) -> str | None:
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
    line %= {"date": _date(locale, saved.published_at if state == "published" else saved.submitted_at)}
    label = reason_label(locale, saved.reject_reason) if state == "rejected" else None
    if label:
        line += " " + _(locale, "The moderator's reason: %(reason)s") % {"reason": label}
    if saved.edited_at and state != "withdrawn":
        line += " " + _(locale, "Edited on %(date)s.") % {"date": _date(locale, saved.edited_at)}
    if appeal is not None and state != "withdrawn":
        if appeal.state == "open":
            line += " " + _(locale, "You appealed on %(date)s. Another moderator is looking at your review.") % {
                "date": _date(locale, appeal.created_at)}
        elif state == "rejected":
            line += " " + _(locale, "Another moderator looked at your appeal and upheld the decision.")
    return line


def _anchor(field: str) -> str | None:
    kind, _sep, key = field.partition("_")
    return {"rating": f"rating-{key}-1", "title": f"title-{key}", "body": f"body-{key}",
            "display": "display-name", "appeal": f"appeal-{key}"}.get(kind)


def _render_form(svc: Services, ctx: Context, request: Request, locale: str, values: dict[str, Any],
                 errors: dict[str, str], status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    token = request.path_params["token"]
    names = {s.key: s.name for s in ctx.slots}
    summary = []  # the errors at the top, each a link to its field
    for field, message in errors.items():
        key = field.partition("_")[2]
        prefix = f"{names[key]}: " if key in names else ""
        summary.append({"href": _anchor(field), "text": prefix + message})
    active = [s for s in ctx.slots if s.saved and s.saved.state != "withdrawn"]
    return _page(
        "review_form.html", locale, status_code=status_code, headers=headers, merchant=ctx.merchant,
        slots=ctx.slots, shop_key=SHOP, values=values, errors=errors, summary=summary,
        status={s.key: _status(locale, s.saved, ctx.appeal_of(s)) for s in ctx.slots},
        locked={s.key for s in ctx.slots if locked(s)},
        appealable=[s for s in ctx.slots if ctx.appealable(s)],
        appeal_of={s.key: ctx.appeal_of(s) for s in ctx.slots},
        reply_of={s.key: {"body": reply.body, "at": reply.updated_at.isoformat(),
                          "date": _date(locale, reply.updated_at)}
                  for s in ctx.slots if (reply := ctx.reply_of(s))},
        appeal_min=appeals.BODY_MIN, appeal_max=appeals.BODY_MAX,
        appeal_min_text=_number(locale, appeals.BODY_MIN), appeal_max_text=_number(locale, appeals.BODY_MAX),
        withdrawable=[s for s in active if not locked(s)],
        csrf=svc.signer.sign(tokens.CSRF, {"i": ctx.invitation.id}), token=token,
        switch=_switch(f"/r/{token}", request, keep=("p", "rating")),
        switch_form="review-form",
        body_min=BODY_MIN, body_max=BODY_MAX, title_max=TITLE_MAX, name_max=NAME_MAX,
        body_min_text=_number(locale, BODY_MIN), body_max_text=_number(locale, BODY_MAX),
        editing=bool(active),
    )


async def review_page(request: Request) -> Response:
    svc: Services = request.app.state.services
    ctx = await _load(svc, request)
    if isinstance(ctx, Response):
        return ctx
    return _render_form(svc, ctx, request, _locale_of(request, ctx), _form_state(ctx, request), {})


def validate(ctx: Context, form: dict[str, str], locale: str) -> tuple[list[reviews.Submission], dict[str, str]]:
    errors: dict[str, str] = {}
    items: list[reviews.Submission] = []
    for slot in ctx.slots:
        key = slot.key
        if locked(slot):
            continue  # shown, not a field: what is posted for it is not stored
        rating = form.get(f"rating_{key}", "").strip()
        title = re.sub(r"\s+", " ", form.get(f"title_{key}", "")).strip()
        body = form.get(f"body_{key}", "").strip()
        if not rating and not body and not title:
            continue  # the buyer chose not to review this one
        if rating not in ("1", "2", "3", "4", "5"):
            errors[f"rating_{key}"] = _(locale, "Choose a rating from 1 to 5 stars.")
        if len(title) > TITLE_MAX:
            errors[f"title_{key}"] = _(locale, "The title can have at most %(n)s characters.") % {
                "n": _number(locale, TITLE_MAX)}
        if len(body) < BODY_MIN:
            errors[f"body_{key}"] = _(locale, "Write at least %(n)s characters.") % {"n": _number(locale, BODY_MIN)}
        elif len(body) > BODY_MAX:
            errors[f"body_{key}"] = _(locale, "Write at most %(n)s characters.") % {"n": _number(locale, BODY_MAX)}
        if not any(f"{kind}_{key}" in errors for kind in ("rating", "title", "body")):
            name = None if key == SHOP else slot.name
            items.append(reviews.Submission(slot.product_id, name, int(rating), title, body))
    _same_texts(ctx, form, locale, errors)
    if not items and not errors:
        errors["form"] = _(locale, "Rate at least one product or the shop.")
    name = re.sub(r"\s+", " ", form.get("display_name", "")).strip()
    if not name or len(name) > NAME_MAX:
        errors["display_name"] = _(locale, "Enter a name of 1 to %(n)d characters.") % {"n": NAME_MAX}
    return items, errors


# Below this many characters (normalised), two equal texts are the ordinary "Great, thanks!" that
# detection never counts as evidence either.
SAME_TEXT_MIN = 40
# Two texts this alike in character 4-grams are one text with a word changed.
SAME_TEXT_OVERLAP = 0.8


def _same_texts(ctx: Context, form: dict[str, str], locale: str, errors: dict[str, str]) -> None:
    """A buyer who pastes one text into every product would have all but the first held as copies:
    ask, next to each later copy, for a word about each product instead (nothing typed is lost)."""
    seen: list[tuple[Slot, frozenset[str]]] = []
    for slot in ctx.slots:
        norm = text.normalize(form.get(f"body_{slot.key}", ""))
        if len(norm) < SAME_TEXT_MIN or f"body_{slot.key}" in errors:
            continue
        grams = text.shingles(norm)
        first = next((other for other, other_grams in seen if text.jaccard(grams, other_grams) >= SAME_TEXT_OVERLAP),
                     None)
        if first is not None:
            errors[f"body_{slot.key}"] = _(
                locale, "You wrote the same text for %(first)s and %(second)s. Say something about each, "
                        "or leave one of them empty.") % {"first": first.name, "second": slot.name}
        else:
            seen.append((slot, grams))


# --- posting ---------------------------------------------------------------------------------

async def _posted(svc: Services, request: Request,
                  values: Callable[[Context, dict[str, str]], dict[str, Any]] | None = None,
                  ) -> tuple[Context, str, dict[str, str]] | Response:
    """What every POST does first: count it, load the link, read the form, check the CSRF token.

    A refusal shows the form again with what was typed, so nothing is lost (`values`: what a form
    other than the review form shows of what was posted).
    """
    ip = client_ip(request) or "unknown"
    limiter = RateLimiter(svc.settings.secret_key)
    decision = await limiter.hit(svc.pool, [(LINK_LIMIT, _link_key(svc, request)), (IP_LIMIT, ip)],
                                 svc.clock.now())
    ctx = await _load(svc, request)
    retry = {"Retry-After": str(decision.retry_after)}
    minutes = max(1, -(-decision.retry_after // 60))
    if isinstance(ctx, Response):
        if decision.allowed:
            return ctx
        locale = page_locale(request)
        message = _n(
            locale, "Too many attempts from here. Please try again in %(num)d minute.",
            "Too many attempts from here. Please try again in %(num)d minutes.", minutes) % {"num": minutes}
        return _error(locale, 429, _(locale, "Too many attempts"), message, headers=retry)
    locale = negotiate(request.query_params.get("lang"), ctx.order.locale, ctx.merchant.locale)
    try:
        await read_body(request, FORM_MAX)  # kept by the request: the form is parsed from it
    except ApiError:
        return _error(locale, 413, _(locale, "This form is too large"),
                      _(locale, "Please shorten your texts and send the form again."), merchant=ctx.merchant)
    raw = await request.form()
    # A NUL cannot be typed and PostgreSQL cannot store it: dropped, not a reason to lose the text.
    form = {k: v.replace("\x00", "") for k, v in raw.items() if isinstance(v, str)}
    shown = values(ctx, form) if values else form
    if not decision.allowed:
        return _render_form(svc, ctx, request, locale, shown, {"form": _too_many(locale, minutes)}, 429, retry)
    try:
        csrf = svc.signer.load(tokens.CSRF, form.get("csrf", ""), CSRF_MAX_AGE)
        if csrf.get("i") != ctx.invitation.id:
            raise tokens.TokenInvalid("wrong form")
    except (tokens.TokenInvalid, tokens.TokenExpired, AttributeError):
        return _render_form(svc, ctx, request, locale, shown, {"form": _(
            locale, "The form had expired. Please check your review and send it again.")}, 400)
    return ctx, locale, form


def _link_key(svc: Services, request: Request) -> str:
    """What the per-link limit counts: the invitation the token signs, so that other spellings of
    one signature (base64 allows several) share one counter."""
    token = request.path_params["token"]
    try:
        return f"invitation:{int(svc.signer.load(tokens.REVIEW, token, links.review_max_age(svc))['i'])}"
    except (tokens.TokenInvalid, tokens.TokenExpired, KeyError, TypeError, ValueError):
        return f"token:{token}"


def _too_many(locale: str, minutes: int) -> str:
    return _n(
        locale, "Too many attempts from here. Your text is kept below: please send it again in %(num)d minute.",
        "Too many attempts from here. Your text is kept below: please send it again in %(num)d minutes.",
        minutes) % {"num": minutes}


async def submit_review(request: Request) -> Response:
    svc: Services = request.app.state.services
    posted = await _posted(svc, request)
    if isinstance(posted, Response):
        return posted
    ctx, locale, form = posted
    if "switch_lang" in form:  # the language switch, pressed with the form filled in: nothing is stored
        return _render_form(svc, ctx, request, locale, form, {})
    items, errors = validate(ctx, form, locale)
    if errors:
        return _render_form(svc, ctx, request, locale, form, errors, 422)
    ip = client_ip(request)
    async with svc.pool.acquire() as conn:
        await reviews.save_invited(
            conn, merchant_id=ctx.merchant.id, order_id=ctx.order.id, invitation_id=ctx.invitation.id,
            author_hash=ctx.order.buyer_hash, display_name=re.sub(r"\s+", " ", form["display_name"]).strip(),
            locale=locale, items=items, now=svc.clock.now(), ip_hash=svc.hasher.ip(ip) if ip else None,
            user_agent_family=user_agent_family(request.headers.get("user-agent")),
        )
    token = request.path_params["token"]
    reviewed = {item.product_id for item in items}
    return _page("review_thanks.html", locale, merchant=ctx.merchant, mode="thanks", token=token,
                 names=[s.name for s in ctx.slots if s.product_id in reviewed], days=svc.settings.review_link_days,
                 switch=_switch(f"/r/{token}", request))


async def withdraw_review(request: Request) -> Response:
    """Two steps, both POST: the first asks "are you sure?", the second (confirm=yes) withdraws."""
    svc: Services = request.app.state.services
    posted = await _posted(svc, request)
    if isinstance(posted, Response):
        return posted
    ctx, locale, form = posted
    token = request.path_params["token"]
    slot = next((s for s in ctx.slots if s.key == form.get("review")), None)
    if slot is None or slot.saved is None or slot.saved.state == "withdrawn" or locked(slot):
        return _render_form(svc, ctx, request, locale, _form_state(ctx, request),
                            {"form": _(locale, "There is no review to withdraw here.")}, 409)
    common = {"merchant": ctx.merchant, "token": token, "name": slot.name, "switch": _switch(f"/r/{token}", request)}
    if form.get("confirm") != "yes":
        return _page("review_thanks.html", locale, mode="confirm_withdraw", review_key=slot.key,
                     csrf=svc.signer.sign(tokens.CSRF, {"i": ctx.invitation.id}), **common)
    async with svc.pool.acquire() as conn:
        await reviews.withdraw_by_buyer(conn, invitation_id=ctx.invitation.id, product_id=slot.product_id,
                                            now=svc.clock.now())
    return _page("review_thanks.html", locale, mode="withdrawn", days=svc.settings.review_link_days, **common)


# --- appealing a rejection ---------------------------------------------------------------------

def _appeal_values(ctx: Context, request: Request, form: dict[str, str]) -> dict[str, Any]:
    """The page's saved values, with the appeal as typed next to the review it is about."""
    values = _form_state(ctx, request)
    key = form.get("review", "")
    if key in {s.key for s in ctx.slots}:
        values[f"appeal_{key}"] = form.get("appeal", "")
    return values


async def appeal_review(request: Request) -> Response:
    """A rejected review's author asks, once, for another moderator to look at it."""
    svc: Services = request.app.state.services
    posted = await _posted(svc, request, lambda ctx, form: _appeal_values(ctx, request, form))
    if isinstance(posted, Response):
        return posted
    ctx, locale, form = posted
    slot = next((s for s in ctx.slots if s.key == form.get("review")), None)
    already = _(locale, "There is no decision to appeal here, or you have already appealed.")
    if slot is None or slot.saved is None or not ctx.appealable(slot):
        return _render_form(svc, ctx, request, locale, _form_state(ctx, request), {"form": already}, 409)
    body = form.get("appeal", "").strip()
    error = None
    if len(body) < appeals.BODY_MIN:
        error = _(locale, "Write at least %(n)s characters.") % {"n": _number(locale, appeals.BODY_MIN)}
    elif len(body) > appeals.BODY_MAX:
        error = _(locale, "Write at most %(n)s characters.") % {"n": _number(locale, appeals.BODY_MAX)}
    if error:
        return _render_form(svc, ctx, request, locale, _appeal_values(ctx, request, form),
                            {f"appeal_{slot.key}": error}, 422)
    now = svc.clock.now()
    async with svc.pool.acquire() as conn, conn.transaction():
        appeal = await appeals.file(conn, slot.saved.id, body, now)
        if appeal is not None:
            await audit.record(conn, actor="buyer", action="review.appeal", table="appeals", row_id=appeal.id,
                               after={"review_id": slot.saved.id, "state": appeal.state}, now=now)
    if appeal is None:  # the same form sent twice at once: the other one filed it
        return _render_form(svc, ctx, request, locale, _form_state(ctx, request), {"form": already}, 409)
    token = request.path_params["token"]
    return _page("review_appealed.html", locale, merchant=ctx.merchant, token=token, name=slot.name,
                 shop_review=slot.key == SHOP, switch=_switch(f"/r/{token}", request))
