"""Order events as the API (and the platforms, translated) send them: their shape and validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer import addresses
from reviews.platform.errors import ValidationError
from reviews.platform.text import clean, unstorable

STATUSES = ("placed", "fulfilled", "delivered", "cancelled", "refunded")
MAX_PRODUCTS = 100
# Before this, a date is a mistake (a zeroed field), not an order.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    url: str | None = None
    image_url: str | None = None
    gtin: str | None = None


@dataclass(frozen=True)
class LineItem:
    """One line of a platform's order as it was sent: three colours of one product are three lines.

    The API's `products` name what may be reviewed; a platform's lines also say how many of what
    were bought, which a partial refund is judged against (`reviews.intake.orders`).
    """

    line_id: str
    product_id: str
    name: str
    quantity: int
    variant_id: str | None = None
    detail: str | None = None  # the variant's attributes, never part of the product's name


@dataclass(frozen=True)
class OrderEvent:
    order_id: str
    status: str
    occurred_at: datetime
    email: str | None
    name: str | None
    locale: str | None
    consent: bool | None
    products: list[Product] = field(default_factory=list)
    timezone: str | None = None
    # Only the platforms send these (the API has no lines nor accounts); see `webhooks.to_event`.
    lines: list[LineItem] = field(default_factory=list)
    customer_id: str | None = None


def _text(value: Any, path: str, errors: dict[str, str], *, required: bool, max_len: int) -> str | None:
    if isinstance(value, float):  # NaN, Infinity, 1e400 or 1.5: never an id or a name
        errors[path] = "must be a string"
        return None
    text = clean(value)
    if text is not None and (trouble := unstorable(text)):
        errors[path] = trouble
        return None
    if text is None:
        if value is None or isinstance(value, str):
            if required:
                errors[path] = "is required"
        else:
            errors[path] = "must be a string"
        return None
    if len(text) > max_len:
        errors[path] = f"must be at most {max_len} characters"
        return None
    return text


def _url(value: Any, path: str, errors: dict[str, str]) -> str | None:
    text = _text(value, path, errors, required=False, max_len=2000)
    if text and not re.match(r"^https?://[^\s]+$", text):
        errors[path] = "must be an http(s) URL"
        return None
    return text


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_datetime(value: Any, path: str, errors: dict[str, str]) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        errors[path] = "is required, as an ISO 8601 date and time"
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: the calendar's edges moved to UTC
        errors[path] = "must be an ISO 8601 date and time, e.g. 2026-05-01T12:00:00Z"
        return None
    if parsed < EARLIEST:
        errors[path] = f"must be after {EARLIEST.year}"
        return None
    return parsed


def parse_event(body: Any, *, smtputf8: bool = True) -> OrderEvent:
    """Check an order event from the API; every problem is reported at once, by field path."""
    if not isinstance(body, dict):
        raise ValidationError({"": "the body must be a JSON object"})
    errors: dict[str, str] = {}
    order_id = _text(body.get("order_id"), "order_id", errors, required=True, max_len=200)
    status = body.get("status")
    if status not in STATUSES:
        errors["status"] = f"must be one of {', '.join(STATUSES)}"
    occurred_at = parse_datetime(body.get("occurred_at"), "occurred_at", errors)

    customer = body.get("customer")
    email = name = locale = tz = None
    if customer is None:
        customer = {}
    if not isinstance(customer, dict):
        errors["customer"] = "must be an object"
        customer = {}
    email = _text(customer.get("email"), "customer.email", errors, required=False, max_len=320)
    if email:
        try:
            email = addresses.parse(email, smtputf8=smtputf8).normalized
        except addresses.AddressError as exc:
            errors["customer.email"] = f"is not an address we can mail: {exc}"
    name = _text(customer.get("name"), "customer.name", errors, required=False, max_len=200)
    locale = _text(customer.get("locale"), "customer.locale", errors, required=False, max_len=35)
    if locale and not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", locale):
        errors["customer.locale"] = "must be a language tag such as de or de-AT"
    tz = _text(customer.get("timezone"), "customer.timezone", errors, required=False, max_len=64)
    if tz and not _known_zone(tz):
        errors["customer.timezone"] = "must be an IANA time zone such as Europe/Berlin"

    consent = body.get("consent")
    if consent is not None and not isinstance(consent, bool):
        errors["consent"] = "must be true or false"
        consent = None

    products: list[Product] = []
    raw_products = body.get("products", [])
    if raw_products is None:
        raw_products = []
    if not isinstance(raw_products, list):
        errors["products"] = "must be a list"
        raw_products = []
    if len(raw_products) > MAX_PRODUCTS:
        errors["products"] = f"at most {MAX_PRODUCTS} products"
        raw_products = []
    seen: set[str] = set()
    for i, item in enumerate(raw_products):
        p = f"products.{i}"
        if not isinstance(item, dict):
            errors[p] = "must be an object"
            continue
        pid = _text(item.get("id"), f"{p}.id", errors, required=True, max_len=200)
        pname = _text(item.get("name"), f"{p}.name", errors, required=True, max_len=500)
        url = _url(item.get("url"), f"{p}.url", errors)
        image = _url(item.get("image_url"), f"{p}.image_url", errors)
        gtin = _text(item.get("gtin"), f"{p}.gtin", errors, required=False, max_len=14)
        if gtin and not gtin.isdigit():
            errors[f"{p}.gtin"] = "must be digits"
        if pid and pid in seen:
            errors[f"{p}.id"] = "appears twice"
        if pid:
            seen.add(pid)
        if pid and pname:
            products.append(Product(pid, pname, url, image, gtin))
    if status in ("fulfilled", "delivered") and not raw_products and "products" not in errors:
        errors["products"] = "a fulfilled or delivered order needs at least one product"
    if errors:
        raise ValidationError(errors)
    assert order_id is not None and occurred_at is not None and isinstance(status, str)
    return OrderEvent(order_id, status, occurred_at, email, name, locale, consent, products, tz)
