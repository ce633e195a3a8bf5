"""A review's outgoing webhooks: `reviews.collection.store` and `replies` call `emit` in the
transaction of each change, so an event goes out exactly when its change commits. What each event
means and what its `data` holds is `reviews.hooks.events`; the deliveries are `reviews.hooks.deliveries`.
This module reads the review (collection's tables) for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reviews.hooks import deliveries
from reviews.hooks.events import (
    REVIEW_PUBLISHED,
    REVIEW_REPLIED,
    REVIEW_UPDATED,
    REVIEW_WITHDRAWN,
    photo,
    review_data,
)
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.media.alt import alt_text
from reviews.platform.db import Connection, Executor

__all__ = ["REVIEW_PUBLISHED", "REVIEW_REPLIED", "REVIEW_UPDATED", "REVIEW_WITHDRAWN", "emit", "erased", "state_of"]

# The review's public reply (review_replies: the shop's own, or the one an import brought).
_ROW = """SELECT r.id, r.merchant_id, m.slug, m.name AS merchant_name, r.product_id, r.product_name, r.rating,
                 r.title, r.body, r.display_name,
                 r.locale, r.method, r.state, r.submitted_at, r.published_at, r.edited_at,
                 p.body AS reply_body, p.created_at AS reply_created_at, p.updated_at AS reply_updated_at
          FROM reviews r JOIN merchants m ON m.id = r.merchant_id LEFT JOIN review_replies p ON p.review_id = r.id"""


async def emit(conn: Connection, review_id: int, event_type: str, now: datetime) -> int:
    """Queue the event for the review's shop's subscribed endpoints (none: nothing is read)."""
    row = await conn.fetchrow(
        _ROW + """ WHERE r.id = $1 AND EXISTS (SELECT 1 FROM webhook_endpoints e
                                              WHERE e.merchant_id = r.merchant_id AND $2 = ANY(e.events))""",
        review_id, event_type)
    if row is None:
        return 0
    shown = [photo(serving.public_path(p.public_key), serving.public_path(p.public_key, thumb=True), p.width,
                   p.height, alt_text(str, caption=p.caption, display_name=row["display_name"] or "",
                                      subject=row["product_name"] or row["merchant_name"]))
             for p in (await photo_store.of_reviews(conn, [review_id])).get(review_id, []) if p.state == "approved"]
    return await deliveries.emit(conn, row["merchant_id"], event_type, review_data(row, shown), now,
                                 review_id=review_id)


async def erased(conn: Connection, review_ids: Sequence[int], announce: Sequence[int], now: datetime) -> None:
    """After a buyer's erasure: the earlier messages about these reviews are forgotten, and the
    shop hears that each of `announce` (those not withdrawn before) is withdrawn, emptied."""
    await deliveries.forget_reviews(conn, review_ids)
    for review_id in announce:
        await emit(conn, review_id, REVIEW_WITHDRAWN, now)


async def state_of(conn: Executor, review_id: int) -> str | None:
    """The review's state, locked until the transaction ends (what an event is decided by); as
    `store.hold_many` locks, without waiting for the rows that merely refer to the review."""
    state: str | None = await conn.fetchval("SELECT state FROM reviews WHERE id = $1 FOR NO KEY UPDATE", review_id)
    return state
