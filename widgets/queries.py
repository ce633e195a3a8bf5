"""The widgets' SQL: published reviews only, always scoped by merchant. Read-only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from widgets.listing import LANGUAGE, SPAN

_FROM = "FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id"
# Newest first by when each review was written (`public.written_at`): an imported review sits among
# the others at its source's date, not on top at the day of the import.
WRITTEN_ORDER = "r.submitted_at DESC, r.id DESC"


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
    return await _shops(conn, slugs)


async def shops_and_orders(conn: asyncpg.Connection | PoolConnectionProxy, slugs: list[str]) -> dict[str, Shop]:
    """As `shops`, each version moving also when the shop's orders last changed (one index lookup),
    for the answers that read them: what the JSON-LD and the feeds read of the orders (product names,
    images, identifiers, countries) changes only then, since every order event and erasure moves its
    order's `updated_at`."""
    return await _shops(conn, slugs, more=""" || '/' || coalesce(
        (SELECT max(updated_at) FROM orders WHERE merchant_id = m.id)::text, '-')""")


async def page_states(conn: asyncpg.Connection | PoolConnectionProxy, slugs: list[str]) -> dict[str, Shop]:
    """As `shops`, with a version that changes whenever anything the shop's public pages show may
    have: besides what moves the widgets' version, any of its reviews in any state (the transparency
    figures count the held, rejected and withdrawn ones too; a moderator's decision, a flag's hold,
    an edit and a photo's approval each update the review)."""
    return await _shops(conn, slugs, reviews="")


async def _shops(conn: asyncpg.Connection | PoolConnectionProxy, slugs: list[str], *,
                 reviews: str = "AND state = 'published'", more: str = "") -> dict[str, Shop]:
    rows = await conn.fetch(
        f"""SELECT m.id, m.slug, m.name, m.locale, m.settings, m.created_at,
                  m.xmin::text || ':' || r.n || ':' || r.xmins || ':' || p.n || ':' || p.xmins
                  || ':' || t.n || ':' || t.xmins{more} AS version
           FROM merchants m
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(xmin::text::bigint), 0) AS xmins
                               FROM reviews WHERE merchant_id = m.id {reviews}) r
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


async def product_name(pool: asyncpg.Pool, merchant_id: int, product_id: str) -> str | None:
    """The name the newest published review gives the product (names change; the latest wins)."""
    return await pool.fetchval(
        """SELECT product_name FROM reviews
           WHERE merchant_id = $1 AND state = 'published' AND product_id = $2 AND product_name IS NOT NULL
           ORDER BY published_at DESC NULLS LAST, id DESC LIMIT 1""",
        merchant_id, product_id,
    )


# --- products, as their orders name them (JSON-LD, feeds) -----------------------------------------------------

# At most this many of each identifier per product: a product sold in many variants has a SKU each.
MAX_IDENTIFIERS = 10

_IDENTIFIERS = ("gtin", "mpn", "brand", "sku")
_NEWEST_IDS = ", ".join(
    f"ARRAY(SELECT {c} FROM ordered WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY max(order_id) DESC "
    f"LIMIT {MAX_IDENTIFIERS}) AS {c}s" for c in _IDENTIFIERS)
_ALL_IDS = ", ".join(
    f"(array_agg(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL))[1:{MAX_IDENTIFIERS}] AS {c}s" for c in _IDENTIFIERS)

# One product's facts from its orders: the name and image of the newest order that gave them, and its
# identifiers, most recently ordered first.
_PRODUCT = f"""
WITH ordered AS (SELECT i.name, i.url, i.image_url, i.gtin, i.mpn, i.brand, i.sku, o.id AS order_id
                 FROM order_items i JOIN orders o ON o.id = i.order_id
                 WHERE o.merchant_id = $1 AND i.product_id = $2)
SELECT (SELECT name FROM ordered ORDER BY order_id DESC LIMIT 1) AS ordered_name,
       (SELECT url FROM ordered WHERE url IS NOT NULL ORDER BY order_id DESC LIMIT 1) AS url,
       (SELECT image_url FROM ordered WHERE image_url IS NOT NULL ORDER BY order_id DESC LIMIT 1) AS image_url,
       {_NEWEST_IDS},
       (SELECT product_name FROM reviews WHERE merchant_id = $1 AND product_id = $2 AND state = 'published'
            AND product_name IS NOT NULL ORDER BY submitted_at DESC, id DESC LIMIT 1) AS reviewed_name,
       EXISTS (SELECT 1 FROM ordered)
           OR EXISTS (SELECT 1 FROM reviews WHERE merchant_id = $1 AND product_id = $2 AND state = 'published')
           AS known
"""


async def product_facts(pool: asyncpg.Pool, merchant_id: int, product_id: str) -> asyncpg.Record | None:
    """A product of the shop: ordered from it, or with a published review; None for an unknown one."""
    row = await pool.fetchrow(_PRODUCT, merchant_id, product_id)
    return row if row is not None and row["known"] else None


# --- the Google feeds: every published review, streamed ----------------------------------------------------

# The feeds' columns: never the author's hash, the IP's, nor who bought (the order's number is the
# review's transaction id, and only for a verified review; see `widgets.feed`).
_FEED_COLUMNS = """r.id, r.rating, r.title, r.body, r.display_name, r.product_id, r.product_name, r.method, r.locale,
                   r.submitted_at, r.edited_at, o.external_id AS order_external_id, o.country"""

# Product reviews with what the orders say of each product, gathered once per product.
PRODUCT_FEED = f"""
WITH reviewed AS (SELECT DISTINCT product_id FROM reviews
                  WHERE merchant_id = $1 AND state = 'published' AND product_id IS NOT NULL),
ordered AS (SELECT i.product_id, i.name, i.url, i.gtin, i.mpn, i.brand, i.sku, o.id AS order_id
            FROM order_items i JOIN orders o ON o.id = i.order_id
            WHERE o.merchant_id = $1 AND i.product_id IN (SELECT product_id FROM reviewed)),
products AS (SELECT product_id, (array_agg(name ORDER BY order_id DESC))[1] AS ordered_name,
                    (array_agg(url ORDER BY order_id DESC) FILTER (WHERE url IS NOT NULL))[1] AS url,
                    {_ALL_IDS}
             FROM ordered GROUP BY product_id)
SELECT {_FEED_COLUMNS}, p.ordered_name, p.url AS product_url, p.gtins, p.mpns, p.brands, p.skus,
       (SELECT array_agg(pp.public_key ORDER BY pp.position, pp.id) FROM published_photos pp
        WHERE pp.review_id = r.id) AS photo_keys
FROM reviews r LEFT JOIN orders o ON o.id = r.order_id LEFT JOIN products p ON p.product_id = r.product_id
WHERE r.merchant_id = $1 AND r.state = 'published' AND r.product_id IS NOT NULL
ORDER BY {WRITTEN_ORDER}
"""

# The shop's own reviews (no product): the seller ratings feed.
MERCHANT_FEED = f"""
SELECT {_FEED_COLUMNS}
FROM reviews r LEFT JOIN orders o ON o.id = r.order_id
WHERE r.merchant_id = $1 AND r.state = 'published' AND r.product_id IS NULL
ORDER BY {WRITTEN_ORDER}
"""

# Rows fetched from the server-side cursor at a time: the feed holds no more than these in memory.
FEED_FETCH = 500


async def stream(pool: asyncpg.Pool, query: str, merchant_id: int,
                 prefetch: int = FEED_FETCH) -> AsyncIterator[asyncpg.Record]:
    """Every row of a feed query, read through a server-side cursor in one read-only snapshot, so a
    shop of 100,000 reviews costs what one batch of rows does."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(query, merchant_id, prefetch=prefetch):
            yield row


async def review_facets(pool: asyncpg.Pool, merchant_id: int, product_id: str | None) -> dict[str, Any]:
    """What the filters offer and the summary counts, over the published reviews of the shop (or of one
    product): how many by collection method, by language, with a reply, of the shop itself, and per
    product with the name its newest review gives it, and how many have photos."""
    rows = await pool.fetch(
        f"""WITH p AS (
                SELECT r.id, r.method, r.product_id, r.product_name, r.published_at, {LANGUAGE} AS language,
                       rr.review_id IS NOT NULL AS replied,
                       EXISTS (SELECT 1 FROM published_photos pp WHERE pp.review_id = r.id) AS photographed
                {_FROM} WHERE r.merchant_id = $1 AND r.state = 'published' AND ($2::text IS NULL OR r.product_id = $2))
            SELECT 'method' AS facet, method AS key, NULL AS name, count(*) AS n FROM p GROUP BY method
            UNION ALL SELECT 'language', language, NULL, count(*) FROM p GROUP BY language
            UNION ALL SELECT 'replied', 'yes', NULL, count(*) FROM p WHERE replied
            UNION ALL SELECT 'photos', 'yes', NULL, count(*) FROM p WHERE photographed
            UNION ALL SELECT 'shop', 'shop', NULL, count(*) FROM p WHERE product_id IS NULL
            UNION ALL SELECT 'product', product_id,
                             (array_agg(product_name ORDER BY published_at DESC, id DESC)
                                FILTER (WHERE product_name IS NOT NULL))[1], count(*)
                      FROM p WHERE product_id IS NOT NULL GROUP BY product_id""",
        merchant_id, product_id,
    )
    facets: dict[str, Any] = {"methods": {}, "languages": {}, "replied": 0, "photos": 0, "shop": 0, "products": []}
    for r in rows:
        if r["facet"] == "method":
            facets["methods"][r["key"]] = int(r["n"])
        elif r["facet"] == "language":
            facets["languages"][r["key"]] = int(r["n"])
        elif r["facet"] in ("replied", "photos", "shop"):
            facets[r["facet"]] = int(r["n"])
        else:
            facets["products"].append((r["key"], r["name"] or r["key"], int(r["n"])))
    facets["products"].sort(key=lambda p: (p[1].casefold(), p[0]))
    return facets


class Product(NamedTuple):
    product_id: str
    name: str
    image_url: str | None
    url: str | None
    gtin: str | None


async def product(pool: asyncpg.Pool, merchant_id: int, product_id: str) -> Product | None:
    """A product of the shop as its orders describe it (the newest order's name, image, address and GTIN
    win), else as its published reviews name it; None when neither knows it."""
    facts = await product_facts(pool, merchant_id, product_id)
    if facts is None:
        return None
    name = facts["ordered_name"] or facts["reviewed_name"] or product_id
    gtins = facts["gtins"] or []
    return Product(product_id, name, facts["image_url"], facts["url"], gtins[0] if gtins else None)


SITEMAP_CAP = 49_999  # a sitemap holds 50,000 addresses; one is the shop's own page


async def sitemap_products(pool: asyncpg.Pool, merchant_id: int) -> list[asyncpg.Record]:
    """Each product with published reviews and when its newest one was published, most recent first."""
    return await pool.fetch(
        """SELECT product_id, max(published_at) AS lastmod FROM reviews
           WHERE merchant_id = $1 AND state = 'published' AND product_id IS NOT NULL
           GROUP BY product_id ORDER BY lastmod DESC NULLS LAST, product_id LIMIT $2""",
        merchant_id, SITEMAP_CAP,
    )




async def latest_published(pool: asyncpg.Pool, merchant_id: int) -> Any:
    """When the shop's newest published review was published (None without any)."""
    return await pool.fetchval(
        "SELECT max(published_at) FROM reviews WHERE merchant_id = $1 AND state = 'published'", merchant_id)


# --- what buyers mention (the topic tables of `reviews.insights`) ---------------------------------------------

# A topic's label and quote candidates, each the span of a review that is still published and still says it
# (the md5 of the span as it was computed): an edited, withdrawn or erased review shows nothing before the
# next recomputation even takes it out of the counts.


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
                       {SPAN} AS text
                FROM topics t
                JOIN topic_mentions m ON m.topic_id = t.id AND (m.is_label OR m.quote_rank IS NOT NULL)
                JOIN reviews r ON r.id = m.review_id AND r.merchant_id = $2 AND r.state = 'published'
                WHERE t.set_id = $1 AND md5({SPAN}) = m.clause_md5
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
