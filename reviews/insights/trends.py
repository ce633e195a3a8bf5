"""What the merchants' Insights page and the weekly digest read: every topic of a shop (its
products' and its own reviews') with its mentions counted by month, and whether the share of its
mentions in 1-2★ reviews rose in the last 90 days against the 90 days before.

Only published reviews count, and only while they still say the clause that was grouped (its md5
as computed): a review withdrawn or edited since the last recomputation drops out at once. A
"mention" is a distinct review: a review that names the strap twice mentions it once. Reviews are
placed in time by when their author wrote them (`submitted_at`, the original date for imports).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from widgets.topics import label as pick_label

WINDOW = timedelta(days=90)
# A rise takes at least this many 1-2★ mentions in the last 90 days: one complaint is not a trend
# (on the development corpus, one was enough to put half a shop's small topics "first").
MIN_LOW = 2
MONTHS = 12
# The span of a mention, read from the review itself (as the widgets read it).
_PHRASE = "substr(CASE m.field WHEN 'title' THEN r.title ELSE r.body END, m.start_at + 1, m.end_at - m.start_at)"
_SCOPE = f"""FROM topic_sets s JOIN topics t ON t.set_id = s.id JOIN topic_mentions m ON m.topic_id = t.id
            JOIN reviews r ON r.id = m.review_id AND r.merchant_id = s.merchant_id AND r.state = 'published'
            WHERE s.merchant_id = $1 AND md5({_PHRASE}) = m.clause_md5"""


@dataclass(frozen=True)
class Share:
    """How many of the reviews mentioning a topic in a window rated it 1-2★."""

    low: int
    total: int

    @property
    def value(self) -> float | None:
        return self.low / self.total if self.total else None


@dataclass(frozen=True)
class Month:
    start: date
    total: int
    low: int


@dataclass(frozen=True)
class Trend:
    topic_id: int
    product_id: str | None  # None: the shop's own reviews
    product_name: str | None
    label: str  # a buyer's phrase
    label_language: str
    reviews: int  # published reviews that mention it now
    low: int  # of which rated 1-2★
    months: list[Month]  # the last MONTHS months, oldest first
    recent: Share  # the last 90 days
    before: Share  # the 90 days before them

    @property
    def rising(self) -> bool:
        """The share of 1-2★ mentions rose: higher than before, or 1-2★ mentions where the 90 days
        before had no mention at all; from at least MIN_LOW of them."""
        now, then = self.recent.value, self.before.value
        return self.recent.low >= MIN_LOW and (then is None or (now is not None and now > then))

    @property
    def ratio(self) -> float | None:
        """How many times the share before the share is now (None when there was no 1-2★ mention before)."""
        now, then = self.recent.value, self.before.value
        return now / then if now is not None and then else None


def _month(day: date) -> date:
    return day.replace(day=1)


def _months_back(now: datetime) -> list[date]:
    first = _month(now.date())
    found = [first]
    for _ in range(MONTHS - 1):
        found.append(_month(found[-1] - timedelta(days=1)))
    return found[::-1]


def _rank(t: Trend) -> tuple[Any, ...]:
    """Rising first, the steepest rise of the share first; then the most mentioned."""
    if t.rising:
        rise = (t.recent.value or 0.0) - (t.before.value or 0.0)
        return 0, -round(rise, 9), -t.recent.low, -t.reviews, t.topic_id
    return 1, 0.0, 0, -t.reviews, t.topic_id


def trends(topics: list[asyncpg.Record], hits: list[asyncpg.Record], labels: list[asyncpg.Record],
           now: datetime, language: str) -> list[Trend]:
    """Pure: the rows of `read` as each topic's figures, rising ones first."""
    by_topic: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for h in hits:
        by_topic[h["topic_id"]].append(h)
    phrases: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for p in labels:
        phrases[p["topic_id"]].append(p)
    months = _months_back(now)
    found = []
    for t in topics:
        mine = by_topic.get(t["id"], [])
        chosen = pick_label(phrases.get(t["id"], []), language, t["main_language"])
        if not mine or chosen is None:  # every mention left the published reviews since it was computed
            continue

        def share(since: datetime, until: datetime, rows: list[asyncpg.Record] = mine) -> Share:
            inside = [h for h in rows if since <= h["submitted_at"] < until]
            return Share(sum(1 for h in inside if h["rating"] <= 2), len(inside))

        per_month = {m: [0, 0] for m in months}
        for h in mine:
            counts = per_month.get(_month(h["submitted_at"].date()))
            if counts is not None:
                counts[0] += 1
                counts[1] += h["rating"] <= 2
        found.append(Trend(
            t["id"], t["product_id"], t["product_name"], chosen["text"], chosen["language"], len(mine),
            sum(1 for h in mine if h["rating"] <= 2), [Month(m, c[0], c[1]) for m, c in per_month.items()],
            share(now - WINDOW, now + timedelta(seconds=1)), share(now - 2 * WINDOW, now - WINDOW)))
    return sorted(found, key=_rank)


async def read(pool: asyncpg.Pool, merchant_id: int, now: datetime, language: str,
               topic_id: int | None = None) -> list[Trend]:
    """Every topic of the shop (or only `topic_id`, when it is the shop's), rising ones first."""
    only = "" if topic_id is None else " AND t.id = $2"
    args: tuple[Any, ...] = (merchant_id,) if topic_id is None else (merchant_id, topic_id)
    async with pool.acquire() as conn:
        topics = await conn.fetch(
            f"""SELECT t.id, s.product_id, t.main_language,
                       (SELECT max(p.product_name) FROM reviews p
                        WHERE p.merchant_id = s.merchant_id AND p.product_id = s.product_id) AS product_name
                FROM topic_sets s JOIN topics t ON t.set_id = s.id WHERE s.merchant_id = $1{only}
                ORDER BY s.product_id NULLS FIRST, t.position""", *args)
        hits = await conn.fetch(
            f"""SELECT DISTINCT m.topic_id, r.id AS review_id, r.rating, r.submitted_at {_SCOPE}{only}""", *args)
        labels = await conn.fetch(
            f"""SELECT m.topic_id, m.review_id, m.language, m.is_label, {_PHRASE} AS text
                {_SCOPE} AND m.is_label{only} ORDER BY m.topic_id, m.language""", *args)
    return trends(list(topics), list(hits), list(labels), now, language)


@dataclass(frozen=True)
class Mentioning:
    """A published review that mentions a topic, with the spans that do (for highlighting)."""

    id: int
    rating: int
    title: str
    body: str
    display_name: str
    submitted_at: datetime
    spans: list[tuple[str, int, int]]  # field, start, end


async def mentioning(pool: asyncpg.Pool, merchant_id: int, topic_id: int, *, limit: int,
                     offset: int) -> tuple[list[Mentioning], int]:
    """One page of the shop's published reviews that mention a topic, newest first, and how many in all."""
    total = await pool.fetchval(f"SELECT count(DISTINCT r.id) {_SCOPE} AND t.id = $2", merchant_id, topic_id)
    rows = await pool.fetch(
        f"""SELECT r.id, r.rating, coalesce(r.title, '') AS title, coalesce(r.body, '') AS body,
                   coalesce(r.display_name, '') AS display_name, r.submitted_at,
                   array_agg(ARRAY[m.field, m.start_at::text, m.end_at::text] ORDER BY m.field DESC, m.start_at)
                       AS spans
            {_SCOPE} AND t.id = $2
            GROUP BY r.id ORDER BY r.submitted_at DESC, r.id DESC LIMIT $3 OFFSET $4""",
        merchant_id, topic_id, limit, offset)
    return [Mentioning(r["id"], r["rating"], r["title"], r["body"], r["display_name"], r["submitted_at"],
                       [(s[0], int(s[1]), int(s[2])) for s in r["spans"]]) for r in rows], int(total)
