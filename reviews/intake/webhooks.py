"""What the shop-platform webhooks share: the merchant by slug, HMAC checks over the raw body,
delivery dedupe, and turning a platform's order into an `OrderEvent`.

The platform modules (`shopify`, `woocommerce`) only translate payloads; everything that
touches security or idempotency lives here so both get it the same way.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews.intake import events
from reviews.intake.events import LineItem, OrderEvent
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ApiError, NotFound, Unauthorized, ValidationError
from reviews.platform.http import loads
from reviews.platform.text import clean, unstorable

log = logging.getLogger("attest.webhooks")

# Optional fields a platform may fill with something our API would refuse (a malformed address,
# a relative image URL). They are dropped instead of refusing the order: the merchant cannot fix
# the platform's data, and the platform would only retry the same payload.
_DROPPABLE = ("customer.email", "customer.name", "customer.locale", "customer.timezone", "customer.country")
_DROPPABLE_PRODUCT = ("url", "image_url", "gtin", "mpn", "brand", "sku")
IDENTIFIERS = ("gtin", "mpn", "brand", "sku")
# More lines than this is no shop's order; the rest would only be stored, never reviewed.
MAX_LINES = 500
MAX_QUANTITY = 1_000_000


async def merchant_for(conn: Executor, request: Request) -> Merchant:
    merchant = await merchants.by_slug(conn, request.path_params["slug"])
    if merchant is None:
        raise NotFound("No shop with this address; check the webhook URL.")
    return merchant


def signature_ok(secret: str | None, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a base64 HMAC-SHA256 (what Shopify and WooCommerce both send) of the
    exact bytes received: re-serialised JSON would not verify."""
    if not secret or not signature:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def require_signature(secret: str | None, body: bytes, signature: str | None, setting: str) -> None:
    if not secret:
        # 401, not 500 or 200: the platform shows it in its delivery log and the merchant sees why.
        raise Unauthorized(f"No webhook secret is set for this shop; set {setting} first.")
    if not signature_ok(secret, body, signature):
        raise Unauthorized("The webhook signature does not match the body.")


async def refusing_unusable(platform: str, request: Request,
                            handle: Callable[[], Awaitable[JSONResponse]]) -> JSONResponse:
    """A signed delivery whose fields have the wrong types (a string where an object belongs, a
    quantity "abc"): a 422 the platform shows in its delivery log, not a 500 it retries for two
    days, and a warning with the reason for the operator. Nothing of it is stored: the error
    leaves the transaction that would have taken the receipt."""
    try:
        return await handle()
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        reason = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("webhook refused", exc_info=True, extra={
            "platform": platform, "shop": request.path_params.get("slug"), "reason": reason,
            "topic": request.headers.get("x-shopify-topic") or request.headers.get("x-wc-webhook-topic")})
        raise ApiError(422, "unusable_payload", f"The delivery is signed but cannot be used ({reason}).") from None


def signed_object(merchant: Merchant, request: Request, body: bytes, *, setting: str, signature_header: str,
                  topic_header: str) -> tuple[str, dict[str, Any]]:
    """The delivery's topic and its JSON object, once its signature checks out (401 otherwise,
    400 for a body that is not a JSON object)."""
    require_signature(merchant.setting(setting), body, request.headers.get(signature_header), setting)
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_json", "The body must be a JSON object.")
    return request.headers.get(topic_header, "").strip().lower(), payload


def parse_json(body: bytes) -> Any:
    try:
        return loads(body)
    except ValueError as exc:  # not JSON, not UTF-8, NaN, nested past the stack
        raise ApiError(400, "bad_json", f"The body is not valid JSON: {exc}") from None


async def claim(conn: Connection, merchant_id: int, platform: str, delivery_id: str | None) -> bool:
    """Record a delivery id; False if it was seen before. Call inside the transaction doing the
    work, so a delivery that failed half-way leaves no receipt and its retry is processed.
    A concurrent duplicate waits on the primary key until the first commits, then loses."""
    if not delivery_id:
        return True  # nothing to dedupe on; ingestion is idempotent per (order, status) anyway
    return bool(await conn.fetchval(
        """INSERT INTO webhook_receipts (merchant_id, platform, delivery_id) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        merchant_id, platform, delivery_id[:200],
    ))


async def last_deliveries(conn: Executor, merchant_id: int) -> dict[str, datetime]:
    """When each platform last sent this shop a delivery that verified (a receipt is only taken
    once the signature checked out), by platform name."""
    rows = await conn.fetch(
        "SELECT platform, max(received_at) AS at FROM webhook_receipts WHERE merchant_id = $1 GROUP BY platform",
        merchant_id)
    return {r["platform"]: r["at"] for r in rows}


def answer(status: str, **extra: Any) -> JSONResponse:
    # Always 200 for anything we accepted or chose to ignore: both platforms treat other codes as
    # failures (Shopify retries for 48 hours, WooCommerce disables the hook after a few).
    return JSONResponse({"status": status, **extra}, status_code=200)


def text(value: Any, max_len: int) -> str | None:
    """A platform string, trimmed to what our columns accept; numbers (ids) become strings. Text no
    column can hold (a NUL, a lone surrogate) is a ValueError: the delivery is refused with a 422
    (`refusing_unusable`), never stripped into another value (an address with a NUL taken out could
    name another buyer to erase)."""
    value = clean(value)
    if value and (problem := unstorable(value)):
        raise ValueError(f"a text field {problem}")
    return value[:max_len] if value else None


def full_name(first: Any, last: Any) -> str | None:
    name = " ".join(p for p in (text(first, 100), text(last, 100)) if p)
    return name or None


def quantity(value: Any, *, strict: bool = False) -> int:
    """A line's quantity; a line that is there but says no number counts as one, except where the
    number decides something (`strict`: a refund's), where it is a ValueError."""
    number: int | None = None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, float) and value.is_integer() and value >= 0:
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        number = value
    if number is None:
        if strict:
            raise ValueError(f"quantity {str(value)[:40]!r} is not a number")
        return 1
    return min(number, MAX_QUANTITY)


def line(raw: dict[str, Any], pid: str, name: str, *, variant: Any, detail: str | None, n: int,
         sku: Any = None, gtin: Any = None, mpn: Any = None, brand: Any = None) -> LineItem:
    # A line without an id (a hand-made payload) still needs one that is stable across deliveries.
    line_id = text(raw.get("id"), 200) or f"{pid}#{n}"
    # Identifiers are never cut short (a truncated SKU names another product): one too long for the
    # API is dropped by `to_event`, like any optional field it would refuse.
    return LineItem(line_id, pid, name, quantity(raw.get("quantity")), text(variant or None, 200), detail,
                    sku=text(sku, 1000), gtin=gtin_digits(gtin), mpn=text(mpn, 1000), brand=text(brand, 1000))


def gtin_digits(value: Any) -> str | None:
    """A GTIN as platforms and plugins write it ("978-3-16-148410-0", "4006381 333931"), as its digits;
    None unless it has the 8 to 14 digits of one."""
    raw = text(value, 40)
    digits = raw.replace("-", "").replace(" ", "") if raw else ""
    return digits if digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 14 else None


def country(*candidates: Any) -> str | None:
    """The first of these that is a two-letter country code, upper case."""
    for candidate in candidates:
        code = text(candidate, 10)
        if code and len(code) == 2 and code.isascii() and code.isalpha():
            return code.upper()
    return None


def products(lines: list[LineItem], images: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The reviewable products of these lines, in order: one per product id, whatever its variants,
    each with the first identifiers (SKU, GTIN, MPN, brand) its lines carry."""
    found: dict[str, dict[str, str]] = {}
    for item in lines:
        if item.product_id not in found:
            found[item.product_id] = {"id": item.product_id, "name": item.name}
            image = (images or {}).get(item.product_id)
            if image:
                found[item.product_id]["image_url"] = image
        product = found[item.product_id]
        for key in IDENTIFIERS:
            value = getattr(item, key)
            if value and key not in product:
                product[key] = value
    return list(found.values())[:events.MAX_PRODUCTS]


def to_event(body: dict[str, Any]) -> OrderEvent | str:
    """An API-shaped body → OrderEvent through the API's own validation, or why it is ignored.

    Optional fields the API would refuse are dropped; a missing order id or time still fails (422).
    The platform's extras beside the API's fields (`lines`, `customer_id`) are carried over as given:
    the platform modules built them and the API never sees them.
    """
    lines: list[LineItem] = body.pop("lines", None) or []
    customer_id = body.pop("customer_id", None)
    event = _to_event(body)
    if isinstance(event, str):
        return event
    return dataclasses.replace(event, lines=lines[:MAX_LINES], customer_id=customer_id)


def _to_event(body: dict[str, Any]) -> OrderEvent | str:
    if body["status"] in ("fulfilled", "delivered") and not body.get("products"):
        # Nothing to review (a gift card, a tip): the API refuses these too.
        return "no_reviewable_products"
    try:
        return events.parse_event(body)
    except ValidationError as exc:
        droppable = [p for p in exc.fields if p in _DROPPABLE
                     or (p.startswith("products.") and p.rsplit(".", 1)[-1] in _DROPPABLE_PRODUCT)]
        if len(droppable) < len(exc.fields):
            raise
        for path in droppable:
            parts = path.split(".")
            target: Any = body
            for part in parts[:-1]:
                target = target[int(part)] if isinstance(target, list) else target[part]
            target.pop(parts[-1], None)
        return events.parse_event(body)
