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
- **What hangs on those reviews goes with their text**: the buyer's appeals (their own words), the
  shop's public replies (which answer, and often name or quote, the buyer) with a reply email still
  waiting, and the shop's reports of the reviews to the moderators (whose notes quote them); the
  audit log's copies of reply and report texts are emptied. The replies go before the reviews are
  emptied, so the `review.withdrawn` webhook that follows carries no reply either. (The review
  rows stay, so the foreign keys' ON DELETE CASCADE does not do this: each owner deletes its part.)
- **Photos** go whole: every photo of those reviews and every upload sent through the buyer's links
  (staged on a form never sent, too), with the bytes no other photo shares (`reviews.media.store`),
  after the shop's reports of them, so the reports' notes are emptied in the audit log too.
- **Earlier data exports** (`data_exports`, and the audit log entries of exports made before
  those existed) held a copy of the data; they are emptied, else the erasure would leave the data
  behind. The list keeps that the request was answered.
- Every erasure writes its own audit entry (counts and order ids, no personal data), so the
  merchant can show it was done (Art. 5(2)).

A buyer is found by the order's address (and its keyed hash), by the shop's order ids, and by the
platform's customer account: a request may name the account (Shopify's customer id) or an
account address other than the one on the order.

Not covered: mail already handed to an SMTP server or written to the dev outbox, and backups.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from embedding import store as embeddings
from reviews.collection import appeals, replies, reports
from reviews.collection import store as reviews
from reviews.intake import orders
from reviews.intake.webhooks import text
from reviews.invitations import store as invitation_store
from reviews.invitations import suppressions as suppression_store
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.merchants.model import Merchant
from reviews.platform import audit
from reviews.platform.db import Connection
from reviews.platform.hashing import Hasher, normalize_email
from reviews.platform.services import Services
from reviews.privacy import exports
from reviews.screening import flags

ERASE_ACTION = "redact"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _invitation_ids(conn: Connection, order_ids: Sequence[int]) -> list[int]:
    return [r["id"] for r in await conn.fetch(
        "SELECT id FROM invitations WHERE order_id = ANY($1::bigint[]) ORDER BY id", list(order_ids))]


async def _photos(conn: Connection, photos: Sequence[Photo]) -> list[dict[str, Any]]:
    """The buyer's photos as stored (the processed WebP: the original was never kept), with what became of each."""
    found = []
    for photo in photos:
        data = await photo_store.blob(conn, photo.image_digest)
        found.append({"caption": photo.caption, "state": photo.state, "reason": photo.reject_reason,
                      "created_at": _iso(photo.created_at), "media_type": "image/webp", "width": photo.width,
                      "height": photo.height, "data_base64": base64.b64encode(data or b"").decode("ascii")})
    return found


async def _order_ids(conn: Connection, merchant_id: int, email: str | None, hasher: Hasher | None,
                     external_ids: Sequence[str], customer_id: str | None = None) -> list[int]:
    email_n = normalize_email(email) if email else None
    address_hash = hasher.address(email) if (email and hasher) else None
    rows = await conn.fetch(
        """SELECT id FROM orders WHERE merchant_id = $1
             AND (($2::text IS NOT NULL AND lower(buyer_email) = $2)
                  OR ($3::text IS NOT NULL AND buyer_hash = $3)
                  OR external_id = ANY($4::text[])
                  OR ($5::text IS NOT NULL AND customer_id = $5))
           ORDER BY id""",
        merchant_id, email_n, address_hash, list(external_ids), customer_id,
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
                 order_ids: Sequence[str] = (), customer_id: str | None = None) -> dict[str, Any]:
    """Everything this shop's Attest holds about a buyer, as JSON-ready data.

    Found by address (and its keyed hash when `hasher` is given, which also finds erased orders),
    by the shop's own order ids and by the platform's customer id. Internal hashes are left out:
    they mean nothing to the buyer.
    """
    ids = await _order_ids(conn, merchant_id, email, hasher, order_ids, customer_id)
    author_hash = hasher.address(email) if (email and hasher) else None
    orders = await conn.fetch("SELECT * FROM orders WHERE id = ANY($1::bigint[]) ORDER BY id", ids)
    items = await conn.fetch(
        "SELECT order_id, product_id, name FROM order_items WHERE order_id = ANY($1::bigint[]) ORDER BY position",
        ids)
    lines = await conn.fetch(
        """SELECT order_id, line_id, product_id, variant_id, name, detail, quantity FROM order_lines
           WHERE order_id = ANY($1::bigint[]) ORDER BY id""", ids)
    invitations = {r["order_id"]: r for r in await conn.fetch(
        "SELECT * FROM invitations WHERE order_id = ANY($1::bigint[])", ids)}
    review_ids = await _review_ids(conn, merchant_id, ids, [author_hash] if author_hash else [])
    reviews = await conn.fetch("SELECT * FROM reviews WHERE id = ANY($1::bigint[]) ORDER BY id", review_ids)
    versions = await conn.fetch(
        "SELECT * FROM review_versions WHERE review_id = ANY($1::bigint[]) ORDER BY saved_at, id", review_ids)
    # The shop's public replies to them are data about the buyer too; so are their own appeals.
    answered = await replies.of_reviews(conn, review_ids)
    appealed = await appeals.of_reviews(conn, review_ids)
    hashes = {o["buyer_hash"] for o in orders if o["buyer_hash"]} | ({author_hash} if author_hash else set())
    suppressions = await suppression_store.listed(conn, merchant_id, sorted(hashes))
    external = {o["id"]: o["external_id"] for o in orders}
    photos = await photo_store.of_reviews(conn, review_ids)
    unsent = [p for i in await _invitation_ids(conn, ids) for p in await photo_store.staged(conn, i)]
    photos_of = {review_id: await _photos(conn, found) for review_id, found in photos.items()}

    def reply(review_id: int) -> dict[str, Any] | None:
        found = answered.get(review_id)
        if found is None:
            return None
        return {"body": found.body, "created_at": _iso(found.created_at), "updated_at": _iso(found.updated_at),
                "source": "imported" if found.imported else "shop"}

    def appeal(review_id: int) -> dict[str, Any] | None:
        found = appealed.get(review_id)
        if found is None:
            return None
        return {"body": found.body, "state": found.state, "created_at": _iso(found.created_at),
                "decided_at": _iso(found.decided_at)}

    def invitation(order_id: int) -> dict[str, Any] | None:
        inv = invitations.get(order_id)
        if inv is None:
            return None
        return {"state": inv["state"], "reason": inv["reason"], "send_at": _iso(inv["send_at"]),
                "sent_at": _iso(inv["sent_at"]), "reminder_state": inv["reminder_state"],
                "reminded_at": _iso(inv["reminded_at"])}

    return {
        "email": email,
        "customer_id": customer_id,
        "orders": [{
            "order_id": o["external_id"], "status": o["status"], "email": o["buyer_email"], "name": o["buyer_name"],
            "locale": o["locale"], "consent": o["consent"], "placed_at": _iso(o["placed_at"]),
            "fulfilled_at": _iso(o["fulfilled_at"]), "delivered_at": _iso(o["delivered_at"]),
            "cancelled_at": _iso(o["cancelled_at"]),
            "products": [{"id": i["product_id"], "name": i["name"]} for i in items if i["order_id"] == o["id"]],
            "lines": [{"line_id": li["line_id"], "product_id": li["product_id"], "variant_id": li["variant_id"],
                       "name": li["name"], "detail": li["detail"], "quantity": li["quantity"]}
                      for li in lines if li["order_id"] == o["id"]],
            "invitation": invitation(o["id"]),
        } for o in orders],
        "reviews": [{
            "id": r["id"], "order_id": external.get(r["order_id"]) or r["external_order_id"],
            "product_id": r["product_id"], "product_name": r["product_name"], "method": r["method"],
            "rating": r["rating"], "title": r["title"], "body": r["body"], "display_name": r["display_name"],
            "locale": r["locale"], "state": r["state"], "submitted_at": _iso(r["submitted_at"]),
            "photos": photos_of.get(r["id"], []),
            "photo_urls": list(r["media_urls"] or []),  # where an import said its photos were
            "published_at": _iso(r["published_at"]), "edited_at": _iso(r["edited_at"]),
            "earlier_versions": [{"rating": v["rating"], "title": v["title"], "body": v["body"],
                                  "display_name": v["display_name"], "saved_at": _iso(v["saved_at"])}
                                 for v in versions if v["review_id"] == r["id"]],
            "shop_reply": reply(r["id"]),
            "appeal": appeal(r["id"]),
        } for r in reviews],
        "photos_not_sent": await _photos(conn, unsent),  # uploaded on a review form that was not sent
        "unsubscribed": [{"scope": "this shop" if s["merchant_id"] else "every shop", "reason": s["reason"],
                          "since": _iso(s["created_at"])} for s in suppressions],
    }


async def record_export(conn: Connection, merchant_id: int, data: dict[str, Any], *, actor: str,
                        now: datetime, hasher: Hasher, request_id: Any = None) -> int:
    """Keep an export for the merchant to download (`reviews.privacy.exports`); returns its id.

    Keyed by the buyer's hash and account so a later erasure can find and empty it. The audit log
    records the request and which export answered it, not the data.
    """
    email = data.get("email")
    buyer_hash = hasher.address(email) if email else None
    request = text(request_id, 200)
    export_id = await exports.save(conn, merchant_id, data, source=actor, now=now, request_id=request,
                                   buyer_hash=buyer_hash, customer_id=data.get("customer_id"))
    await audit.record(conn, actor=actor, action=audit.EXPORT_ACTION, table="merchants", row_id=merchant_id, now=now,
                       after={"export_id": export_id, "request_id": request,
                              "order_ids": [o["order_id"] for o in data["orders"]]})
    return export_id


async def _erase(conn: Connection, order_ids: list[int], review_ids: list[int], now: datetime,
                 actor: str) -> dict[str, int]:
    """Each owner erases its part, in one transaction."""
    async with conn.transaction():
        erased_orders = await orders.erase_buyers(conn, order_ids, now)
        cancelled = await invitation_store.cancel_for_orders(conn, order_ids, "erased", now)
        await embeddings.delete(conn, review_ids)
        await flags.decide(conn, review_ids, "dismissed", actor, now)
        # Before the reviews: emptying them tells the shop's webhooks, with the reply as it then is.
        erased_replies = await replies.erase(conn, review_ids, now)
        erased_reports = await reports.erase(conn, review_ids, now)  # before the photos, whose reports they hold
        erased_photos = await photo_store.delete_for_reviews(conn, review_ids) + \
            await photo_store.delete_for_invitations(conn, await _invitation_ids(conn, order_ids))
        erased_appeals = await appeals.erase(conn, review_ids)
        erased_reviews = await reviews.erase(conn, review_ids, now)
    return {"orders": erased_orders, "invitations_cancelled": cancelled, "reviews": erased_reviews,
            "replies": erased_replies, "reports": erased_reports, "appeals": erased_appeals,
            "photos": erased_photos}


async def erase_buyer(conn: Connection, merchant_id: int, email: str | None, *, hasher: Hasher,
                      now: datetime, actor: str, order_ids: Sequence[str] = (),
                      customer_id: str | None = None) -> dict[str, Any]:
    """Erase one buyer's personal data in one shop (see the module docstring for what that means)."""
    ids = await _order_ids(conn, merchant_id, email, hasher, order_ids, customer_id)
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
        counts["exports_emptied"] = await audit.empty_exports(conn, merchant_id, hashes, external, now) + \
            await exports.erase(conn, merchant_id, now=now, buyer_hashes=hashes, order_ids=external,
                                customer_ids=[customer_id] if customer_id else [])
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
        counts["exports_emptied"] = await audit.empty_exports(conn, merchant_id, [], [], now, everyone=True) + \
            await exports.erase(conn, merchant_id, now=now, everyone=True)
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
    customer: dict[str, Any] = payload["customer"] if isinstance(payload.get("customer"), dict) else {}
    email = text(customer.get("email"), 320)
    customer_id = text(customer.get("id"), 200)
    key = "orders_to_redact" if topic == "customers/redact" else "orders_requested"
    requested: list[Any] = payload[key] if isinstance(payload.get(key), list) else []
    order_ids = [t for t in (text(i, 200) for i in requested) if t]
    if topic == "customers/redact":
        result = await erase_buyer(conn, merchant.id, email, hasher=svc.hasher, now=now, actor=actor,
                                   order_ids=order_ids, customer_id=customer_id)
        return {"status": "erased", **result}
    data = await export(conn, merchant.id, email, hasher=svc.hasher, order_ids=order_ids, customer_id=customer_id)
    request: dict[str, Any] = payload["data_request"] if isinstance(payload.get("data_request"), dict) else {}
    export_id = await record_export(conn, merchant.id, data, actor=actor, now=now, hasher=svc.hasher,
                                    request_id=request.get("id"))
    return {"status": "exported", "export_id": export_id, "orders": len(data["orders"]),
            "reviews": len(data["reviews"])}


async def request_export(conn: Connection, svc: Services, merchant: Merchant, *, email: str | None,
                         order_ids: Sequence[str] = (), customer_id: str | None = None,
                         actor: str) -> exports.Entry:
    """A data request the merchant received some other way (an email, a WooCommerce shop)."""
    async with conn.transaction():
        data = await export(conn, merchant.id, email, hasher=svc.hasher, order_ids=order_ids, customer_id=customer_id)
        export_id = await record_export(conn, merchant.id, data, actor=actor, now=svc.clock.now(), hasher=svc.hasher)
    return next(e for e in await exports.listed(conn, merchant.id) if e.id == export_id)
