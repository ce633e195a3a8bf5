"""What a merchant reads of its own reviews: the console's inbox (every review whatever its state,
with filters and text search, newest first, a page at a time), one review with its reply and
reports, and the export of them all. Read-only; every query is scoped to the one merchant.

Never read here: the author's address hash, the IP hash or the browser family (personal data the
shop has no use for), nor the order's buyer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from reviews.collection.reports import Report
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.platform.db import Executor

STATES = ("published", "held", "pending", "rejected", "withdrawn")
PAGE = 25
SHOP = "-"  # the product filter's value for reviews of the shop itself (no product)
QUERY_MAX = 200
EXPORT_BATCH = 500
METHODS = {"invited": "verified_order", "imported": "unverified"}

# The reply readers see: the shop's own, or the one an imported review came with (`source` 'import').
_REPLY = "rr.body AS reply, rr.updated_at AS reply_at, rr.source AS reply_source"
_COLUMNS = f"""r.id, r.product_id, r.product_name, r.rating, r.title, r.body, r.display_name, r.locale, r.state,
               r.method, r.reject_reason, r.submitted_at, r.published_at, r.edited_at, r.external_id, {_REPLY}"""


@dataclass(frozen=True)
class Filters:
    stars: int | None = None
    product: str | None = None  # a product id, or SHOP
    language: str | None = None  # a language code ("de" also finds "de-AT")
    state: str | None = None
    replied: bool | None = None
    since: date | None = None
    until: date | None = None
    text: str | None = None
    page: int = 1

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (a view is shared by its address); the page left out."""
        values: dict[str, Any] = {
            "stars": self.stars, "product": self.product, "lang_filter": self.language, "state": self.state,
            "replied": None if self.replied is None else ("yes" if self.replied else "no"),
            "from": self.since, "to": self.until, "q": self.text}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class Entry:
    id: int
    product_id: str | None
    product_name: str | None
    rating: int
    title: str
    body: str
    display_name: str
    locale: str | None
    state: str
    method: str
    reject_reason: str | None
    submitted_at: datetime
    published_at: datetime | None
    edited_at: datetime | None
    external_id: str | None
    reply: str | None
    reply_at: datetime | None
    reply_source: str | None  # console | import
    open_reports: int = 0

    @property
    def verified(self) -> bool:
        return self.method == "invited"

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Entry:
        return cls(row["id"], row["product_id"], row["product_name"], row["rating"], row["title"], row["body"],
                   row["display_name"], row["locale"], row["state"], row["method"], row["reject_reason"],
                   row["submitted_at"], row["published_at"], row["edited_at"], row["external_id"], row["reply"],
                   row["reply_at"], row["reply_source"], int(row["open_reports"] or 0))


@dataclass(frozen=True)
class ReviewPage:
    """One review as its shop sees it."""

    review: Entry
    order_id: str | None  # the shop's order number: verified for invited reviews, as claimed for imports
    reports: list[Report] = field(default_factory=list)
    # Every photo of the review, whatever its state: the shop sees them before shoppers do (through
    # `reviews.media.serving.signed_path`), and may report one (`reports.report(..., photo_id=)`).
    photos: list[Photo] = field(default_factory=list)


def like_pattern(text: str) -> str:
    """`text` as an ILIKE pattern matching it anywhere, its own % _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(merchant_id: int, f: Filters) -> tuple[str, list[Any]]:
    args: list[Any] = [merchant_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    clauses = ["r.merchant_id = $1"]
    if f.stars:
        clauses.append(f"r.rating = {arg(f.stars)}")
    if f.product == SHOP:
        clauses.append("r.product_id IS NULL")
    elif f.product:
        clauses.append(f"r.product_id = {arg(f.product)}")
    if f.language:
        clauses.append(f"lower(split_part(replace(r.locale, '_', '-'), '-', 1)) = {arg(f.language.lower())}")
    if f.state:
        clauses.append(f"r.state = {arg(f.state)}")
    if f.replied is True:
        clauses.append("rr.review_id IS NOT NULL")
    elif f.replied is False:
        clauses.append("rr.review_id IS NULL")
    if f.since:
        clauses.append(f"r.submitted_at >= {arg(f.since)}::date")
    if f.until:
        clauses.append(f"r.submitted_at < {arg(f.until)}::date + 1")
    if f.text:
        pattern = arg(like_pattern(f.text[:QUERY_MAX]))
        clauses.append(f"(r.title ILIKE {pattern} ESCAPE '\\' OR r.body ILIKE {pattern} ESCAPE '\\')")
    return " AND ".join(clauses), args


async def inbox(conn: Executor, merchant_id: int, f: Filters) -> tuple[list[Entry], int]:
    """One page of the merchant's reviews matching the filters, newest first, and how many match."""
    where, args = _where(merchant_id, f)
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS},
                   (SELECT count(*) FROM review_reports p WHERE p.review_id = r.id AND p.state = 'open')
                       AS open_reports,
                   count(*) OVER () AS total
            FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id
            WHERE {where}
            ORDER BY r.submitted_at DESC, r.id DESC LIMIT {PAGE} OFFSET {PAGE * (max(f.page, 1) - 1)}""", *args)
    return [Entry.from_row(r) for r in rows], int(rows[0]["total"]) if rows else 0


async def options(conn: Executor, merchant_id: int) -> dict[str, list[Any]]:
    """What the filters offer: the shop's products (id, name) and the languages of its reviews."""
    products = await conn.fetch(
        """SELECT DISTINCT ON (product_id) product_id, product_name FROM reviews
           WHERE merchant_id = $1 AND product_id IS NOT NULL
           ORDER BY product_id, submitted_at DESC LIMIT 500""", merchant_id)
    languages = await conn.fetch(
        """SELECT DISTINCT lower(split_part(replace(locale, '_', '-'), '-', 1)) AS lang FROM reviews
           WHERE merchant_id = $1 AND locale IS NOT NULL ORDER BY 1""", merchant_id)
    return {"products": [(r["product_id"], r["product_name"]) for r in products],
            "languages": [r["lang"] for r in languages if r["lang"]]}


async def review(conn: Executor, merchant_id: int, review_id: int) -> ReviewPage | None:
    """The merchant's review with its reply and reports; None for another shop's (or no) review."""
    row = await conn.fetchrow(
        f"""SELECT {_COLUMNS}, coalesce(o.external_id, r.external_order_id) AS order_external_id,
                   (SELECT count(*) FROM review_reports p WHERE p.review_id = r.id AND p.state = 'open')
                       AS open_reports
            FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id
            LEFT JOIN orders o ON o.id = r.order_id
            WHERE r.id = $1 AND r.merchant_id = $2""", review_id, merchant_id)
    if row is None:
        return None
    reports = await conn.fetch("SELECT * FROM review_reports WHERE review_id = $1 ORDER BY created_at, id",
                               review_id)
    photos = (await photo_store.of_reviews(conn, [review_id])).get(review_id, [])
    return ReviewPage(Entry.from_row(row), row["order_external_id"], [Report.from_row(r) for r in reports], photos)


# --- the export ------------------------------------------------------------------------------

# The fields of Attest's own import format (reviews.collection.importing), then what only Attest
# knows: how the review was collected, whether its order is verified, its state and its reply.
# author_name is the public name: Attest keeps no other. Never the author's address or IP hash.
# photos: the addresses of the photos shoppers see with the review, space-separated, in order.
EXPORT_FIELDS = ("id", "merchant", "product_id", "product_name", "order_id", "lang", "rating", "title", "body",
                 "author_name", "display_name", "created_at", "attest_id", "published_at", "edited_at", "state",
                 "collection_method", "verification", "reply", "reply_at", "photos")


async def export(pool: asyncpg.Pool, merchant_id: int, batch: int = EXPORT_BATCH,
                 base_url: str = "") -> AsyncIterator[dict[str, Any]]:
    """Every review of the merchant, oldest first, as export rows (EXPORT_FIELDS), read through a
    server-side cursor a batch at a time from one snapshot, so a large shop never sits in memory.
    `base_url` makes the photos' addresses absolute (they are paths without it)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = conn.cursor(
            f"""SELECT {_COLUMNS}, m.slug, coalesce(o.external_id, r.external_order_id) AS order_external_id,
                       (SELECT array_agg(pp.public_key ORDER BY pp.position, pp.id) FROM published_photos pp
                        WHERE pp.review_id = r.id) AS photo_keys
                FROM reviews r JOIN merchants m ON m.id = r.merchant_id
                LEFT JOIN review_replies rr ON rr.review_id = r.id
                LEFT JOIN orders o ON o.id = r.order_id
                WHERE r.merchant_id = $1
                ORDER BY r.submitted_at, r.id""", merchant_id, prefetch=batch)
        async for row in cursor:
            yield export_row(row, base_url)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_row(row: asyncpg.Record, base_url: str = "") -> dict[str, Any]:
    return {
        "id": row["external_id"] or f"attest-{row['id']}",
        "merchant": row["slug"],
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "order_id": row["order_external_id"],
        "lang": row["locale"],
        "rating": row["rating"],
        "title": row["title"],
        "body": row["body"],
        "author_name": row["display_name"],
        "display_name": row["display_name"],
        "created_at": _iso(row["submitted_at"]),
        "attest_id": row["id"],
        "published_at": _iso(row["published_at"]),
        "edited_at": _iso(row["edited_at"]),
        "state": row["state"],
        "collection_method": row["method"],
        "verification": METHODS.get(row["method"], "unverified"),
        "reply": row["reply"],
        "reply_at": _iso(row["reply_at"]),
        "photos": " ".join(base_url + serving.public_path(key) for key in row["photo_keys"] or []),
    }


@dataclass(frozen=True)
class Figures:
    """What a shop reads first in its inbox: its published reviews' average and count (the last 30
    days and all time), how many wait for a reply, the share answered, and the median time to answer
    (the shop's own replies, since publication; an imported reply has no such time)."""

    average_30: float | None
    count_30: int
    average_all: float | None
    count_all: int
    unanswered: int
    reply_rate: float | None  # 0..1 of the published reviews
    median_reply: timedelta | None


async def figures(conn: Executor, merchant_id: int, now: datetime) -> Figures:
    row = await conn.fetchrow(
        """SELECT avg(r.rating) FILTER (WHERE r.submitted_at >= $2) AS average_30,
                  count(*) FILTER (WHERE r.submitted_at >= $2) AS count_30,
                  avg(r.rating) AS average_all, count(*) AS count_all,
                  count(*) FILTER (WHERE rr.review_id IS NULL) AS unanswered,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM rr.created_at - r.published_at))
                      FILTER (WHERE rr.user_id IS NOT NULL AND r.published_at IS NOT NULL
                              AND rr.created_at >= r.published_at) AS median_seconds
           FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id
           WHERE r.merchant_id = $1 AND r.state = 'published'""", merchant_id, now - timedelta(days=30))
    assert row is not None  # an aggregate: always one row
    count_all = int(row["count_all"])
    median = row["median_seconds"]
    return Figures(float(row["average_30"]) if row["average_30"] is not None else None, int(row["count_30"]),
                   float(row["average_all"]) if row["average_all"] is not None else None, count_all,
                   int(row["unanswered"]),
                   (count_all - int(row["unanswered"])) / count_all if count_all else None,
                   timedelta(seconds=float(median)) if median is not None else None)


@dataclass(frozen=True)
class Month:
    month: date  # its first day
    average: float
    count: int


async def monthly_ratings(conn: Executor, merchant_id: int, now: datetime, months: int = 12) -> list[Month]:
    """The published reviews' average rating per calendar month (UTC) of the last `months`, by when
    they were written; a month without reviews is left out, not drawn as a zero."""
    index = now.year * 12 + now.month - 1 - (months - 1)
    first = date(index // 12, index % 12 + 1, 1)
    rows = await conn.fetch(
        """SELECT date_trunc('month', r.submitted_at AT TIME ZONE 'UTC')::date AS month,
                  avg(r.rating) AS average, count(*) AS n
           FROM reviews r
           WHERE r.merchant_id = $1 AND r.state = 'published' AND r.submitted_at >= $2
           GROUP BY 1 ORDER BY 1""", merchant_id, datetime.combine(first, datetime.min.time(), now.tzinfo))
    return [Month(r["month"], float(r["average"]), int(r["n"])) for r in rows]
