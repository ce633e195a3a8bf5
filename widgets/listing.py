"""One page of a shop's published reviews, filtered and sorted: what `reviews.json`, the embed.js
reviews widget and carousel, the SEO fragment and the iframe page list. Read-only, always scoped by
merchant; every value reaches SQL as a parameter and the ORDER BY is picked from fixed strings."""

from __future__ import annotations

from typing import NamedTuple

import asyncpg

SORTS = ("newest", "highest", "lowest")
# A review's language as its primary subtag ("pl" for "pl-PL" and "pl_PL"); '' when unknown.
LANGUAGE = "lower(split_part(replace(coalesce(r.locale, ''), '_', '-'), '-', 1))"
# "Newest" is by when the author wrote the review (`submitted_at`: an import keeps its source's date),
# never by when Attest published it (the import day for every imported review).
_ORDER = {
    "newest": "r.submitted_at DESC, r.id DESC",
    "highest": "r.rating DESC, r.submitted_at DESC, r.id DESC",
    "lowest": "r.rating ASC, r.submitted_at DESC, r.id DESC",
}
# Only what a public widget may show: never author_hash, ip_hash, order or invitation ids.
_COLUMNS = f"""r.id, r.rating, r.title, r.body, r.display_name, r.product_id, r.product_name, r.method, r.locale,
               r.submitted_at, r.published_at, r.edited_at, rr.body AS reply, rr.updated_at AS reply_at,
               {LANGUAGE} AS language, r.import_source"""
_FROM = "FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id"
_WHERE = f"""WHERE r.merchant_id = $1 AND r.state = 'published' AND ($2::text IS NULL OR r.product_id = $2)
             AND ($3::int IS NULL OR r.rating = $3) AND (NOT $4::bool OR rr.review_id IS NOT NULL)
             AND ($5::text IS NULL OR {LANGUAGE} = $5)"""


class Listing(NamedTuple):
    rows: list[asyncpg.Record]
    total: int  # how many reviews the filters select, on every page


async def published_reviews(pool: asyncpg.Pool, merchant_id: int, *, product_id: str | None = None,
                            stars: int | None = None, with_reply: bool = False, language: str | None = None,
                            first_language: str | None = None, sort: str = "newest", limit: int = 10,
                            offset: int = 0) -> Listing:
    """One page of the shop's published reviews (or one product's) and how many there are in all.

    Filters: `stars` (one rating, 1-5), `with_reply` (only those the shop answered), `language` (only
    those written in it, a primary subtag such as "pl"). Languages are pooled: with `first_language`
    (the visitor's) every language is listed, that one's reviews first, each part in `sort` order
    (newest, highest, lowest). Each row has the public columns, the shop's reply (`reply`, `reply_at`)
    and `language`."""
    if sort not in _ORDER:
        raise ValueError(f"unknown sort {sort!r}")
    args = (merchant_id, product_id, stars, with_reply, language)
    # The total rides on each row (one query, one scan), except past the last page, where there is none.
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS}, count(*) OVER () AS total {_FROM} {_WHERE}
            ORDER BY ({LANGUAGE} = $6) DESC NULLS LAST, {_ORDER[sort]} LIMIT $7 OFFSET $8""",
        *args, first_language, limit, offset,
    )
    if rows:
        return Listing(rows, int(rows[0]["total"]))
    total = await pool.fetchval(f"SELECT count(*) {_FROM} {_WHERE}", *args) if offset else 0
    return Listing(rows, int(total))
