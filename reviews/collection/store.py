"""The reviews aggregate: storing submissions and edits with their provenance, and state changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from reviews.platform import jobs

SCAN_JOB = "scan_review"


@dataclass(frozen=True)
class Submission:
    product_id: str | None
    product_name: str | None
    rating: int
    title: str
    body: str


async def save_invited(
    conn: asyncpg.Connection, *, merchant_id: int, order_id: int, invitation_id: int, author_hash: str | None,
    display_name: str, locale: str, items: list[Submission], now: datetime, ip_hash: str | None,
    user_agent_family: str | None,
) -> list[int]:
    """Store (or update) the buyer's reviews as `pending` and queue their scan. Returns review ids.

    An edit keeps the previous text in review_versions and sends the review back to pending.
    """
    ids: list[int] = []
    async with conn.transaction():
        for item in items:
            existing = await conn.fetchrow(
                """SELECT * FROM reviews WHERE invitation_id = $1 AND coalesce(product_id, '') = coalesce($2, '')
                   FOR UPDATE""",
                invitation_id, item.product_id,
            )
            if existing is None:
                review_id = await conn.fetchval(
                    """INSERT INTO reviews (merchant_id, product_id, product_name, order_id, invitation_id, method,
                           rating, title, body, display_name, author_hash, locale, state, ip_hash,
                           user_agent_family, submitted_at, created_at, updated_at)
                       VALUES ($1, $2, $3, $4, $5, 'invited', $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $14,
                               $14, $14)
                       RETURNING id""",
                    merchant_id, item.product_id, item.product_name, order_id, invitation_id, item.rating,
                    item.title, item.body, display_name, author_hash, locale, ip_hash, user_agent_family, now,
                )
            else:
                unchanged = (existing["rating"], existing["title"], existing["body"], existing["display_name"]) == (
                    item.rating, item.title, item.body, display_name)
                if unchanged and existing["state"] != "withdrawn":
                    ids.append(existing["id"])
                    continue
                await conn.execute(
                    """INSERT INTO review_versions (review_id, rating, title, body, display_name, saved_at)
                       VALUES ($1, $2, $3, $4, $5, $6)""",
                    existing["id"], existing["rating"], existing["title"], existing["body"],
                    existing["display_name"], now,
                )
                review_id = existing["id"]
                await conn.execute(
                    """UPDATE reviews SET rating = $2, title = $3, body = $4, display_name = $5, locale = $6,
                           state = 'pending', published_at = NULL, edited_at = $7, ip_hash = $8,
                           user_agent_family = $9, updated_at = $7 WHERE id = $1""",
                    review_id, item.rating, item.title, item.body, display_name, locale, now, ip_hash,
                    user_agent_family,
                )
                await conn.execute("DELETE FROM flags WHERE review_id = $1 AND state = 'open'", review_id)
            await jobs.enqueue(conn, SCAN_JOB, {"review_id": review_id}, now, dedupe_key=f"scan:{review_id}")
            ids.append(review_id)
    return ids


async def withdraw(conn: asyncpg.Connection, review_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE reviews SET state = 'withdrawn', published_at = NULL, updated_at = $2 WHERE id = $1", review_id, now
    )


async def publish(conn: asyncpg.Connection, review_id: int, now: datetime) -> None:
    await conn.execute(
        """UPDATE reviews SET state = 'published', published_at = COALESCE(published_at, $2), updated_at = $2
           WHERE id = $1 AND state IN ('pending', 'held')""",
        review_id, now,
    )


async def hold(conn: asyncpg.Connection, review_id: int, now: datetime) -> None:
    await conn.execute(
        """UPDATE reviews SET state = 'held', published_at = NULL, updated_at = $2
           WHERE id = $1 AND state IN ('pending', 'published')""",
        review_id, now,
    )


async def withdraw_by_buyer(conn: asyncpg.Connection, *, invitation_id: int, product_id: str | None,
                            now: datetime) -> int | None:
    """The buyer withdraws their own review (product_id None: the shop review) from their link.

    Returns the review's id, or None when there was nothing left to withdraw. The text stays stored
    (the audit trail and a later re-submission need it); widgets show only published reviews.
    """
    async with conn.transaction():
        before = await conn.fetchrow(
            """SELECT id, state FROM reviews WHERE invitation_id = $1 AND coalesce(product_id, '') = coalesce($2, '')
                 AND state <> 'withdrawn' FOR UPDATE""",
            invitation_id, product_id,
        )
        if before is None:
            return None
        await withdraw(conn, before["id"], now)
        await conn.execute(
            """INSERT INTO audit_log (actor, action, table_name, row_id, before, after, at)
               VALUES ('buyer', 'review.withdraw', 'reviews', $1, $2, $3, $4)""",
            before["id"], {"state": before["state"]}, {"state": "withdrawn"}, now,
        )
    return int(before["id"])
