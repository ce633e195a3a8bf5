"""A shop's settings (owner): the form, checked exactly as PATCH /api/v1/merchant/settings checks
its body (`reviews.merchants.settings.parse_patch`), errors beside their fields and nothing stored
on error; a preview of the invitation email in each language, rendered by the mailer as the worker
would send it; and the platform connection: the webhook addresses, the secrets (set or replaced,
never shown back) and when each platform last delivered something that verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mailer.wire import OutgoingMessage
from reviews.console.errors import PageNotFound
from reviews.console.guards import posted, shop_page
from reviews.console.shop import zones
from reviews.console.shops import Shop, render_shop
from reviews.console.web import Form, _, first
from reviews.intake import orders, webhooks
from reviews.invitations import sending
from reviews.merchants import settings as merchant_settings
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import audit
from reviews.platform.errors import ValidationError
from reviews.platform.settings import SUPPORTED_LOCALES

# The form's fields: every setting but the secrets, which have the platform form of their own.
FIELDS = tuple(k for k in merchant_settings.DEFAULT_SETTINGS if k not in merchant_settings.SECRET_SETTINGS)
FLAGS = tuple(k for k in FIELDS if isinstance(merchant_settings.DEFAULT_SETTINGS[k], bool))
DAYS = tuple(k for k in FIELDS if k not in FLAGS and isinstance(merchant_settings.DEFAULT_SETTINGS[k], int))
PLATFORMS = (("shopify", "shopify_secret", "Shopify"), ("woocommerce", "woocommerce_secret", "WooCommerce"))
KINDS = ("invitation", "reminder")
# The preview is the shop's own email, shown in a sandboxed frame of the console: no script, no
# form, no request but its images.
PREVIEW_CSP = ("default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'self'; sandbox")


def body_of(form: Form) -> dict[str, Any]:
    """The form as the API's JSON body: days as numbers (anything else is left as typed, for the
    rule to refuse), switches as booleans, text as text (blank clears it, as null does)."""
    body: dict[str, Any] = {}
    for key in FIELDS:
        value = first(form, key).strip()
        if key in FLAGS:
            body[key] = value == "on"
        elif key in DAYS:
            body[key] = int(value) if value.isascii() and value.isdigit() and len(value) < 6 else value
        else:
            body[key] = value
    return body


def _values(merchant: Merchant) -> dict[str, Any]:
    return {k: merchant.setting(k) for k in FIELDS}


@dataclass(frozen=True)
class Platform:
    name: str
    setting: str
    label: str
    url: str
    secret_set: bool
    last_delivery: Any


async def _platforms(found: Shop) -> list[Platform]:
    svc, merchant = found.who.svc, found.merchant
    last = await webhooks.last_deliveries(svc.pool, merchant.id)
    return [Platform(name, setting, label, svc.url(f"/hooks/{name}/{merchant.slug}"), bool(merchant.setting(setting)),
                     last.get(name)) for name, setting, label in PLATFORMS]


def _preview_choice(request: Request, merchant: Merchant) -> tuple[str, str]:
    lang = request.query_params.get("preview") or ""
    kind = request.query_params.get("kind") or ""
    return (lang if lang in SUPPORTED_LOCALES else merchant.locale), (kind if kind in KINDS else "invitation")


async def _render(found: Shop, request: Request, *, status_code: int = 200, values: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, platform_errors: dict[str, str] | None = None,
                  saved: str | None = None) -> Response:
    preview_lang, preview_kind = _preview_choice(request, found.merchant)
    message = await _sample(found, preview_lang, preview_kind)
    return render_shop(
        "shop_settings.html", found, section="settings", status_code=status_code,
        values=values if values is not None else _values(found.merchant), errors=errors or {},
        platform_errors=platform_errors or {}, flags=FLAGS, days=DAYS,
        zones=zones.choices(found.who.locale, found.merchant),
        platforms=await _platforms(found), saved=saved if saved is not None else request.query_params.get("saved"),
        preview_lang=preview_lang, preview_kind=preview_kind, kinds=KINDS,
        preview_subject=str(message.as_email()["Subject"] or ""), max_days=merchant_settings.MAX_DAYS)


@shop_page("owner")
async def settings_page(request: Request, found: Shop) -> Response:
    return await _render(found, request)


def _changes(merchant: Merchant, checked: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the shop's current settings: an untouched default stays a default."""
    return {k: v for k, v in checked.items() if v != merchant.setting(k)}


@shop_page("owner")
async def save(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    body = body_of(form)
    body["timezone"] = zones.canonical(body["timezone"])
    try:
        checked = merchant_settings.parse_patch(body)
    except ValidationError as exc:
        shown = {k: (body[k] if k not in FLAGS else bool(body[k])) for k in FIELDS}
        return await _render(found, request, status_code=422, values=shown, errors=exc.fields)
    return await _store(found, _changes(found.merchant, checked), "settings")


async def _store(found: Shop, changes: dict[str, Any], what: str) -> Response:
    svc, merchant = found.who.svc, found.merchant
    assert found.who.user is not None
    if changes:
        async with svc.pool.acquire() as conn, conn.transaction():
            updated = await merchants.update_settings(conn, merchant, changes)
            shown_before, shown_after = merchant.public_settings(), updated.public_settings()
            await audit.record(conn, actor=found.who.user.email, action="merchant.settings", table="merchants",
                               row_id=merchant.id, before={k: shown_before[k] for k in changes},
                               after={k: shown_after[k] for k in changes}, now=svc.clock.now())
    anchor = "#platform" if what == "platform" else ""
    return RedirectResponse(f"/console/m/{merchant.slug}/settings?saved={what}{anchor}", status_code=303)


@shop_page("owner")
async def save_platform(request: Request, found: Shop) -> Response:
    """Set or replace a webhook secret; a blank field keeps the secret there is."""
    form = await posted(request, found.who)
    body = {setting: first(form, setting) for _name, setting, _label in PLATFORMS if first(form, setting).strip()}
    try:
        checked = merchant_settings.parse_patch(body)
    except ValidationError as exc:
        return await _render(found, request, status_code=422, platform_errors=exc.fields)
    return await _store(found, checked, "platform")


async def _sample(found: Shop, lang: str, kind: str) -> OutgoingMessage:
    svc = found.who.svc
    products = [(p.name, p.image_url) for p in await orders.recent_products(svc.pool, found.merchant.id, 2)]
    return sending.sample_message(svc, found.merchant, lang, "reminder" if kind == "reminder" else "invitation",
                                  to_name="Alex", products=products or [(_(lang, "Sample product"), None)])


@shop_page("owner")
async def preview(request: Request, found: Shop) -> Response:
    """The invitation (or reminder) email's HTML part in one language, for the settings page's frame."""
    lang = str(request.path_params.get("lang", ""))
    kind = request.query_params.get("kind") or "invitation"
    if lang not in SUPPORTED_LOCALES or kind not in KINDS:
        raise PageNotFound()
    part = (await _sample(found, lang, kind)).get_body(("html",))
    html = part.get_content() if part is not None else ""
    return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_CSP, "X-Frame-Options": "SAMEORIGIN",
                                       "Cache-Control": "no-store", "Content-Language": lang,
                                       "Referrer-Policy": "no-referrer"})
