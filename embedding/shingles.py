"""The lexical candidate path: MinHash bands of a review's character 4-grams, kept in PostgreSQL.

The vector top-k misses an edited copy of a template posted months later when twenty closer reviews
of the same product fill its neighbourhood; a copy shares most of its shingles with the template
however crowded that neighbourhood is. Each review long enough to be copied stores `text.BANDS` band
keys (`text.ROWS` MinHash values each, over its 64-bit shingle ids); two texts whose shingle Jaccard
index is s share a band with probability 1 - (1 - s^ROWS)^BANDS: 0.96 at s = 0.5 (the detector's
lexical threshold), 0.99 at 0.57, 0.18 at 0.2 (on the dev corpus' 51,000 pairs every one at 0.5 or
more shared a band). A scan reads the `Params.lexical_k` earlier reviews sharing the most bands with
its own beside its two vector searches (`embedding.detect.lexical_keys` says which texts have
bands); `embedding.detect.scan_corpus` does the same offline.

Each band is a row, ordered by time within its band, and a check reads at most `PER_BAND` of the
latest earlier reviews of each of its bands: a common band (a stock phrase) holds thousands of
reviews at a million, and counting them all was the check's tail. A template's copy shares its rare
bands too, where the template is among the few. The one writer of `review_bands`.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# As in `embedding.store`, which calls this module when it forgets a review's text.
Connection = asyncpg.Connection | PoolConnectionProxy
Executor = Connection | asyncpg.Pool


PER_BAND = 64  # the latest earlier reviews read in each band (bench/search.py measures the copies found)


async def save(conn: Connection, review_id: int, submitted_at: datetime, keys: list[int] | None) -> None:
    """Store the review's bands, or forget them (None: the text is not informative enough to copy).
    One statement, so one round trip in the scan's transaction: the rows that are not among the new
    bands go, the new ones that are not there yet come (a rescan of the same text changes nothing)."""
    await conn.execute(
        """WITH gone AS (
               DELETE FROM review_bands
               WHERE review_id = $1 AND NOT coalesce(band = ANY($3::bigint[]) AND submitted_at = $2, false)
           )
           INSERT INTO review_bands (band, submitted_at, review_id)
           SELECT DISTINCT band, $2::timestamptz, $1::bigint FROM unnest($3::bigint[]) AS band
           ON CONFLICT DO NOTHING""",
        review_id, submitted_at, keys)


CANDIDATES_SQL = """
    SELECT review_id FROM (
        SELECT r.review_id, count(*) AS shared, max(r.submitted_at) AS submitted_at
        FROM (SELECT DISTINCT unnest($1::bigint[]) AS band) k
        CROSS JOIN LATERAL (
            SELECT b.review_id, b.submitted_at FROM review_bands b
            WHERE b.band = k.band AND (b.submitted_at, b.review_id) < ($2::timestamptz, $3::bigint)
            ORDER BY b.submitted_at DESC, b.review_id DESC
            LIMIT $5) r
        WHERE r.review_id <> $3
        GROUP BY r.review_id
    ) c
    ORDER BY shared DESC, submitted_at DESC, review_id DESC
    LIMIT $4"""


async def candidates(conn: Executor, keys: list[int], before: datetime, exclude: int, limit: int) -> list[int]:
    """The earlier reviews sharing the most bands with `keys` among the latest `PER_BAND` of each band
    (most recent first among equals)."""
    rows = await conn.fetch(CANDIDATES_SQL, keys, before, exclude, limit, PER_BAND)
    return [r["review_id"] for r in rows]


async def delete(conn: Executor, review_ids: list[int]) -> None:
    await conn.execute("DELETE FROM review_bands WHERE review_id = ANY($1::bigint[])", list(review_ids))
