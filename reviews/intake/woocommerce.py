"""WooCommerce webhooks at POST /hooks/woocommerce/{slug}: `order.created` and `order.updated`.

WooCommerce signs the body with the webhook's secret (`X-WC-Webhook-Signature`, base64
HMAC-SHA256), names the topic in `X-WC-Webhook-Topic` and sends the order as the REST API's
Order resource. When a webhook is saved it first posts an unsigned ping, `webhook_id=N`, and
only activates the hook if that gets a 200.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews.intake import events, orders, webhooks
from reviews.intake.webhooks import full_name, text
from reviews.platform.http import read_body
from reviews.platform.services import Services

PLATFORM = "woocommerce"
TOPICS = ("order.created", "order.updated")
# Order status → event. `failed`, `checkout-draft` and custom statuses are not events for us.
STATUSES = {
    "pending": "placed", "on-hold": "placed", "processing": "placed",
    "completed": "fulfilled",
    "cancelled": "cancelled", "refunded": "refunded",
}
# WooCommerce knows no buyer language, so the billing country stands in for it: the country's
# main language where Attest speaks it (Switzerland → German, its largest language; Belgium and
# Luxembourg → French; Moldova → Romanian), English everywhere else. A site in several languages
# can send the buyer's own choice in the order meta `attest_locale`, which wins.
COUNTRY_LOCALES = {
    "DE": "de", "AT": "de", "CH": "de",
    "ES": "es",
    "IT": "it",
    "PL": "pl",
    "RO": "ro", "MD": "ro",
    "FR": "fr", "BE": "fr", "LU": "fr",
}
CONSENT_KEYS = {"attest_review_consent", "review_consent"}
_YES = {"1", "yes", "y", "true", "on", "accepted"}
_NO = {"0", "no", "n", "false", "off", "declined"}
_PING = re.compile(rb"webhook_id=\d+")


def is_ping(body: bytes) -> bool:
    return _PING.fullmatch(body.strip()) is not None


def locale_for(country: Any) -> str:
    return COUNTRY_LOCALES.get(str(country or "").strip().upper(), "en")


def _meta(order: dict[str, Any]) -> dict[str, Any]:
    # Plugins store the same field with or without the "hidden" underscore prefix.
    meta_data = order.get("meta_data")
    entries = meta_data if isinstance(meta_data, list) else []
    return {str(m.get("key", "")).lstrip("_").lower(): m.get("value") for m in entries if isinstance(m, dict)}


def consent(order: dict[str, Any]) -> bool | None:
    meta = _meta(order)
    for key in CONSENT_KEYS:
        value = meta.get(key)
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if value is not None else ""
        if word in _YES:
            return True
        if word in _NO:
            return False
    return None


def _entities(value: Any, max_len: int) -> str | None:
    """A WooCommerce string with its HTML entities decoded, once: it sends product names escaped
    for a web page ("Ship Your Idea &ndash; Color: Black"), and the email escapes them again."""
    raw = text(value, max_len * 2)
    return text(html.unescape(raw), max_len) if raw else None


# Where WooCommerce and the common feed plugins keep a line's GTIN, MPN and brand, as `_meta` keys
# (lower case, without the underscore): WooCommerce's own GTIN field (9.2+), Google Listings & Ads,
# Product Feed PRO, EAN for WooCommerce, and plain custom fields.
GTIN_KEYS = ("global_unique_id", "gtin", "wc_gla_gtin", "wpm_gtin_code", "alg_ean", "ean", "upc", "isbn")
MPN_KEYS = ("mpn", "wc_gla_mpn", "wpm_mpn")
BRAND_KEYS = ("brand", "wc_gla_brand", "pa_brand", "product_brand")


def _first(found: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((found[k] for k in keys if found.get(k) not in (None, "")), None)


def identifiers(line: dict[str, Any]) -> dict[str, Any]:
    """A line's SKU, and its GTIN, MPN and brand where WooCommerce or a plugin put them on the line."""
    meta = _meta(line)
    fields = {**meta, **{k: line.get(k) for k in GTIN_KEYS if line.get(k) not in (None, "")}}
    brand = _first(fields, BRAND_KEYS)
    return {"sku": line.get("sku") or None, "gtin": _first(fields, GTIN_KEYS), "mpn": _first(fields, MPN_KEYS),
            "brand": _entities(brand, 1000) if isinstance(brand, str) else None}


def _attributes(meta_data: Any) -> str | None:
    """The variation's attributes as WooCommerce shows them ("Colour: Black, Size: M")."""
    shown = []
    for m in meta_data if isinstance(meta_data, list) else []:
        # Keys with the "hidden" underscore are plugins' bookkeeping, not what the buyer chose.
        if not isinstance(m, dict) or str(m.get("key", "")).startswith("_"):
            continue
        key, value = _entities(m.get("display_key"), 100), _entities(m.get("display_value"), 200)
        if key and value:
            shown.append(f"{key}: {value}")
    return ", ".join(shown)[:500] or None


def _name_and_detail(line: dict[str, Any]) -> tuple[str | None, str | None]:
    """The product's name, and the variation's attributes as a detail, never part of the name.

    A variation's line is named "Parent – attributes". Newer WooCommerce sends the parent's name
    too (`parent_name`); without it, the part before WooCommerce's " – " is the product's name.
    """
    name = _entities(line.get("name"), 500)
    parent = _entities(line.get("parent_name"), 500)
    attributes = _attributes(line.get("meta_data"))
    if not name or not (parent or line.get("variation_id")):
        return parent or name, attributes
    if parent:
        rest = name[len(parent):].strip(" -–") if name.startswith(parent) else ""
        return parent, rest or attributes
    base, sep, rest = name.partition(" – ")
    return (base.strip(), rest.strip() or attributes) if sep and base.strip() else (name, attributes)


def lines(raw: Any) -> tuple[list[events.LineItem], dict[str, str]]:
    """The order's lines and each product's image."""
    found: list[events.LineItem] = []
    images: dict[str, str] = {}
    for line in raw if isinstance(raw, list) else []:
        if not isinstance(line, dict):
            continue
        # product_id is the parent product (variations share it) and 0 once the product is deleted.
        pid = text(line.get("product_id") or None, 200) or text(line.get("sku"), 200)
        name, detail = _name_and_detail(line)
        if not pid or not name:
            continue
        found.append(webhooks.line(line, pid, name, variant=line.get("variation_id"), detail=detail, n=len(found),
                                   **identifiers(line)))
        image = text((line.get("image") or {}).get("src") if isinstance(line.get("image"), dict) else None, 2000)
        if image:
            images.setdefault(pid, image)
    return found[:webhooks.MAX_LINES], images


def order_body(order: dict[str, Any]) -> dict[str, Any] | None:
    """A WooCommerce order as an order event for `events.parse_event`; None if its status is no event."""
    status = STATUSES.get(str(order.get("status") or ""))
    if status is None:
        return None
    billing = order.get("billing") or {}
    shipping = order.get("shipping") or {}
    # The *_gmt fields are UTC without an offset; the others are the shop's local time.
    when = {
        "placed": ("date_created_gmt", "date_modified_gmt"),
        "fulfilled": ("date_completed_gmt", "date_modified_gmt"),
        "cancelled": ("date_modified_gmt", "date_created_gmt"),
        "refunded": ("date_modified_gmt", "date_created_gmt"),
    }[status]
    meta_locale = text(_meta(order).get("attest_locale"), 35)
    found, images = lines(order.get("line_items"))
    return {
        "order_id": text(order.get("id"), 200),
        "status": status,
        "occurred_at": next((order[k] for k in when if order.get(k)), None),
        "customer": {
            "email": text(billing.get("email"), 320),
            "name": full_name(billing.get("first_name"), billing.get("last_name"))
            or full_name(shipping.get("first_name"), shipping.get("last_name")),
            "locale": meta_locale or locale_for(billing.get("country") or shipping.get("country")),
            "country": webhooks.country(shipping.get("country"), billing.get("country")),
        },
        "consent": consent(order),
        "products": webhooks.products(found, images),
        "lines": found,
        # 0 is a guest checkout: no account to match a data request on.
        "customer_id": text(order.get("customer_id") or None, 200),
    }


def _delivery_key(delivery_id: str | None, body: bytes) -> str | None:
    # WooCommerce makes the delivery id from the webhook id and the current *second*, so two orders
    # sent in the same second share it; the body's digest keeps them apart, a true repeat still matches.
    if not delivery_id:
        return None
    return f"{delivery_id.strip()[:100]}:{hashlib.sha256(body).hexdigest()[:32]}"


async def receive(request: Request) -> JSONResponse:
    return await webhooks.refusing_unusable(PLATFORM, request, lambda: _receive(request))


async def _receive(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    body = await read_body(request)
    merchant = await webhooks.merchant_for(svc.pool, request)
    if is_ping(body):
        # Signed or not, the ping carries no data; answering 200 is what activates the webhook.
        return webhooks.answer("ping")
    topic, payload = webhooks.signed_object(merchant, request, body, setting="woocommerce_secret",
                                            signature_header="x-wc-webhook-signature",
                                            topic_header="x-wc-webhook-topic")
    if topic not in TOPICS:
        return webhooks.answer("ignored", reason="unknown_topic", topic=topic)
    mapped = order_body(payload)
    if mapped is None:
        return webhooks.answer("ignored", reason=f"status_{str(payload.get('status'))[:40]}", topic=topic)
    event = webhooks.to_event(mapped)
    if isinstance(event, str):
        return webhooks.answer("ignored", reason=event, topic=topic)
    delivery = _delivery_key(request.headers.get("x-wc-webhook-delivery-id"), body)
    async with svc.pool.acquire() as conn, conn.transaction():
        if not await webhooks.claim(conn, merchant.id, PLATFORM, delivery):
            return webhooks.answer("duplicate", topic=topic)
        answer, replayed = await orders.ingest(conn, merchant, event, now=svc.clock.now(), hasher=svc.hasher,
                                               source=PLATFORM)
    return webhooks.answer("replayed" if replayed else "processed", topic=topic, order=answer)
