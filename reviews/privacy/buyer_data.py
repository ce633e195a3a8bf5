"""A buyer's data in one shop: export it (GDPR Art. 15/20) and erase it (Art. 17).

What erasure does, and why:

- **Orders** keep their row (external id, status, times, items, consent): they are the proof of
  purchase behind other people's published numbers and the merchant's own records, and carry no
  direct identifier once `buyer_email` and `buyer_name` are set to NULL.
- **`buyer_hash` / `author_hash` are kept.** They are keyed hashes (`reviews.privacy`), so only
  someone holding Attest's secret *and* the address can link them to a person. We keep them for
  two purposes that outweigh erasure (Art. 17(3), Art. 21(3)): an address that unsubscribed must
  never be mailed again, and review-fraud detection counts reviews per author; with the hash gone,
  every erased review would look like one author named "" (see `reviews.scanning`).
  Suppressions are never erased for the same reason.
- **Scheduled invitations and reminders are cancelled** (reason `erased`); sent ones keep their
  state for the funnel, without the address, which lived only on the order.
- **Reviews are withdrawn and emptied**, not merely renamed: the text is the buyer's own words and
  may identify them ("as a nurse in Kraków..."), so replacing the display name is not
  anonymisation. Title, body, display name, IP hash and browser family are blanked, earlier
  versions and embeddings (derived from the text) deleted, open flags dismissed. The row stays as
  a withdrawn rating so counts and moderation history add up.
- **Earlier data exports** (`audit_log` action `data_request`) held a copy of the data; their
  export is replaced by a note, else the erasure would leave the data in the audit log.
- Every erasure writes its own audit entry (counts and order ids, no personal data), so the
  merchant can show it was done (Art. 5(2)).

Not covered: mail already handed to an SMTP server or written to the dev outbox, and backups.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from embedding import store as embeddings
from reviews.collection import store as reviews
from reviews.intake import orders
from reviews.intake.webhooks import text
from reviews.invitations import store as invitation_store
from reviews.invitations import suppressions as suppression_store
from reviews.merchants.model import Merchant
from reviews.platform import audit
from reviews.platform.db import Connection
from reviews.platform.hashing import Hasher, normalize_email
from reviews.platform.services import Services
from reviews.screening import flags

ERASE_ACTION = "redact"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _order_ids(conn: Connection, merchant_id: int, email: str | None, hasher: Hasher | None,
                     external_ids: Sequence[str]) -> list[int]:
    email_n = normalize_email(email) if email else None
    address_hash = hasher.address(email) if (email and hasher) else None
    rows = await conn.fetch(
        """SELECT id FROM orders WHERE merchant_id = $1
             AND (($2::text IS NOT NULL AND lower(buyer_email) = $2)
                  OR ($3::text IS NOT NULL AND buyer_hash = $3)
                  OR external_id = ANY($4::text[]))
           ORDER BY id""",
        merchant_id, email_n, address_hash, list(external_ids),
    )
    return [r["id"] for r in rows]


async def _review_ids(conn: Connection, merchant_id: int, order_ids: list[int],
                      author_hashes: Sequence[str]) -> list[int]:
    rows = await conn.fetch(
        """SELECT id FROM reviews WHERE merchant_id = $1
             AND (order_id = ANY($2::bigint[]) OR author_hash = ANY($3::text[])) ORDER BY id""",
        merchant_id, order_ids, list(author_hashes),
    )
    return [r["id"] for r in rows]


async def export(conn: Connection, merchant_id: int, email: str | None, *, hasher: Hasher | None = None,
                 order_ids: Sequence[str] = ()) -> dict[str, Any]:
    """Everything this shop's Attest holds about a buyer, as JSON-ready data.

    Found by address (and its keyed hash when `hasher` is given, which also finds erased orders)
    and by the shop's own order ids. Internal hashes are left out: they mean nothing to the buyer.
    """
    ids = await _order_ids(conn, merchant_id, email, hasher, order_ids)
    author_hash = hasher.address(email) if (email and hasher) else None
    orders = await conn.fetch("SELECT * FROM orders WHERE id = ANY($1::bigint[]) ORDER BY id", ids)
    items = await conn.fetch(
        "SELECT order_id, product_id, name FROM order_items WHERE order_id = ANY($1::bigint[]) ORDER BY position",
        ids)
    invitations = {r["order_id"]: r for r in await conn.fetch(
        "SELECT * FROM invitations WHERE order_id = ANY($1::bigint[])", ids)}
    review_ids = await _review_ids(conn, merchant_id, ids, [author_hash] if author_hash else [])
    reviews = await conn.fetch("SELECT * FROM reviews WHERE id = ANY($1::bigint[]) ORDER BY id", review_ids)
    versions = await conn.fetch(
        "SELECT * FROM review_versions WHERE review_id = ANY($1::bigint[]) ORDER BY saved_at, id", review_ids)
    hashes = {o["buyer_hash"] for o in orders if o["buyer_hash"]} | ({author_hash} if author_hash else set())
    suppressions = await suppression_store.listed(conn, merchant_id, sorted(hashes))
    external = {o["id"]: o["external_id"] for o in orders}

    def invitation(order_id: int) -> dict[str, Any] | None:
        inv = invitations.get(order_id)
        if inv is None:
            return None
        return {"state": inv["state"], "reason": inv["reason"], "send_at": _iso(inv["send_at"]),
                "sent_at": _iso(inv["sent_at"]), "reminder_state": inv["reminder_state"],
                "reminded_at": _iso(inv["reminded_at"])}

    return {
        "email": email,
        "orders": [{
            "order_id": o["external_id"], "status": o["status"], "email": o["buyer_email"], "name": o["buyer_name"],
            "locale": o["locale"], "consent": o["consent"], "placed_at": _iso(o["placed_at"]),
            "fulfilled_at": _iso(o["fulfilled_at"]), "delivered_at": _iso(o["delivered_at"]),
            "cancelled_at": _iso(o["cancelled_at"]),
            "products": [{"id": i["product_id"], "name": i["name"]} for i in items if i["order_id"] == o["id"]],
            "invitation": invitation(o["id"]),
        } for o in orders],
        "reviews": [{
            "id": r["id"], "order_id": external.get(r["order_id"]) or r["external_order_id"],
            "product_id": r["product_id"], "product_name": r["product_name"], "method": r["method"],
            "rating": r["rating"], "title": r["title"], "body": r["body"], "display_name": r["display_name"],
            "locale": r["locale"], "state": r["state"], "submitted_at": _iso(r["submitted_at"]),
            "published_at": _iso(r["published_at"]), "edited_at": _iso(r["edited_at"]),
            "earlier_versions": [{"rating": v["rating"], "title": v["title"], "body": v["body"],
                                  "display_name": v["display_name"], "saved_at": _iso(v["saved_at"])}
                                 for v in versions if v["review_id"] == r["id"]],
        } for r in reviews],
        "unsubscribed": [{"scope": "this shop" if s["merchant_id"] else "every shop", "reason": s["reason"],
                          "since": _iso(s["created_at"])} for s in suppressions],
    }


async def record_export(conn: Connection, merchant_id: int, data: dict[str, Any], *, actor: str,
                        now: datetime, hasher: Hasher, request_id: Any = None) -> int:
    """Keep an export in the audit log for the merchant to hand over; returns the entry id.

    Keyed by the buyer's hash so a later erasure can find and empty it.
    """
    email = data.get("email")
    return await audit.record(
        conn, actor=actor, action=audit.EXPORT_ACTION, table="merchants", row_id=merchant_id, now=now,
        after={"buyer_hash": hasher.address(email) if email else None, "request_id": request_id,
               "order_ids": [o["order_id"] for o in data["orders"]], "export": data})


async def _erase(conn: Connection, order_ids: list[int], review_ids: list[int], now: datetime,
                 actor: str) -> dict[str, int]:
    """Each owner erases its part, in one transaction."""
    async with conn.transaction():
        erased_orders = await orders.erase_buyers(conn, order_ids, now)
        cancelled = await invitation_store.cancel_for_orders(conn, order_ids, "erased", now)
        await embeddings.delete(conn, review_ids)
        await flags.decide(conn, review_ids, "dismissed", actor, now)
        erased_reviews = await reviews.erase(conn, review_ids, now)
    return {"orders": erased_orders, "invitations_cancelled": cancelled, "reviews": erased_reviews}


async def erase_buyer(conn: Connection, merchant_id: int, email: str | None, *, hasher: Hasher,
                      now: datetime, actor: str, order_ids: Sequence[str] = ()) -> dict[str, Any]:
    """Erase one buyer's personal data in one shop (see the module docstring for what that means)."""
    ids = await _order_ids(conn, merchant_id, email, hasher, order_ids)
    # The address's hash, and the hashes on orders found by id only (a request without an address).
    on_orders = await conn.fetch(
        "SELECT DISTINCT buyer_hash FROM orders WHERE id = ANY($1::bigint[]) AND buyer_hash IS NOT NULL", ids)
    hashes = sorted({r["buyer_hash"] for r in on_orders} | ({hasher.address(email)} if email else set()))
    ids = sorted(set(ids) | {r["id"] for r in await conn.fetch(
        "SELECT id FROM orders WHERE merchant_id = $1 AND buyer_hash = ANY($2::text[])", merchant_id, hashes)})
    review_ids = await _review_ids(conn, merchant_id, ids, hashes)
    external = [r["external_id"] for r in await conn.fetch(
        "SELECT external_id FROM orders WHERE id = ANY($1::bigint[]) ORDER BY id", ids)]
    async with conn.transaction():
        counts = await _erase(conn, ids, review_ids, now, actor)
        counts["exports_emptied"] = await audit.empty_exports(conn, merchant_id, hashes, external, now)
        await audit.record(conn, actor=actor, action=ERASE_ACTION, table="merchants", row_id=merchant_id,
                           after={**counts, "order_ids": external}, now=now)
    return {**counts, "order_ids": external}


async def erase_merchant_buyers(conn: Connection, merchant_id: int, *, now: datetime,
                                actor: str) -> dict[str, Any]:
    """Erase the personal data of every buyer of one shop (Shopify's `shop/redact`), imported
    reviews included. The merchant itself, its settings and its suppressions stay."""
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM orders WHERE merchant_id = $1", merchant_id)]
    review_ids = [r["id"] for r in await conn.fetch("SELECT id FROM reviews WHERE merchant_id = $1", merchant_id)]
    async with conn.transaction():
        counts = await _erase(conn, ids, review_ids, now, actor)
        counts["exports_emptied"] = await audit.empty_exports(conn, merchant_id, [], [], now, everyone=True)
        await audit.record(conn, actor=actor, action="redact_shop", table="merchants", row_id=merchant_id,
                           after=dict(counts), now=now)
    return counts


async def shopify_topic(conn: Connection, svc: Services, merchant: Merchant, topic: str,
                        payload: dict[str, Any]) -> dict[str, Any]:
    """Shopify's privacy topics (customers/redact, customers/data_request, shop/redact)."""
    now = svc.clock.now()
    actor = f"shopify:{topic}"
    if topic == "shop/redact":
        return {"status": "erased", **await erase_merchant_buyers(conn, merchant.id, now=now, actor=actor)}
    customer = payload.get("customer") or {}
    email = text(customer.get("email"), 320)
    key = "orders_to_redact" if topic == "customers/redact" else "orders_requested"
    order_ids = [t for t in (text(i, 200) for i in payload.get(key) or []) if t]
    if topic == "customers/redact":
        result = await erase_buyer(conn, merchant.id, email, hasher=svc.hasher, now=now, actor=actor,
                                              order_ids=order_ids)
        return {"status": "erased", **result}
    data = await export(conn, merchant.id, email, hasher=svc.hasher, order_ids=order_ids)
    audit_id = await record_export(conn, merchant.id, data, actor=actor, now=now, hasher=svc.hasher,
                                              request_id=(payload.get("data_request") or {}).get("id"))
    return {"status": "exported", "audit_id": audit_id, "orders": len(data["orders"]),
            "reviews": len(data["reviews"])}
