"""Order events as the API (and the platforms, translated) send them: their shape and validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import pydantic

from mailer import addresses
from reviews.platform import bodies
from reviews.platform.bodies import Checked, refuse
from reviews.platform.errors import ValidationError

Status = Literal["placed", "fulfilled", "delivered", "cancelled", "refunded"]
STATUSES: tuple[str, ...] = get_args(Status)
MAX_PRODUCTS = 100
# Before this year, a date is a mistake (a zeroed field), not an order.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# An id sent as a JSON number: what a bigint column (the platforms' ids) holds.
MAX_NUMERIC_ID = 2**63 - 1
# Only these need a product to review.
NEEDS_PRODUCTS = ("fulfilled", "delivered")


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    url: str | None = None
    image_url: str | None = None
    # What Google's product review feed matches a product by; any may be unknown.
    gtin: str | None = None
    mpn: str | None = None
    brand: str | None = None
    sku: str | None = None


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
    # The line's product identifiers as the platform sent them (`webhooks.products` gives each
    # product the first it finds among its lines); not stored with the line.
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    brand: str | None = None


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
    country: str | None = None  # ISO 3166-1 alpha-2, upper case: where the order went


# The body of POST /api/v1/orders. Each field type carries its check and its JSON Schema together
# (`bodies.Checked`), so /openapi.json says what is refused; what no JSON Schema can say is in the
# descriptions and checked in `parse_event` (a product id twice) or by `orders.ingest` (too far ahead).

def _order_id(value: Any, context: Mapping[str, Any]) -> str | None:
    return bodies.text(value, max_len=200, required=True, numbers_up_to=MAX_NUMERIC_ID)


def _occurred_at(value: Any, context: Mapping[str, Any]) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise refuse("is required, as an ISO 8601 date and time")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise refuse("must be an ISO 8601 date and time, e.g. 2026-05-01T12:00:00Z") from None
    # The year as written, as the schema's pattern has it (2000-01-01T00:00+01:00 is in 2000).
    if parsed.year < EARLIEST.year:
        raise refuse(f"must be after {EARLIEST.year}")
    try:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # the calendar's end, moved to UTC
        raise refuse("must be an ISO 8601 date and time, e.g. 2026-05-01T12:00:00Z") from None


def _email(value: Any, context: Mapping[str, Any]) -> str | None:
    text = bodies.text(value, max_len=320)
    if text is None:
        return None
    try:
        return addresses.parse(text, smtputf8=context.get("smtputf8", True)).normalized
    except addresses.AddressError as exc:
        raise refuse(f"is not an address we can mail: {exc}") from None


def _name(value: Any, context: Mapping[str, Any]) -> str | None:
    return bodies.text(value, max_len=200)


_LOCALE = r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*"


def _locale(value: Any, context: Mapping[str, Any]) -> str | None:
    text = bodies.text(value, max_len=35)
    if text and not re.fullmatch(_LOCALE, text):
        raise refuse("must be a language tag such as de or de-AT")
    return text


def _timezone(value: Any, context: Mapping[str, Any]) -> str | None:
    text = bodies.text(value, max_len=64)
    if text and not bodies.known_zone(text):
        raise refuse("must be an IANA time zone such as Europe/Berlin")
    return text


_COUNTRY = "[A-Za-z]{2}"


def _country(value: Any, context: Mapping[str, Any]) -> str | None:
    wrong = refuse("must be a two-letter ISO 3166-1 country code such as DE")
    if isinstance(value, str) and len(value) > 2:  # "Germany": say what is wanted, not only "too long"
        raise wrong
    text = bodies.text(value, max_len=2)
    if text and not re.fullmatch(_COUNTRY, text):
        raise wrong
    return text.upper() if text else None


def _product_id(value: Any, context: Mapping[str, Any]) -> str | None:
    return bodies.text(value, max_len=200, required=True, numbers_up_to=MAX_NUMERIC_ID)


def _product_name(value: Any, context: Mapping[str, Any]) -> str | None:
    return bodies.text(value, max_len=500, required=True)


_URL = f"https?://[^{bodies.SPACE}\\x00]+"


def _url(value: Any, context: Mapping[str, Any]) -> str | None:
    text = bodies.text(value, max_len=2000)
    if text and not re.fullmatch(_URL, text):
        raise refuse("must be an http(s) URL")
    return text


# A GTIN has at most 14 digits; as a number, the largest of them.
_MAX_GTIN = 10**14 - 1


def _gtin(value: Any, context: Mapping[str, Any]) -> str | None:
    text = bodies.text(value, max_len=14, numbers_up_to=_MAX_GTIN)
    if text and not re.fullmatch(r"[0-9]+", text):
        raise refuse("must be digits")
    return text


# Google's limits for the same attributes in a product feed.
MAX_MPN = 70
MAX_BRAND = 70
MAX_SKU = 200


def _mpn(value: Any, context: Mapping[str, Any]) -> str | None:
    return bodies.text(value, max_len=MAX_MPN, numbers_up_to=MAX_NUMERIC_ID)


def _brand(value: Any, context: Mapping[str, Any]) -> str | None:
    return bodies.text(value, max_len=MAX_BRAND)


def _sku(value: Any, context: Mapping[str, Any]) -> str | None:
    return bodies.text(value, max_len=MAX_SKU, numbers_up_to=MAX_NUMERIC_ID)


OrderId = Annotated[str, Checked(_order_id, bodies.text_schema(
    200, required=True, numbers_up_to=MAX_NUMERIC_ID,
    description="The shop's order id: text, or a whole number (sent back as text)."))]
# A calendar date from 2000 on, leap days included, exactly as `datetime.fromisoformat` reads one.
_LEAP_YEAR = "([2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)"
_DATE = (f"([2-9][0-9]{{3}}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
         f"|{_LEAP_YEAR}-02-29)")
# No `format: date-time`: RFC 3339 requires an offset, and a shop's time without one is taken as UTC.
OccurredAt = Annotated[datetime, Checked(_occurred_at, {
    "type": "string",
    "pattern": f"^[{bodies.SPACE}]*{_DATE}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{{1,6}})?)?"
               f"([Zz]|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?[{bodies.SPACE}]*$",
    "description": "When it happened, ISO 8601 (UTC when no offset is given): from the year 2000, and at "
                   "most 60 days ahead of the server's clock."})]
Email = Annotated[str | None, Checked(_email, {
    "type": ["string", "null"], "maxLength": 320, "anyOf": [{"format": "email"}, {"pattern": bodies.BLANK}],
    "description": "The buyer's address, one that can be mailed; blank or null for none."})]
Name = Annotated[str | None, Checked(_name, bodies.text_schema(200))]
Locale = Annotated[str | None, Checked(_locale, bodies.text_schema(
    35, pattern=bodies.blank_or(_LOCALE), description="A language tag such as de or de-AT."))]
TimeZone = Annotated[str | None, Checked(_timezone, bodies.text_schema(
    64, anyOf=[{"enum": list(bodies.ZONES)}, {"pattern": bodies.BLANK}],
    description="The buyer's IANA time zone, for the send window."))]
ProductId = Annotated[str, Checked(_product_id, bodies.text_schema(
    200, required=True, numbers_up_to=MAX_NUMERIC_ID, description="Unique within the order."))]
ProductName = Annotated[str, Checked(_product_name, bodies.text_schema(500, required=True))]
Url = Annotated[str | None, Checked(_url, bodies.text_schema(2000, pattern=bodies.blank_or(_URL)))]
Gtin = Annotated[str | None, Checked(_gtin, bodies.text_schema(
    14, numbers_up_to=_MAX_GTIN, pattern=bodies.blank_or("[0-9]+"),
    description="The product's GTIN (EAN, UPC, JAN or ISBN-13), digits only."))]
Mpn = Annotated[str | None, Checked(_mpn, bodies.text_schema(
    MAX_MPN, numbers_up_to=MAX_NUMERIC_ID, description="The manufacturer's part number."))]
Brand = Annotated[str | None, Checked(_brand, bodies.text_schema(MAX_BRAND, description="The product's brand."))]
Sku = Annotated[str | None, Checked(_sku, bodies.text_schema(
    MAX_SKU, numbers_up_to=MAX_NUMERIC_ID, description="The shop's stock keeping unit for it."))]
Country = Annotated[str | None, Checked(_country, bodies.text_schema(
    2, pattern=bodies.blank_or(_COUNTRY),
    description="Where the order is shipped (else billed): an ISO 3166-1 alpha-2 code such as DE. Google's "
                "review feed says it as the review's country."))]


class CustomerBody(pydantic.BaseModel):
    email: Email = None
    name: Name = None
    locale: Locale = None
    timezone: TimeZone = None
    country: Country = None


class ProductBody(pydantic.BaseModel):
    id: ProductId
    name: ProductName
    url: Url = None
    image_url: Url = None
    gtin: Gtin = None
    mpn: Mpn = None
    brand: Brand = None
    sku: Sku = None


class OrderEventBody(pydantic.BaseModel):
    """An order event as the API takes it; the platforms' payloads are translated into one."""

    model_config = pydantic.ConfigDict(json_schema_extra={
        # What "a fulfilled or delivered order needs at least one product" is in JSON Schema.
        "if": {"properties": {"status": {"enum": list(NEEDS_PRODUCTS)}}, "required": ["status"]},
        "then": {"required": ["products"], "properties": {"products": {"type": "array", "minItems": 1}}},
    })

    order_id: OrderId
    status: Status
    occurred_at: OccurredAt
    customer: CustomerBody | None = None
    consent: pydantic.StrictBool | None = None
    products: Annotated[list[ProductBody] | None, pydantic.Field(max_length=MAX_PRODUCTS)] = None


_MESSAGES = {"status": f"must be one of {', '.join(STATUSES)}", "products:too_long": f"at most {MAX_PRODUCTS} products"}


def parse_event(body: Any, *, smtputf8: bool = True) -> OrderEvent:
    """Check an order event from the API; every problem is reported at once, by field path."""
    errors: dict[str, str] = {}
    checked: OrderEventBody | None = None
    try:
        checked = OrderEventBody.model_validate(body, context={"smtputf8": smtputf8})
    except pydantic.ValidationError as exc:
        errors = bodies.field_errors(exc, _MESSAGES)
    if isinstance(body, dict):
        errors.update(_across_fields(body, errors))
    if errors or checked is None:
        raise ValidationError(errors)
    customer = checked.customer or CustomerBody()
    # One product listed on several lines (two variants, say) is one product to review: its first line
    # names it. The schema cannot say "unique by id", so the API does not refuse what the schema allows.
    firsts: dict[str, Any] = {}
    for line in checked.products or []:
        firsts.setdefault(line.id, line)
    products = [Product(p.id, p.name, p.url, p.image_url, p.gtin, p.mpn, p.brand, p.sku) for p in firsts.values()]
    return OrderEvent(checked.order_id, checked.status, checked.occurred_at, customer.email, customer.name,
                      customer.locale, checked.consent, products, customer.timezone, country=customer.country)


def _across_fields(body: dict[str, Any], errors: Mapping[str, str]) -> dict[str, str]:
    """The rules between fields, checked on the body as sent so that they are reported beside the
    fields' own problems."""
    found: dict[str, str] = {}
    products = body.get("products")
    if body.get("status") in NEEDS_PRODUCTS and not products and "products" not in errors:
        found["products"] = "a fulfilled or delivered order needs at least one product"
    return found
