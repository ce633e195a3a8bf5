"""What moderators read: the queue's tabs with their filters and counts, and one review with its
provenance, flags, related reviews and timeline. Read-only; scoped to the moderator's merchants.

The queue never sorts or filters by sentiment unless asked (a star filter is the moderator's
choice): held reviews come by their graded score (`reviews.screening.score`), highest first, or
oldest first when asked. A campaign's held members are one
item of the held tab (its first member carries the others in `members`), decided as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from reviews.collection import reports
from reviews.collection.reports import Report
from reviews.media.store import Photo
from reviews.moderation import photos
from reviews.moderation.photos import Copy
from reviews.platform.db import Executor
from reviews.screening import score
from reviews.screening.score import Score

TABS = ("held", "reported", "appealed", "decided")
SORTS = ("score", "oldest")  # the held tab's orders, the first the default
PAGE = 50


@dataclass(frozen=True)
class Filters:
    merchant: str | None = None
    kind: str | None = None
    stars: int | None = None
    language: str | None = None
    since: date | None = None
    until: date | None = None
    min_score: float | None = None
    page: int = 1
    sort: str = SORTS[0]

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (a view can be shared by its address)."""
        values = {"merchant": self.merchant, "kind": self.kind, "stars": self.stars, "language": self.language,
                  "from": self.since, "to": self.until, "min_score": self.min_score,
                  "sort": self.sort if self.sort != SORTS[0] else None}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class Entry:
    review_id: int
    merchant: str
    merchant_name: str
    product_id: str | None
    product_name: str | None
    rating: int
    locale: str | None
    title: str
    body: str
    display_name: str
    state: str
    submitted_at: datetime
    kinds: list[str] = field(default_factory=list)
    score: float = 0.0
    since: datetime | None = None  # held since, appealed at, or decided at
    extra: dict[str, Any] = field(default_factory=dict)
    # A campaign's item: every held member (this one first) and the campaign flag's evidence.
    members: list[Entry] = field(default_factory=list)
    campaign: dict[str, Any] = field(default_factory=dict)
    why: Score | None = None  # the held tab's graded score, with the facts that say why


def _scope(merchants: list[int] | None, first: int) -> tuple[str, list[Any]]:
    if merchants is None:
        return "TRUE", []
    return f"r.merchant_id = ANY(${first}::bigint[])", [merchants]


def _filters(f: Filters, args: list[Any]) -> str:
    clauses = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if f.merchant:
        clauses.append(f"m.slug = {arg(f.merchant)}")
    if f.stars:
        clauses.append(f"r.rating = {arg(f.stars)}")
    if f.language:
        clauses.append(f"r.locale = {arg(f.language)}")
    if f.since:
        clauses.append(f"r.submitted_at >= {arg(f.since)}::date")
    if f.until:
        clauses.append(f"r.submitted_at < {arg(f.until)}::date + 1")
    return " AND ".join(clauses) or "TRUE"


def _entry(row: asyncpg.Record, **extra: Any) -> Entry:
    kinds = list(row["kinds"] or []) if "kinds" in row else []
    score = float(row["score"] or 0) if "score" in row else 0.0
    return Entry(row["id"], row["slug"], row["merchant_name"], row["product_id"], row["product_name"],
                 row["rating"], row["locale"], row["title"], row["body"], row["display_name"], row["state"],
                 row["submitted_at"], kinds, score, row["since"], extra)


async def held(conn: Executor, merchants: list[int] | None, f: Filters) -> tuple[list[Entry], int, int]:
    """A page of the held tab's items, how many items, and how many reviews they hold."""
    scope, args = _scope(merchants, 1)
    where = _filters(f, args)
    having = ""
    if f.kind:
        args.append(f.kind)
        having = f"HAVING ${len(args)} = ANY(array_agg(f.kind))"
    sql = f"""SELECT r.*, m.slug, m.name AS merchant_name, array_agg(f.kind ORDER BY f.kind) AS kinds,
                     array_agg(f.score ORDER BY f.kind) AS scores, array_agg(f.evidence ORDER BY f.kind) AS evidence,
                     min(f.created_at) AS since,
                     (array_agg(f.evidence) FILTER (WHERE f.kind = 'campaign'))[1] AS campaign
              FROM reviews r JOIN merchants m ON m.id = r.merchant_id
              JOIN flags f ON f.review_id = r.id AND f.state = 'open'
              WHERE r.state = 'held' AND {scope} AND {where}
              GROUP BY r.id, m.id {having}
              ORDER BY since, r.id"""
    rows = []
    for r in await conn.fetch(sql, *args):
        why = score.of_flags(zip(r["kinds"], r["scores"], r["evidence"], strict=True))
        rows.append((replace(_entry(r), score=why.value, why=why), r["campaign"]))
    items = _campaigns_as_one(rows)
    if f.min_score is not None:
        items = [e for e in items if e.score >= f.min_score]
    if f.sort == "score":
        items.sort(key=lambda e: -e.score)  # stable: equal scores stay oldest first
    start = PAGE * (max(f.page, 1) - 1)
    return items[start:start + PAGE], len(items), sum(len(e.members) or 1 for e in items)


def _campaigns_as_one(rows: list[tuple[Entry, dict[str, Any] | None]]) -> list[Entry]:
    """The held reviews with each campaign's members folded into one item, where its first member
    stood; members are joined through the ids their campaign flags name (a union of the links)."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    held = {e.review_id for e, _ in rows}
    for e, ev in rows:
        for other in (ev or {}).get("related", []):
            if isinstance(other, int) and other in held:
                a, b = root(e.review_id), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[tuple[Entry, dict[str, Any] | None]]] = {}
    for e, ev in rows:
        groups.setdefault(root(e.review_id), []).append((e, ev))
    items: list[Entry] = []
    for e, _ev in rows:
        group = groups.pop(root(e.review_id), None)
        if group is None:
            continue  # folded into its campaign's item
        if len(group) == 1 or not any(g for _, g in group):
            items.extend(x for x, _ in group)
            continue
        members = [x for x, _ in group]
        links = [link for _, g in group for link in (g or {}).get("links", [])]
        evidence = {**next(g for _, g in group if g), "links": links}
        strongest = max(members, key=lambda x: x.score)
        items.append(replace(e, members=members, campaign=evidence, score=strongest.score, why=strongest.why,
                             kinds=sorted({k for x in members for k in x.kinds})))
    return items


async def appealed(conn: Executor, merchants: list[int] | None, f: Filters) -> tuple[list[Entry], int]:
    scope, args = _scope(merchants, 1)
    where = _filters(f, args)
    rows = await conn.fetch(
        f"""SELECT r.*, m.slug, m.name AS merchant_name, a.created_at AS since, a.body AS appeal,
                   count(*) OVER () AS total
            FROM appeals a JOIN reviews r ON r.id = a.review_id JOIN merchants m ON m.id = r.merchant_id
            WHERE a.state = 'open' AND {scope} AND {where}
            ORDER BY a.created_at, r.id LIMIT {PAGE} OFFSET {PAGE * (max(f.page, 1) - 1)}""", *args)
    return [_entry(r, appeal=r["appeal"]) for r in rows], int(rows[0]["total"]) if rows else 0


async def reported(conn: Executor, merchants: list[int] | None, f: Filters) -> tuple[list[Entry], int]:
    """Reviews the shops reported, each with its open reports (reason, note, who), oldest report first.
    A report never hides its review: the moderator decides it as any other, which closes them. A report
    of one photo waits in the Photos tab instead, where deciding the photo closes it."""
    scope, args = _scope(merchants, 1)
    where = _filters(f, args)
    rows = await conn.fetch(
        f"""SELECT r.*, m.slug, m.name AS merchant_name, p.since, p.reports, count(*) OVER () AS total
            FROM reviews r JOIN merchants m ON m.id = r.merchant_id
            JOIN LATERAL (SELECT min(p.created_at) AS since,
                                 jsonb_agg(jsonb_build_object('reason', p.reason, 'note', p.note,
                                                              'reporter', p.reporter, 'at', p.created_at)
                                           ORDER BY p.created_at, p.id) AS reports
                          FROM review_reports p WHERE p.review_id = r.id AND p.state = 'open' AND p.photo_id IS NULL) p
                 ON p.since IS NOT NULL
            WHERE r.state <> 'withdrawn' AND {scope} AND {where}
            ORDER BY p.since, r.id LIMIT {PAGE} OFFSET {PAGE * (max(f.page, 1) - 1)}""", *args)
    return [_entry(r, reports=list(r["reports"] or [])) for r in rows], int(rows[0]["total"]) if rows else 0


async def decided(conn: Executor, merchants: list[int] | None, f: Filters) -> tuple[list[Entry], int]:
    scope, args = _scope(merchants, 1)
    where = _filters(f, args)
    rows = await conn.fetch(
        f"""SELECT r.*, m.slug, m.name AS merchant_name, d.decided_at AS since, d.decision, d.code, d.moderator,
                   d.on_appeal, count(*) OVER () AS total
            FROM moderation_decisions d JOIN reviews r ON r.id = d.review_id JOIN merchants m ON m.id = r.merchant_id
            WHERE {scope} AND {where}
            ORDER BY d.decided_at DESC, d.id DESC LIMIT {PAGE} OFFSET {PAGE * (max(f.page, 1) - 1)}""", *args)
    return [_entry(r, decision=r["decision"], code=r["code"], moderator=r["moderator"], on_appeal=r["on_appeal"])
            for r in rows], int(rows[0]["total"]) if rows else 0


async def counts(conn: Executor, merchants: list[int] | None) -> dict[str, int]:
    scope, args = _scope(merchants, 1)
    row = await conn.fetchrow(
        f"""SELECT (SELECT count(*) FROM reviews r WHERE r.state = 'held' AND {scope}
                      AND EXISTS (SELECT 1 FROM flags f WHERE f.review_id = r.id AND f.state = 'open')) AS held,
                   (SELECT count(*) FROM appeals a JOIN reviews r ON r.id = a.review_id
                    WHERE a.state = 'open' AND {scope}) AS appealed,
                   (SELECT count(*) FROM moderation_decisions d JOIN reviews r ON r.id = d.review_id
                    WHERE {scope}) AS decided,
                   (SELECT count(*) FROM reviews r WHERE r.state <> 'withdrawn' AND {scope}
                      AND EXISTS (SELECT 1 FROM review_reports p WHERE p.review_id = r.id AND p.state = 'open'
                                  AND p.photo_id IS NULL))
                       AS reported""", *args)
    assert row is not None
    return {"held": row["held"], "reported": row["reported"], "appealed": row["appealed"],
            "decided": row["decided"]}


async def oldest_held(conn: Executor, merchants: list[int] | None = None) -> datetime | None:
    """When the longest-waiting held review was held (for the home page and /metrics)."""
    scope, args = _scope(merchants, 1)
    found: datetime | None = await conn.fetchval(
        f"""SELECT min(f.created_at) FROM flags f JOIN reviews r ON r.id = f.review_id
            WHERE f.state = 'open' AND r.state = 'held' AND {scope}""", *args)
    return found


async def oldest_held_seconds(conn: Executor, now: datetime) -> float:
    oldest = await oldest_held(conn)
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


async def filter_options(conn: Executor, merchants: list[int] | None) -> dict[str, list[str]]:
    scope, args = _scope(merchants, 1)
    rows = await conn.fetch(f"SELECT DISTINCT m.slug FROM merchants m JOIN reviews r ON r.merchant_id = m.id "
                            f"WHERE {scope} ORDER BY m.slug", *args)
    kinds = await conn.fetch("SELECT DISTINCT kind FROM flags ORDER BY kind")
    return {"merchants": [r["slug"] for r in rows], "kinds": [r["kind"] for r in kinds]}


# --- one review ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Related:
    id: int
    merchant: str
    product_id: str | None
    product_name: str | None
    rating: int
    title: str
    body: str
    display_name: str
    state: str
    submitted_at: datetime
    locale: str | None
    # In a shop outside the moderator's scope: only that it exists and how it is linked may be shown.
    outside: bool = False


@dataclass
class ReviewFile:
    """A review as a moderator sees it: the row, its provenance, flags, related reviews, history."""

    review: asyncpg.Record
    merchant_slug: str
    merchant_name: str
    order_external_id: str | None
    invitation_sent_at: datetime | None
    same_ip: int
    versions: list[asyncpg.Record]
    flags: list[asyncpg.Record]
    related: dict[int, Related]
    decisions: list[asyncpg.Record]
    appeal: asyncpg.Record | None
    claim: asyncpg.Record | None
    reports: list[Report] = field(default_factory=list)  # the shop's reports, oldest first
    photos: list[Photo] = field(default_factory=list)  # the review's photos, whatever their state
    copies: list[Copy] = field(default_factory=list)  # its `photo_copy` flag's pairs, both photos each


def _related(r: asyncpg.Record, merchants: list[int] | None) -> Related:
    if merchants is not None and r["merchant_id"] not in merchants:
        return Related(r["id"], "", None, None, 0, "", "", "", "", r["submitted_at"], None, outside=True)
    return Related(r["id"], r["slug"], r["product_id"], r["product_name"], r["rating"], r["title"], r["body"],
                   r["display_name"], r["state"], r["submitted_at"], r["locale"])


async def review_file(conn: Executor, review_id: int, merchants: list[int] | None) -> ReviewFile | None:
    scope, args = _scope(merchants, 2)
    row = await conn.fetchrow(
        f"""SELECT r.*, m.slug, m.name AS merchant_name, o.external_id AS order_external_id,
                   i.sent_at AS invitation_sent_at,
                   (SELECT count(*) FROM reviews x WHERE x.ip_hash = r.ip_hash AND x.id <> r.id) AS same_ip
            FROM reviews r JOIN merchants m ON m.id = r.merchant_id
            LEFT JOIN orders o ON o.id = r.order_id LEFT JOIN invitations i ON i.id = r.invitation_id
            WHERE r.id = $1 AND {scope}""", review_id, *args)
    if row is None:
        return None
    flags = await conn.fetch("SELECT * FROM flags WHERE review_id = $1 ORDER BY kind", review_id)
    ids: set[int] = set()
    for f in flags:
        ev = f["evidence"] or {}
        ids |= {int(i) for i in ev.get("related", []) if isinstance(i, int)}
        for link in ev.get("links", []):
            ids |= {int(link[k]) for k in ("a", "b") if isinstance(link.get(k), int)}
    ids.discard(review_id)
    # Related reviews of other merchants belong to the evidence (a cross-shop campaign is one campaign),
    # but a moderator scoped to some shops reads nothing of another's: only that a review there is linked.
    related = {r["id"]: _related(r, merchants) for r in await conn.fetch(
        """SELECT r.*, m.slug FROM reviews r JOIN merchants m ON m.id = r.merchant_id
           WHERE r.id = ANY($1) ORDER BY r.submitted_at""", sorted(ids))}
    versions = await conn.fetch("SELECT * FROM review_versions WHERE review_id = $1 ORDER BY saved_at", review_id)
    decisions = await conn.fetch("SELECT * FROM moderation_decisions WHERE review_id = $1 ORDER BY decided_at",
                                 review_id)
    appeal = await conn.fetchrow("SELECT * FROM appeals WHERE review_id = $1", review_id)
    claim = await conn.fetchrow(
        """SELECT c.*, u.email FROM review_claims c JOIN users u ON u.id = c.user_id WHERE c.review_id = $1""",
        review_id)
    return ReviewFile(row, row["slug"], row["merchant_name"], row["order_external_id"], row["invitation_sent_at"],
                      int(row["same_ip"] or 0) if row["ip_hash"] else 0, list(versions), list(flags), related,
                      list(decisions), appeal, claim, await reports.for_review(conn, review_id),
                      await photos.of_review(conn, review_id), await photos.copies(conn, review_id))


async def daily_counts(conn: Executor, merchant_id: int, rating: int, start: datetime,
                       end: datetime) -> dict[date, tuple[int, int]]:
    """Per day between start and end: (reviews of this star value, reviews of any star value)."""
    rows = await conn.fetch(
        """SELECT (submitted_at AT TIME ZONE 'UTC')::date AS day, count(*) FILTER (WHERE rating = $2) AS same,
                  count(*) AS every
           FROM reviews WHERE merchant_id = $1 AND submitted_at >= $3 AND submitted_at < $4
             AND state <> 'withdrawn'
           GROUP BY 1""", merchant_id, rating, start, end)
    return {r["day"]: (r["same"], r["every"]) for r in rows}


async def campaign_members(conn: Executor, review_id: int, merchants: list[int] | None) -> list[int]:
    """The reviews a review's open campaign flag names (itself included), within the scope."""
    scope, args = _scope(merchants, 2)
    evidence = await conn.fetchval(
        f"""SELECT f.evidence FROM flags f JOIN reviews r ON r.id = f.review_id
            WHERE f.review_id = $1 AND f.kind = 'campaign' AND {scope}""", review_id, *args)
    ids = {review_id} | {int(i) for i in (evidence or {}).get("related", []) if isinstance(i, int)}
    rows = await conn.fetch(f"SELECT r.id FROM reviews r WHERE r.id = ANY($1) AND {scope} "
                            "AND r.state IN ('held', 'published', 'pending') ORDER BY r.submitted_at",
                            sorted(ids), *args)
    return [r["id"] for r in rows]


async def summaries(conn: Executor, review_ids: list[int], merchants: list[int] | None) -> list[dict[str, Any]]:
    """Each review's text and a few facts, for a bulk decision's confirmation and a campaign's page."""
    scope, args = _scope(merchants, 2)
    rows = await conn.fetch(
        f"""SELECT r.id, r.state, r.rating, r.submitted_at, r.edited_at, r.title, r.body, r.display_name, r.locale,
                   r.product_id, r.product_name, m.slug, m.name
            FROM reviews r JOIN merchants m ON m.id = r.merchant_id
            WHERE r.id = ANY($1) AND {scope} ORDER BY r.submitted_at""", review_ids, *args)
    return [dict(r) for r in rows]


def day_range(end: datetime, days: int) -> list[date]:
    first = (end - timedelta(days=days - 1)).date()
    return [first + timedelta(days=i) for i in range(days)]
