"""Shopify webhooks at POST /hooks/shopify/{slug}: orders, refunds and the privacy topics.

Shopify signs the raw body with the webhook secret (`X-Shopify-Hmac-Sha256`, base64), names the
topic in `X-Shopify-Topic` and the delivery in `X-Shopify-Webhook-Id` (the same on retries).
It retries anything but a 2xx for 48 hours, so whatever we choose not to act on still gets 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews.intake import events, orders, webhooks
from reviews.intake.webhooks import full_name, text
from reviews.merchants.model import Merchant
from reviews.platform.db import Connection
from reviews.platform.http import read_body
from reviews.platform.services import Services

PLATFORM = "shopify"
ORDER_TOPICS = {"orders/create": "placed", "orders/fulfilled": "fulfilled", "orders/cancelled": "cancelled"}
PRIVACY_TOPICS = ("customers/redact", "customers/data_request", "shop/redact")
TOPICS = (*ORDER_TOPICS, "refunds/create", *PRIVACY_TOPICS)


def consent(order: dict[str, Any]) -> bool | None:
    """Only a yes or an explicit opt-out counts: an unticked marketing box is not a "no" to review
    requests, so it stays None and the merchant's `require_consent` decides."""
    customer = order.get("customer") or {}
    state = str((customer.get("email_marketing_consent") or {}).get("state") or "").lower()
    if order.get("buyer_accepts_marketing") is True or state == "subscribed":
        return True
    if state == "unsubscribed":
        return False
    return None


def lines(raw: Any) -> list[events.LineItem]:
    """Reviewable lines, one per line as Shopify sends them: product id (or SKU when the product is
    gone), no tips, custom lines or gift cards. Variants of one product stay separate lines."""
    found: list[events.LineItem] = []
    for line in raw if isinstance(raw, list) else []:
        if not isinstance(line, dict) or line.get("gift_card") is True:
            continue
        pid = text(line.get("product_id"), 200) or text(line.get("sku"), 200)
        name = text(line.get("title"), 500) or text(line.get("name"), 500)
        if pid and name:
            # An order's line carries the variant's SKU and the product's vendor (its brand); the
            # barcode (GTIN) is not in order webhooks, only in the Products API.
            found.append(webhooks.line(line, pid, name, variant=line.get("variant_id"),
                                       detail=text(line.get("variant_title"), 500), n=len(found),
                                       sku=line.get("sku"), brand=line.get("vendor")))
    return found[:webhooks.MAX_LINES]


def _buyer_name(order: dict[str, Any]) -> str | None:
    customer = order.get("customer") or {}
    for source in (customer, order.get("billing_address") or {}, order.get("shipping_address") or {}):
        name = full_name(source.get("first_name"), source.get("last_name")) or text(source.get("name"), 200)
        if name:
            return name[:200]
    return None


def order_body(topic: str, order: dict[str, Any]) -> dict[str, Any]:
    """A Shopify order (the REST Order resource) as an order event for `events.parse_event`."""
    customer = order.get("customer") or {}
    status = ORDER_TOPICS[topic]
    when = {
        "placed": (order.get("created_at"), order.get("processed_at")),
        # orders/fulfilled is sent when the last item ships, which is also when updated_at moved.
        "fulfilled": (order.get("updated_at"), order.get("processed_at")),
        "cancelled": (order.get("cancelled_at"), order.get("updated_at")),
    }[status]
    body: dict[str, Any] = {
        "order_id": text(order.get("id"), 200),
        "status": status,
        "occurred_at": next((w for w in when if w), None),
        "customer": {
            "email": text(order.get("email"), 320) or text(order.get("contact_email"), 320)
            or text(customer.get("email"), 320),
            "name": _buyer_name(order),
            "locale": text(order.get("customer_locale"), 35),
        },
        "consent": consent(order),
    }
    found = lines(order.get("line_items"))
    # One review per product, as the API wants: the variants share the product's id.
    body.update(products=webhooks.products(found), lines=found, customer_id=text(customer.get("id"), 200))
    shipping, billing = order.get("shipping_address") or {}, order.get("billing_address") or {}
    body["customer"]["country"] = webhooks.country(shipping.get("country_code"), billing.get("country_code"))
    return body


def refunded_lines(refund: dict[str, Any]) -> list[orders.RefundedLine]:
    """What one refund takes back, line by line; a shipping-only refund has none."""
    found: list[orders.RefundedLine] = []
    for entry in refund.get("refund_line_items") or []:
        if not isinstance(entry, dict):
            continue
        item: dict[str, Any] = entry["line_item"] if isinstance(entry.get("line_item"), dict) else {}
        line_id = text(entry.get("line_item_id"), 200) or text(item.get("id"), 200)
        if line_id:
            found.append(orders.RefundedLine(line_id, webhooks.quantity(entry.get("quantity"), strict=True)))
    return found


async def _refund(conn: Connection, svc: Services, merchant: Merchant, refund: dict[str, Any]) -> dict[str, Any]:
    """Cancel the invitation only when nothing reviewable is left of the whole order.

    A refunded shipping fee or one returned colour of three says nothing about whether the buyer
    may review the rest, and cancelling on every partial refund would quietly drop the unhappier
    buyers' reviews. The order's refunds add up: the last line taken back cancels.
    """
    order_id = text(refund.get("order_id"), 200)
    event = webhooks.to_event({"order_id": order_id, "status": "refunded",
                               "occurred_at": refund.get("processed_at") or refund.get("created_at")})
    assert not isinstance(event, str)  # a refunded event needs no products: only its id and time
    refund_id = text(refund.get("id"), 200) or f"{event.occurred_at.isoformat()}"
    left = await orders.record_refund(conn, merchant.id, event.order_id, refund_id, refunded_lines(refund),
                                      now=svc.clock.now())
    if left != "nothing_left":
        return {"status": "ignored", "reason": left}
    return await _ingest(conn, svc, merchant, event)


async def _ingest(conn: Connection, svc: Services, merchant: Merchant, event: events.OrderEvent) -> dict[str, Any]:
    answer, replayed = await orders.ingest(conn, merchant, event, now=svc.clock.now(), hasher=svc.hasher,
                                           source=PLATFORM)
    return {"status": "replayed" if replayed else "processed", "order": answer}


# Shopify's privacy topics are answered by `reviews.privacy`, which sits above intake (it asks
# every owner, orders included, to export or erase its part): the app hands its handler in.
PrivacyHandler = Callable[[Connection, Services, Merchant, str, dict[str, Any]], Awaitable[dict[str, Any]]]


def receiver(privacy: PrivacyHandler) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The endpoint for POST /hooks/shopify/{slug}."""

    async def receive(request: Request) -> JSONResponse:
        return await webhooks.refusing_unusable(PLATFORM, request, lambda: _receive(request, privacy))

    return receive


async def _receive(request: Request, privacy: PrivacyHandler) -> JSONResponse:
    svc: Services = request.app.state.services
    body = await read_body(request)  # 413 past 1 MB, before any other work
    merchant = await webhooks.merchant_for(svc.pool, request)
    topic, payload = webhooks.signed_object(merchant, request, body, setting="shopify_secret",
                                            signature_header="x-shopify-hmac-sha256", topic_header="x-shopify-topic")
    if topic not in TOPICS:
        return webhooks.answer("ignored", reason="unknown_topic", topic=topic)

    event: events.OrderEvent | str | None = None
    if topic in ORDER_TOPICS:
        # Validate before taking the delivery, so a refused payload leaves no receipt behind.
        event = webhooks.to_event(order_body(topic, payload))
        if isinstance(event, str):
            return webhooks.answer("ignored", reason=event, topic=topic)
    async with svc.pool.acquire() as conn, conn.transaction():
        if not await webhooks.claim(conn, merchant.id, PLATFORM, request.headers.get("x-shopify-webhook-id")):
            return webhooks.answer("duplicate", topic=topic)
        if isinstance(event, events.OrderEvent):
            result = await _ingest(conn, svc, merchant, event)
        elif topic == "refunds/create":
            result = await _refund(conn, svc, merchant, payload)
        else:
            result = await privacy(conn, svc, merchant, topic, payload)
    return webhooks.answer(result.pop("status"), topic=topic, **result)
