"""The widgets' SQL: published reviews only, always scoped by merchant. Read-only."""

from __future__ import annotations

from typing import Any, NamedTuple

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# Only what a public widget may show: never author_hash, ip_hash, order or invitation ids. The shop's
# public reply comes with each review (review_replies: its own, or the one an imported review came with).
_PUBLIC_COLUMNS = """r.id, r.rating, r.title, r.body, r.display_name, r.product_id, r.product_name, r.method, r.locale,
                     r.submitted_at, r.published_at, r.edited_at, rr.body AS reply, rr.updated_at AS reply_at"""
_FROM = "FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id"

FEED_CAP = 10_000


class Shop(NamedTuple):
    merchant: asyncpg.Record
    # Changes whenever anything a widget shows of the shop may have: its row, any published review
    # of it, any reply of the shop's, or the topics of any of its products (each recomputation
    # writes its product's topic_sets row). Every UPDATE writes a new row version with a newer xmin,
    # so a review that is edited, published, withdrawn or held, or a reply written or edited, changes
    # a count or a sum; SELECT ... FOR UPDATE does not.
    version: str


async def shops(conn: asyncpg.Connection | PoolConnectionProxy, slugs: list[str]) -> dict[str, Shop]:
    """The shops of these slugs (the unknown ones left out), each with its version."""
    rows = await conn.fetch(
        """SELECT m.id, m.slug, m.name, m.locale, m.settings,
                  m.xmin::text || ':' || r.n || ':' || r.xmins || ':' || p.n || ':' || p.xmins
                  || ':' || t.n || ':' || t.xmins AS version
           FROM merchants m
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(xmin::text::bigint), 0) AS xmins
                               FROM reviews WHERE merchant_id = m.id AND state = 'published') r
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(xmin::text::bigint), 0) AS xmins
                               FROM review_replies WHERE merchant_id = m.id) p
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(xmin::text::bigint), 0) AS xmins
                               FROM topic_sets WHERE merchant_id = m.id) t
           WHERE m.slug = ANY($1::text[])""",
        slugs,
    )
    return {r["slug"]: Shop(r, r["version"]) for r in rows}


async def summary(pool: asyncpg.Pool, merchant_id: int, product_id: str | None) -> dict[str, Any]:
    rows = await pool.fetch(
        """SELECT rating, count(*) AS n FROM reviews
           WHERE merchant_id = $1 AND state = 'published' AND ($2::text IS NULL OR product_id = $2)
           GROUP BY rating""",
        merchant_id, product_id,
    )
    distribution = {str(n): 0 for n in range(1, 6)}
    for r in rows:
        distribution[str(r["rating"])] = r["n"]
    count = sum(distribution.values())
    total = sum(int(k) * v for k, v in distribution.items())
    return {"average": round(total / count, 2) if count else None, "count": count, "distribution": distribution}


async def reviews_page(pool: asyncpg.Pool, merchant_id: int, *, product_id: str | None, lang: str | None,
                       limit: int, offset: int) -> tuple[list[asyncpg.Record], int]:
    """One page of published reviews, newest first, and how many there are in all."""
    where = """WHERE r.merchant_id = $1 AND r.state = 'published' AND ($2::text IS NULL OR r.product_id = $2)
               AND ($3::text IS NULL OR lower(split_part(replace(r.locale, '_', '-'), '-', 1)) = $3)"""
    total = await pool.fetchval(f"SELECT count(*) FROM reviews r {where}", merchant_id, product_id, lang)
    rows = await pool.fetch(
        f"""SELECT {_PUBLIC_COLUMNS} {_FROM} {where}
            ORDER BY r.published_at DESC NULLS LAST, r.id DESC LIMIT $4 OFFSET $5""",
        merchant_id, product_id, lang, limit, offset,
    )
    return rows, int(total)


async def latest(pool: asyncpg.Pool, merchant_id: int, product_id: str | None, limit: int) -> list[asyncpg.Record]:
    rows, _ = await reviews_page(pool, merchant_id, product_id=product_id, lang=None, limit=limit, offset=0)
    return rows


async def product_name(pool: asyncpg.Pool, merchant_id: int, product_id: str) -> str | None:
    """The name the newest published review gives the product (names change; the latest wins)."""
    return await pool.fetchval(
        """SELECT product_name FROM reviews
           WHERE merchant_id = $1 AND state = 'published' AND product_id = $2 AND product_name IS NOT NULL
           ORDER BY published_at DESC NULLS LAST, id DESC LIMIT 1""",
        merchant_id, product_id,
    )


async def feed_reviews(pool: asyncpg.Pool, merchant_id: int) -> list[asyncpg.Record]:
    """Published product reviews for the shopping feed, newest first, capped."""
    return await pool.fetch(
        f"""SELECT {_PUBLIC_COLUMNS} {_FROM}
            WHERE r.merchant_id = $1 AND r.state = 'published' AND r.product_id IS NOT NULL
            ORDER BY r.published_at DESC NULLS LAST, r.id DESC LIMIT $2""",
        merchant_id, FEED_CAP,
    )


# --- what buyers mention (the topic tables of `reviews.insights`) ---------------------------------------------

# A topic's label and quote candidates, each the span of a review that is still published and still says it
# (the md5 of the span as it was computed): an edited, withdrawn or erased review shows nothing before the
# next recomputation even takes it out of the counts.
_PHRASE = "substr(CASE m.field WHEN 'title' THEN r.title ELSE r.body END, m.start_at + 1, m.end_at - m.start_at)"


async def topic_set(pool: asyncpg.Pool, merchant_id: int, product_id: str | None) -> asyncpg.Record | None:
    """When the topics of this product (None: the shop's own reviews) were computed, from how many reviews."""
    return await pool.fetchrow(
        """SELECT id, computed_at, reviews FROM topic_sets
           WHERE merchant_id = $1 AND product_id IS NOT DISTINCT FROM $2""",
        merchant_id, product_id,
    )


async def topics(pool: asyncpg.Pool, merchant_id: int, set_id: int) -> tuple[list[asyncpg.Record],
                                                                             list[asyncpg.Record]]:
    """A topic set's topics, most mentioned first, and their labels and quote candidates."""
    async with pool.acquire() as conn:
        found = await conn.fetch(
            """SELECT id, position, review_count, stars_high, stars_mid, stars_low, languages, main_language
               FROM topics WHERE set_id = $1 ORDER BY position""",
            set_id,
        )
        phrases = await conn.fetch(
            f"""SELECT m.topic_id, m.review_id, m.language, m.centrality, m.is_label, m.quote_rank, r.rating,
                       {_PHRASE} AS text
                FROM topics t
                JOIN topic_mentions m ON m.topic_id = t.id AND (m.is_label OR m.quote_rank IS NOT NULL)
                JOIN reviews r ON r.id = m.review_id AND r.merchant_id = $2 AND r.state = 'published'
                WHERE t.set_id = $1 AND md5({_PHRASE}) = m.clause_md5
                ORDER BY m.topic_id, m.review_id, m.start_at""",
            set_id, merchant_id,
        )
    return found, phrases


async def has_published(pool: asyncpg.Pool, merchant_id: int, product_id: str | None) -> bool:
    """Whether this product (None: the shop's own reviews) has a published review."""
    return bool(await pool.fetchval(
        """SELECT EXISTS (SELECT 1 FROM reviews
                          WHERE merchant_id = $1 AND product_id IS NOT DISTINCT FROM $2 AND state = 'published')""",
        merchant_id, product_id,
    ))


async def topic_reviews(pool: asyncpg.Pool, merchant_id: int, topic_id: int, *, limit: int,
                        offset: int) -> tuple[list[asyncpg.Record], int]:
    """One page of the published reviews that mention a topic, newest first, each with the spans
    that mention it (`mentions`: [{"field", "start", "end"}], for highlighting), and how many there
    are in all: what a topic chip filters the list to. Only spans the review still says count."""
    where = f"""FROM topic_mentions m JOIN topics t ON t.id = m.topic_id JOIN topic_sets s ON s.id = t.set_id
                JOIN reviews r ON r.id = m.review_id AND r.merchant_id = s.merchant_id AND r.state = 'published'
                WHERE m.topic_id = $2 AND s.merchant_id = $1 AND md5({_PHRASE}) = m.clause_md5"""
    total = await pool.fetchval(f"SELECT count(DISTINCT m.review_id) {where}", merchant_id, topic_id)
    rows = await pool.fetch(
        f"""WITH hits AS (SELECT m.review_id,
                                 json_agg(json_build_object('field', m.field, 'start', m.start_at, 'end', m.end_at)
                                          ORDER BY m.field DESC, m.start_at) AS mentions
                          {where} GROUP BY m.review_id)
            SELECT {_PUBLIC_COLUMNS}, hits.mentions {_FROM} JOIN hits ON hits.review_id = r.id
            ORDER BY r.published_at DESC NULLS LAST, r.id DESC LIMIT $3 OFFSET $4""",
        merchant_id, topic_id, limit, offset,
    )
    return rows, int(total)
