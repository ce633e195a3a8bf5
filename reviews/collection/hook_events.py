"""What a review's outgoing webhooks say (`reviews.merchants.hooks` queues and sends them).

`reviews.collection.store` calls `emit` in the transaction of each change, so an event goes out
exactly when its change commits:

- `review.published`: the review is now public (after its scan, a moderator's decision, or again
  after an edit or a hold). The same review may be published more than once: keep the latest.
- `review.updated`: a review that was public changed: its author edited the text (it is `pending`
  until checked again, then `review.published` follows), or moderation held or rejected it
  (`state` says which). It is not public until a later `review.published`.
- `review.withdrawn`: its author withdrew it, or the buyer's data was erased (the text and name
  are then empty).
- `review.replied`: the shop replied publicly, or edited its reply (`reviews.collection.replies`
  calls `emit(conn, review_id, REVIEW_REPLIED, now)` in the transaction that stores the reply).

Every event's `data` is `data()` below: the review as the widgets show it, its times, state and
whether it came from a verified order, never the buyer's address nor any hash of theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reviews.merchants import hooks
from reviews.merchants.hooks import REVIEW_PUBLISHED, REVIEW_REPLIED, REVIEW_UPDATED, REVIEW_WITHDRAWN
from reviews.platform.db import Connection, Executor

__all__ = ["REVIEW_PUBLISHED", "REVIEW_REPLIED", "REVIEW_UPDATED", "REVIEW_WITHDRAWN", "data", "emit", "erased"]

# The review's public reply (review_replies: the shop's own, or the one an import brought).
_ROW = """SELECT r.id, r.merchant_id, m.slug, r.product_id, r.product_name, r.rating, r.title, r.body, r.display_name,
                 r.locale, r.method, r.state, r.submitted_at, r.published_at, r.edited_at,
                 p.body AS reply_body, p.created_at AS reply_created_at, p.updated_at AS reply_updated_at
          FROM reviews r JOIN merchants m ON m.id = r.merchant_id LEFT JOIN review_replies p ON p.review_id = r.id"""


def data(row: Any) -> dict[str, Any]:
    """A review's `data` in every event (the OpenAPI document's `ReviewEventData`)."""
    reply = None
    if row["reply_body"]:
        reply = {"body": row["reply_body"], "created_at": hooks.iso(row["reply_created_at"]),
                 "updated_at": hooks.iso(row["reply_updated_at"])}
    return {
        "id": row["id"],
        "merchant": row["slug"],
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "rating": row["rating"],
        "title": row["title"],
        "body": row["body"],
        "display_name": row["display_name"],
        "language": row["locale"],
        "state": row["state"],
        "verified": row["method"] == "invited",
        "source": row["method"],
        "submitted_at": hooks.iso(row["submitted_at"]),
        "published_at": hooks.iso(row["published_at"]),
        "edited_at": hooks.iso(row["edited_at"]),
        "reply": reply,
    }


async def emit(conn: Connection, review_id: int, event_type: str, now: datetime) -> int:
    """Queue the event for the review's shop's subscribed endpoints (none: nothing is read)."""
    row = await conn.fetchrow(
        _ROW + """ WHERE r.id = $1 AND EXISTS (SELECT 1 FROM webhook_endpoints e
                                              WHERE e.merchant_id = r.merchant_id AND $2 = ANY(e.events))""",
        review_id, event_type)
    if row is None:
        return 0
    return await hooks.emit(conn, row["merchant_id"], event_type, data(row), now, review_id=review_id)


async def erased(conn: Connection, review_ids: Sequence[int], announce: Sequence[int], now: datetime) -> None:
    """After a buyer's erasure: the earlier messages about these reviews are forgotten, and the
    shop hears that each of `announce` (those not withdrawn before) is withdrawn, emptied."""
    await hooks.forget_reviews(conn, review_ids)
    for review_id in announce:
        await emit(conn, review_id, REVIEW_WITHDRAWN, now)


async def state_of(conn: Executor, review_id: int) -> str | None:
    """The review's state, locked until the transaction ends (what an event is decided by)."""
    state: str | None = await conn.fetchval("SELECT state FROM reviews WHERE id = $1 FOR UPDATE", review_id)
    return state
