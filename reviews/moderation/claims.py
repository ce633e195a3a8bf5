"""Claims: a moderator who opens a review holds it for a few minutes, shown to the others.

The only writer of `review_claims`. A claim is advice, not a lock: a decision checks the review's
version instead, so a stale claim never blocks anyone for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reviews.platform.db import Executor

CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    review_id: int
    user_id: int
    email: str
    until: datetime


async def claim(conn: Executor, review_id: int, user_id: int, now: datetime) -> Claim | None:
    """Claim the review unless another moderator's claim still runs; returns the claim that holds."""
    row = await conn.fetchrow(
        """WITH taken AS (
               INSERT INTO review_claims (review_id, user_id, until) VALUES ($1, $2, $3)
               ON CONFLICT (review_id) DO UPDATE SET user_id = EXCLUDED.user_id, until = EXCLUDED.until
               WHERE review_claims.user_id = EXCLUDED.user_id OR review_claims.until < $4
               RETURNING review_id, user_id, until)
           SELECT c.review_id, c.user_id, c.until, u.email
           FROM (SELECT * FROM taken UNION ALL
                 SELECT review_id, user_id, until FROM review_claims
                 WHERE review_id = $1 AND NOT EXISTS (SELECT 1 FROM taken)) c
           JOIN users u ON u.id = c.user_id""",
        review_id, user_id, now + CLAIM, now)
    return Claim(row["review_id"], row["user_id"], row["email"], row["until"]) if row else None


async def holders(conn: Executor, review_ids: list[int], now: datetime) -> dict[int, str]:
    """Who holds each of these reviews right now (their address), for the queue."""
    rows = await conn.fetch(
        """SELECT c.review_id, u.email FROM review_claims c JOIN users u ON u.id = c.user_id
           WHERE c.review_id = ANY($1) AND c.until >= $2""", review_ids, now)
    return {r["review_id"]: r["email"] for r in rows}


async def release(conn: Executor, review_ids: list[int]) -> None:
    await conn.execute("DELETE FROM review_claims WHERE review_id = ANY($1::bigint[])", review_ids)
