"""The lexical candidate path: MinHash bands of a review's character 4-grams, kept in PostgreSQL.

The vector top-k misses an edited copy of a template posted months later when twenty closer reviews
of the same product fill its neighbourhood; a copy shares most of its shingles with the template
however crowded that neighbourhood is. Each review long enough to be copied stores `text.BANDS` band
keys (`text.ROWS` MinHash values each, over its 64-bit shingle ids); two texts whose shingle Jaccard
index is s share a band with probability 1 - (1 - s^ROWS)^BANDS: 0.96 at s = 0.5 (the detector's
lexical threshold), 0.99 at 0.57, 0.18 at 0.2 (on the dev corpus' 51,000 pairs every one at 0.5 or
more shared a band). A scan reads the `Params.lexical_k` earlier reviews sharing the most bands with
its own beside its two vector searches (`embedding.detect.lexical_keys` says which texts have
bands); `embedding.detect.scan_corpus` does the same offline. The one
writer of `review_shingles`.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# As in `embedding.store`, which calls this module when it forgets a review's text.
Connection = asyncpg.Connection | PoolConnectionProxy
Executor = Connection | asyncpg.Pool


async def save(conn: Connection, review_id: int, submitted_at: datetime, keys: list[int] | None) -> None:
    """Store the review's bands, or forget them (None: the text is not informative enough to copy)."""
    if keys is None:
        await conn.execute("DELETE FROM review_shingles WHERE review_id = $1", review_id)
        return
    await conn.execute(
        """INSERT INTO review_shingles (review_id, submitted_at, bands) VALUES ($1, $2, $3)
           ON CONFLICT (review_id) DO UPDATE SET submitted_at = EXCLUDED.submitted_at, bands = EXCLUDED.bands""",
        review_id, submitted_at, keys)


CANDIDATES_SQL = """
    SELECT review_id FROM (
        SELECT review_id, submitted_at, (SELECT count(*) FROM unnest(bands) b WHERE b = ANY($1)) AS shared
        FROM review_shingles
        WHERE bands && $1 AND (submitted_at < $2 OR (submitted_at = $2 AND review_id < $3)) AND review_id <> $3
    ) c
    ORDER BY shared DESC, submitted_at DESC, review_id DESC
    LIMIT $4"""


async def candidates(conn: Executor, keys: list[int], before: datetime, exclude: int, limit: int) -> list[int]:
    """The earlier reviews sharing the most bands with `keys` (most recent first among equals)."""
    rows = await conn.fetch(CANDIDATES_SQL, keys, before, exclude, limit)
    return [r["review_id"] for r in rows]


async def delete(conn: Executor, review_ids: list[int]) -> None:
    await conn.execute("DELETE FROM review_shingles WHERE review_id = ANY($1::bigint[])", list(review_ids))
