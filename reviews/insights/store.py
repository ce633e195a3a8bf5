"""The topic tables and the clause-vector cache: the only writer of `clause_vectors`,
`topic_sets`, `topics` and `topic_mentions`, and the reads the recomputation needs.

Only published reviews are ever grouped. A recomputation replaces a product's topics whole, in
the transaction that settles its job, each keeping the id of the old topic it continues
(`identity`); the cache keeps each review's clause vectors while its text
(and the splitter) stay the same, and forgets those of reviews that left for good.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from reviews.insights import clauses, identity
from reviews.insights.topics import Topic
from reviews.platform.db import Connection, Executor

FIELDS = (clauses.TITLE, clauses.BODY)  # a span's field, by its number in `clause_vectors.spans`

# The hash a review's cached clauses were made from: the splitter's version, the language and
# the text. The same expression in SQL and in `text_hash`, so staleness is found in the query.
_HASH_SQL = f"""md5('{clauses.VERSION}:' || {{lang}} || ':' || md5(coalesce(r.title, ''))
                    || md5(coalesce(r.body, '')))"""
_LANG_SQL = "coalesce(r.locale, m.locale)"
_PRODUCT = "r.merchant_id = $1 AND r.product_id IS NOT DISTINCT FROM $2 AND r.state = 'published'"
# Without an address (some imports), the merchant-scoped display name stands for the author.
_AUTHOR_SQL = "coalesce(r.author_hash, 'name:' || lower(trim(r.display_name)))"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def text_hash(title: str | None, body: str | None, lang: str) -> str:
    return _md5(f"{clauses.VERSION}:{lang}:{_md5(title or '')}{_md5(body or '')}")


def clause_md5(text: str) -> str:
    return _md5(text)


@dataclass(frozen=True)
class Published:
    """A published review as topics need it, with its cached clauses when they are current."""

    id: int
    rating: int
    title: str
    body: str
    language: str  # as stored (its primary subtag is what counts)
    author: str
    text_hash: str
    spans: list[int] | None  # None: not cached for this text
    vectors: bytes | None
    dim: int | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Published:
        current = row["cached_hash"] == row["text_hash"]
        return cls(row["id"], row["rating"], row["title"] or "", row["body"] or "", row["lang"], row["author"],
                   row["text_hash"], list(row["spans"]) if current else None, row["vectors"] if current else None,
                   row["dim"] if current else None)


async def stale(conn: Executor, merchant_id: int, product_id: str | None, model: str) -> list[Published]:
    """The published reviews of this product whose clauses are not cached for their current text."""
    rows = await conn.fetch(
        f"""SELECT r.id, r.rating, r.title, r.body, {_LANG_SQL} AS lang, {_AUTHOR_SQL} AS author,
                   {_HASH_SQL.format(lang=_LANG_SQL)} AS text_hash,
                   NULL::text AS cached_hash, NULL::int[] AS spans, NULL::bytea AS vectors, NULL::int AS dim
            FROM reviews r JOIN merchants m ON m.id = r.merchant_id
            LEFT JOIN clause_vectors c ON c.review_id = r.id AND c.model = $3
            WHERE {_PRODUCT} AND c.text_hash IS DISTINCT FROM {_HASH_SQL.format(lang=_LANG_SQL)}
            ORDER BY r.id""",
        merchant_id, product_id, model)
    return [Published.from_row(r) for r in rows]


async def published(conn: Executor, merchant_id: int, product_id: str | None, model: str) -> list[Published]:
    """Every published review of this product (product_id None: the shop's own), by id, with its
    cached clauses where current."""
    rows = await conn.fetch(
        f"""SELECT r.id, r.rating, r.title, r.body, {_LANG_SQL} AS lang, {_AUTHOR_SQL} AS author,
                   {_HASH_SQL.format(lang=_LANG_SQL)} AS text_hash,
                   c.text_hash AS cached_hash, c.spans, c.vectors, c.dim
            FROM reviews r JOIN merchants m ON m.id = r.merchant_id
            LEFT JOIN clause_vectors c ON c.review_id = r.id AND c.model = $3
            WHERE {_PRODUCT}
            ORDER BY r.id""",
        merchant_id, product_id, model)
    return [Published.from_row(r) for r in rows]


@dataclass(frozen=True)
class Cached:
    review_id: int
    text_hash: str
    spans: list[int]  # field number, start, end, for each clause
    vectors: bytes
    dim: int


async def save_clauses(conn: Connection, model: str, rows: Sequence[Cached], now: datetime) -> None:
    if not rows:
        return
    await conn.executemany(
        """INSERT INTO clause_vectors (review_id, model, text_hash, spans, vectors, dim, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (review_id, model) DO UPDATE SET text_hash = EXCLUDED.text_hash, spans = EXCLUDED.spans,
               vectors = EXCLUDED.vectors, dim = EXCLUDED.dim, created_at = EXCLUDED.created_at""",
        [(r.review_id, model, r.text_hash, r.spans, r.vectors, r.dim, now) for r in rows])


async def forget_gone(conn: Connection, merchant_id: int, product_id: str | None) -> int:
    """Drop the cached clauses of this product's withdrawn and rejected reviews (an erased text's
    vectors must not outlive it); held and pending ones keep theirs for when they are published."""
    return int(await conn.fetchval(
        """WITH d AS (DELETE FROM clause_vectors c USING reviews r
                      WHERE c.review_id = r.id AND r.merchant_id = $1 AND r.product_id IS NOT DISTINCT FROM $2
                        AND r.state IN ('withdrawn', 'rejected')
                      RETURNING 1) SELECT count(*) FROM d""",
        merchant_id, product_id))


async def lock(conn: Connection, merchant_id: int, product_id: str | None) -> None:
    """One recomputation of a product at a time (until the transaction ends): a slower one that
    read older reviews must not overwrite a newer one's topics."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 1))",
                       f"topics:{merchant_id}:{'p:' + product_id if product_id is not None else 'shop'}")


async def _clauses_of(conn: Connection, set_id: int) -> dict[int, set[identity.Clause]]:
    """The clauses of each topic of this set, as stored by the last recomputation."""
    found: dict[int, set[identity.Clause]] = {}
    for r in await conn.fetch("""SELECT m.topic_id, m.review_id, m.clause_md5 FROM topics t
                                 JOIN topic_mentions m ON m.topic_id = t.id WHERE t.set_id = $1""", set_id):
        found.setdefault(r["topic_id"], set()).add((r["review_id"], r["clause_md5"]))
    return found


async def replace(conn: Connection, merchant_id: int, product_id: str | None, model: str, reviews: int,
                  topics: Sequence[Topic], now: datetime) -> int:
    """This product's topics, replacing the ones before (each keeping the id of the old one it continues).
    Returns the topic set's id."""
    set_id: int = await conn.fetchval(
        """INSERT INTO topic_sets (merchant_id, product_id, model, reviews, computed_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (merchant_id, product_id) DO UPDATE SET model = EXCLUDED.model, reviews = EXCLUDED.reviews,
               computed_at = EXCLUDED.computed_at
           RETURNING id""",
        merchant_id, product_id, model, reviews, now)
    kept = identity.carry(await _clauses_of(conn, set_id),
                          [{(p.mention.review_id, clause_md5(p.mention.text)) for p in t.mentions} for t in topics])
    await conn.execute("DELETE FROM topics WHERE set_id = $1", set_id)
    if not topics:
        return set_id
    ids = await conn.fetch(
        """INSERT INTO topics (id, set_id, position, review_count, stars_high, stars_mid, stars_low, languages,
                               main_language)
           SELECT coalesce(t.kept, nextval(pg_get_serial_sequence('topics', 'id'))), $1, t.position, t.review_count,
                  t.high, t.mid, t.low, t.languages, t.main_language
           FROM unnest($9::bigint[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::jsonb[], $8::text[])
                AS t(kept, position, review_count, high, mid, low, languages, main_language)
           RETURNING id, position""",
        set_id, [t.position for t in topics], [t.review_count for t in topics],
        [t.stars["high"] for t in topics], [t.stars["mid"] for t in topics], [t.stars["low"] for t in topics],
        [t.languages for t in topics], [t.main_language for t in topics], kept)
    by_position = {r["position"]: r["id"] for r in ids}
    placed = [(by_position[t.position], p) for t in topics for p in t.mentions]
    await conn.execute(
        """INSERT INTO topic_mentions (topic_id, review_id, field, start_at, end_at, clause_md5, language, centrality,
                                       is_label, quote_rank)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[],
                                $8::real[], $9::boolean[], $10::smallint[])""",
        [topic_id for topic_id, _ in placed], [p.mention.review_id for _, p in placed],
        [p.mention.field for _, p in placed], [p.mention.start for _, p in placed],
        [p.mention.end for _, p in placed], [clause_md5(p.mention.text) for _, p in placed],
        [p.mention.language for _, p in placed], [p.centrality for _, p in placed],
        [p.label for _, p in placed], [p.quote_rank for _, p in placed])
    return set_id
