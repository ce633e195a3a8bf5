"""The one listing of a shop's published reviews: what the public pages, `reviews.json` (and so the
embed.js reviews widget and carousel), the SEO fragment, the iframe page and the JSON-LD list.

Filters (stars, product or the shop's own reviews, language, with a reply, with photos, a topic),
sort and paging, languages pooled with the visitor's first. Read-only, always scoped by merchant;
every value reaches SQL as a parameter and the ORDER BY is picked from fixed strings. Each row
carries the photos shoppers may see with it (`published_photos`: approved, of a published review)
and, under a topic, the spans of the review that mention it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import asyncpg

from widgets.dates import WRITTEN_AT_COLUMN

SORTS = ("newest", "highest", "lowest")
# A review's language as its primary subtag ("pl" for "pl-PL" and "pl_PL"); '' when unknown.
LANGUAGE = "lower(split_part(replace(coalesce(r.locale, ''), '_', '-'), '-', 1))"
# "Newest" is by when the author wrote the review (an import keeps its source's date), never by when
# Attest published it (the import day for every imported review).
_WRITTEN = f"r.{WRITTEN_AT_COLUMN}"
_ORDER = {
    "newest": f"{_WRITTEN} DESC, r.id DESC",
    "highest": f"r.rating DESC, {_WRITTEN} DESC, r.id DESC",
    "lowest": f"r.rating ASC, {_WRITTEN} DESC, r.id DESC",
}
# The photos shoppers may see with a review, in the author's order: their public names and sizes,
# what a surface needs to link them and reserve their space.
PHOTOS = """(SELECT json_agg(json_build_object('key', pp.public_key, 'width', pp.width, 'height', pp.height,
                                              'thumb_width', pp.thumb_width, 'thumb_height', pp.thumb_height,
                                              'caption', pp.caption) ORDER BY pp.position, pp.id)
             FROM published_photos pp WHERE pp.review_id = r.id)"""
# Only what a public widget may show: never author_hash, ip_hash, order or invitation ids.
_COLUMNS = f"""r.id, r.rating, r.title, r.body, r.display_name, r.product_id, r.product_name, r.method, r.locale,
               r.submitted_at, r.published_at, r.edited_at, rr.body AS reply, rr.updated_at AS reply_at,
               {LANGUAGE} AS language, r.import_source"""
_FROM = "FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id"
# A topic's spans in a review, counted only while the review still says them (the md5 of the span as it
# was computed): an edited review shows no stale highlight before the next recomputation.
SPAN = "substr(CASE m.field WHEN 'title' THEN r.title ELSE r.body END, m.start_at + 1, m.end_at - m.start_at)"
_MENTIONS = f"""FROM topic_mentions m JOIN topics t ON t.id = m.topic_id JOIN topic_sets s ON s.id = t.set_id
                WHERE m.topic_id = $8 AND m.review_id = r.id AND s.merchant_id = $1 AND md5({SPAN}) = m.clause_md5"""
_WHERE = f"""WHERE r.merchant_id = $1 AND r.state = 'published'
             AND ($2::text IS NULL OR r.product_id = $2) AND (NOT $3::bool OR r.product_id IS NULL)
             AND ($4::int IS NULL OR r.rating = $4) AND ($5::text IS NULL OR {LANGUAGE} = $5)
             AND (NOT $6::bool OR rr.review_id IS NOT NULL)
             AND (NOT $7::bool OR EXISTS (SELECT 1 FROM published_photos pp WHERE pp.review_id = r.id))
             AND ($8::bigint IS NULL OR EXISTS (SELECT 1 {_MENTIONS}))"""
# The photos and the topic's spans only for the page's rows, once they are picked.
_PAGE = f"""SELECT r.*, {PHOTOS} AS photos,
                   CASE WHEN $8::bigint IS NULL THEN NULL ELSE
                       (SELECT json_agg(json_build_object('field', m.field, 'start', m.start_at, 'end', m.end_at)
                                        ORDER BY m.field DESC, m.start_at) {_MENTIONS}) END AS mentions
            FROM (SELECT {_COLUMNS}, count(*) OVER () AS total {_FROM} {_WHERE}
                  ORDER BY {{order}} LIMIT $10 OFFSET $11) r
            ORDER BY {{order}}"""


@dataclass(frozen=True)
class ReviewFilter:
    """Which published reviews of a shop, in which order. The defaults are "all of them, newest first"."""

    product_id: str | None = None  # only this product's reviews
    shop_only: bool = False  # only the reviews of the shop itself (no product)
    stars: int | None = None  # only this rating
    language: str | None = None  # only those written in this language (a primary subtag: "pl")
    with_reply: bool = False  # only those the shop answered
    with_photos: bool = False  # only those with a photo shoppers may see
    topic_id: int | None = None  # only those that mention this topic (each row then has its `mentions`)
    sort: str = "newest"
    # Pooled languages: every language is listed, this one's reviews first (the visitor's own).
    first_language: str | None = None


class Listing(NamedTuple):
    rows: list[asyncpg.Record]
    total: int  # how many reviews the filter selects, on every page


async def published_reviews(pool: asyncpg.Pool, merchant_id: int, f: ReviewFilter = ReviewFilter(), *,
                            limit: int = 10, offset: int = 0) -> Listing:
    """One page of the published reviews `f` selects, and how many it selects in all. Each row has the
    public columns, the shop's reply (`reply`, `reply_at`), `language` (the primary subtag, '' when
    unknown), `photos` (None or [{key, width, height, thumb_width, thumb_height, caption}]) and
    `mentions` (under a topic: [{field, start, end}], else None)."""
    if f.sort not in _ORDER:
        raise ValueError(f"unknown sort {f.sort!r}")
    args = (merchant_id, f.product_id, f.shop_only, f.stars, f.language, f.with_reply, f.with_photos)
    # The total rides on each row (one query, one scan), except past the last page, where there is none.
    # The page's own rows are put in order again (the same columns): a few, not the whole selection.
    order = f"({LANGUAGE} = $9) DESC NULLS LAST, {_ORDER[f.sort]}"
    rows = await pool.fetch(_PAGE.format(order=order), *args, f.topic_id, f.first_language, limit, offset)
    if rows:
        return Listing(rows, int(rows[0]["total"]))
    total = await pool.fetchval(f"SELECT count(*) {_FROM} {_WHERE}", *args, f.topic_id) if offset else 0
    return Listing(rows, int(total))
