"""Orders: idempotent ingestion of order events, the order's status history, its items, the
platform's lines and what refunds took back of them.

The only writer of `orders`, `order_items`, `order_lines`, `order_refunds` and `order_events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from reviews.intake.events import OrderEvent
from reviews.invitations import scheduling
from reviews.invitations.policy import EventFacts, OrderFacts
from reviews.merchants.model import Merchant
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ValidationError
from reviews.platform.hashing import Hasher

# A shop may date a shipment ahead (and clocks differ); an event dated months or years ahead is a
# mistake that would schedule its invitation for then.
FUTURE_SKEW = timedelta(days=60)
# Events may arrive out of order; the order's status only moves forward along this rank.
_RANK = {"placed": 0, "fulfilled": 1, "delivered": 2, "cancelled": 3, "refunded": 4}


@dataclass(frozen=True)
class Order:
    id: int
    merchant_id: int
    external_id: str
    status: str
    buyer_email: str | None
    buyer_hash: str | None
    buyer_name: str | None
    locale: str | None
    consent: bool | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Order:
        return cls(row["id"], row["merchant_id"], row["external_id"], row["status"], row["buyer_email"],
                   row["buyer_hash"], row["buyer_name"], row["locale"], row["consent"])


@dataclass(frozen=True)
class OrderItem:
    position: int
    product_id: str
    name: str
    url: str | None
    image_url: str | None
    gtin: str | None
    mpn: str | None = None
    brand: str | None = None
    sku: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> OrderItem:
        return cls(row["position"], row["product_id"], row["name"], row["url"], row["image_url"], row["gtin"],
                   row["mpn"], row["brand"], row["sku"])


async def get(conn: Executor, order_id: int) -> Order | None:
    row = await conn.fetchrow("SELECT * FROM orders WHERE id = $1", order_id)
    return Order.from_row(row) if row else None


async def items(conn: Executor, order_id: int) -> list[OrderItem]:
    rows = await conn.fetch("SELECT * FROM order_items WHERE order_id = $1 ORDER BY position", order_id)
    return [OrderItem.from_row(r) for r in rows]


RECENT_ORDERS = 2000  # how far back the console's product lists look


async def recent_products(conn: Executor, merchant_id: int, limit: int = 100) -> list[OrderItem]:
    """The products of the merchant's latest orders (one per id, as last ordered), most recently
    ordered first."""
    rows = await conn.fetch(
        """SELECT * FROM (SELECT DISTINCT ON (i.product_id) i.*, o.id AS ordered
                          FROM order_items i JOIN (SELECT id FROM orders WHERE merchant_id = $1
                                                   ORDER BY id DESC LIMIT $3) o ON o.id = i.order_id
                          ORDER BY i.product_id, o.id DESC) p
           ORDER BY ordered DESC, product_id LIMIT $2""", merchant_id, limit, RECENT_ORDERS)
    return [OrderItem.from_row(r) for r in rows]


@dataclass(frozen=True)
class RefundedLine:
    """One line of a refund: which of the order's lines, and how many of it."""

    line_id: str
    quantity: int


async def record_refund(conn: Connection, merchant_id: int, external_id: str, refund_id: str,
                        refunded: Sequence[RefundedLine], *, now: datetime) -> str:
    """Record a refund's lines against the order's own; what is left of the order to review:
    "nothing_left", "partial_refund" (some is left, or only shipping was refunded),
    "unknown_order", or "lines_unknown" (an order stored before Attest kept lines: a refund never
    silences its buyer, a cancellation still does).

    Each (refund, line) counts once, so a refund delivered twice is not counted twice.
    """
    order_id = await conn.fetchval("SELECT id FROM orders WHERE merchant_id = $1 AND external_id = $2 FOR UPDATE",
                                   merchant_id, external_id)
    if order_id is None:
        return "unknown_order"
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM order_lines WHERE order_id = $1)", order_id):
        return "lines_unknown"
    if not refunded:
        return "partial_refund"
    for item in refunded:
        # Lines the order does not have (a tip, a gift card) are not Attest's to count.
        await conn.execute(
            """INSERT INTO order_refunds (order_id, refund_id, line_id, quantity, refunded_at)
               SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM order_lines WHERE order_id = $1 AND line_id = $3)
               ON CONFLICT DO NOTHING""",
            order_id, refund_id, item.line_id, item.quantity, now)
    left = await conn.fetchval(
        """SELECT coalesce(sum(greatest(l.quantity - coalesce(r.quantity, 0), 0)), 0) FROM order_lines l
           LEFT JOIN (SELECT line_id, sum(quantity) AS quantity FROM order_refunds WHERE order_id = $1
                      GROUP BY line_id) r ON r.line_id = l.line_id
           WHERE l.order_id = $1""",
        order_id)
    return "nothing_left" if int(left) == 0 else "partial_refund"


async def erase_buyers(conn: Connection, order_ids: Sequence[int], now: datetime) -> int:
    """Forget the buyer's address, name and country on these orders; the orders stay as proof of purchase."""
    return int(await conn.fetchval(
        """WITH u AS (UPDATE orders SET buyer_email = NULL, buyer_name = NULL, country = NULL, updated_at = $2
                      WHERE id = ANY($1::bigint[]) RETURNING 1) SELECT count(*) FROM u""",
        list(order_ids), now))


async def ingest(
    conn: Connection, merchant: Merchant, event: OrderEvent, *, now: datetime, hasher: Hasher,
    source: str = "api",
) -> tuple[dict[str, Any], bool]:
    """Record one order event and act on it. Returns (answer, replayed).

    Idempotent per (merchant, order, status): a repeat changes nothing and gets the first answer.
    """
    if event.occurred_at > now + FUTURE_SKEW:
        raise ValidationError({"occurred_at": f"is more than {FUTURE_SKEW.days} days in the future"})
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO orders (merchant_id, external_id, status, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $4) ON CONFLICT (merchant_id, external_id) DO NOTHING""",
            merchant.id, event.order_id, event.status, now,
        )
        order = await conn.fetchrow(
            "SELECT * FROM orders WHERE merchant_id = $1 AND external_id = $2 FOR UPDATE",
            merchant.id, event.order_id,
        )
        assert order is not None  # inserted just above, if it was not there
        previous = await conn.fetchval(
            "SELECT response FROM order_events WHERE order_id = $1 AND status = $2", order["id"], event.status
        )
        if previous is not None:
            return previous, True

        status = event.status if _RANK[event.status] >= _RANK[order["status"]] else order["status"]
        stamp = {"placed": "placed_at", "fulfilled": "fulfilled_at", "delivered": "delivered_at",
                 "cancelled": "cancelled_at", "refunded": "cancelled_at"}[event.status]
        order = await conn.fetchrow(
            f"""UPDATE orders SET status = $2,
                    buyer_email = COALESCE($3, buyer_email),
                    buyer_hash = COALESCE($4, buyer_hash),
                    buyer_name = COALESCE($5, buyer_name),
                    locale = COALESCE($6, locale),
                    consent = COALESCE($7, consent),
                    {stamp} = COALESCE({stamp}, $8),
                    customer_id = COALESCE($10, customer_id),
                    country = COALESCE($11, country),
                    updated_at = $9
                WHERE id = $1 RETURNING *""",
            order["id"], status, event.email, hasher.address(event.email) if event.email else None,
            event.name, event.locale, event.consent, event.occurred_at, now, event.customer_id, event.country,
        )
        assert order is not None  # locked above: it exists
        for item in event.lines:
            await conn.execute(
                """INSERT INTO order_lines (order_id, line_id, product_id, variant_id, name, detail, quantity)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)
                   ON CONFLICT (order_id, line_id) DO UPDATE SET product_id = EXCLUDED.product_id,
                       variant_id = EXCLUDED.variant_id, name = EXCLUDED.name, detail = EXCLUDED.detail,
                       quantity = EXCLUDED.quantity""",
                order["id"], item.line_id, item.product_id, item.variant_id, item.name, item.detail, item.quantity,
            )
        for position, product in enumerate(event.products):
            await conn.execute(
                """INSERT INTO order_items (order_id, position, product_id, name, url, image_url, gtin, mpn, brand,
                                           sku)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                   ON CONFLICT (order_id, product_id) DO UPDATE SET name = EXCLUDED.name,
                       url = COALESCE(EXCLUDED.url, order_items.url),
                       image_url = COALESCE(EXCLUDED.image_url, order_items.image_url),
                       gtin = COALESCE(EXCLUDED.gtin, order_items.gtin),
                       mpn = COALESCE(EXCLUDED.mpn, order_items.mpn),
                       brand = COALESCE(EXCLUDED.brand, order_items.brand),
                       sku = COALESCE(EXCLUDED.sku, order_items.sku)""",
                order["id"], position, product.id, product.name, product.url, product.image_url, product.gtin,
                product.mpn, product.brand, product.sku,
            )
        invitation = await scheduling.on_order_event(conn, merchant, OrderFacts.from_row(order), EventFacts(
            event.status, event.occurred_at, event.timezone), now=now)
        answer = {
            "order_id": event.order_id,
            "status": event.status,
            "order_status": order["status"],
            "invitation": invitation.describe() if invitation else None,
        }
        await conn.execute(
            """INSERT INTO order_events (merchant_id, order_id, status, occurred_at, source, response, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            merchant.id, order["id"], event.status, event.occurred_at, source, answer, now,
        )
        return answer, False
