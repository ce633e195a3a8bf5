"""Appeals: a rejected author may ask once, from their review link, for a second look.

The only writer of `appeals`. The buyer's page files an appeal; the moderators' decision on it
(`reviews.moderation.decisions`) closes it. One per review, ever. A buyer's erasure deletes the
appeals of their reviews (`erase`): the text is their own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from reviews.platform.db import Connection, Executor

BODY_MIN = 10
BODY_MAX = 1000


@dataclass(frozen=True)
class Appeal:
    id: int
    review_id: int
    body: str
    state: str
    created_at: datetime
    decided_at: datetime | None


def _appeal(row: asyncpg.Record) -> Appeal:
    return Appeal(row["id"], row["review_id"], row["body"], row["state"], row["created_at"], row["decided_at"])


async def file(conn: Connection, review_id: int, body: str, now: datetime) -> Appeal | None:
    """File the review's appeal; None when it already has one (an appeal is made once)."""
    row = await conn.fetchrow(
        """INSERT INTO appeals (review_id, body, created_at) VALUES ($1, $2, $3)
           ON CONFLICT (review_id) DO NOTHING RETURNING *""", review_id, body, now)
    return _appeal(row) if row else None


async def of_review(conn: Executor, review_id: int) -> Appeal | None:
    row = await conn.fetchrow("SELECT * FROM appeals WHERE review_id = $1", review_id)
    return _appeal(row) if row else None


async def open_for(conn: Executor, review_id: int) -> Appeal | None:
    row = await conn.fetchrow("SELECT * FROM appeals WHERE review_id = $1 AND state = 'open'", review_id)
    return _appeal(row) if row else None


async def close(conn: Executor, review_id: int, now: datetime) -> None:
    await conn.execute("UPDATE appeals SET state = 'decided', decided_at = $2 WHERE review_id = $1 AND state = 'open'",
                       review_id, now)


async def reopen(conn: Executor, review_id: int, decided_at: datetime) -> None:
    """The decision that closed the appeal was undone: it waits for a moderator again."""
    await conn.execute("UPDATE appeals SET state = 'open', decided_at = NULL "
                       "WHERE review_id = $1 AND state = 'decided' AND decided_at = $2", review_id, decided_at)


async def of_reviews(conn: Executor, review_ids: Sequence[int]) -> dict[int, Appeal]:
    rows = await conn.fetch("SELECT * FROM appeals WHERE review_id = ANY($1::bigint[])", list(review_ids))
    return {r["review_id"]: _appeal(r) for r in rows}


async def erase(conn: Executor, review_ids: Sequence[int]) -> int:
    """A buyer's erasure: the appeals of their reviews go. Returns how many."""
    return int(await conn.fetchval(
        "WITH d AS (DELETE FROM appeals WHERE review_id = ANY($1::bigint[]) RETURNING 1) SELECT count(*) FROM d",
        list(review_ids)))
