"""Moderators' decisions on photos, and what the console's Photos tab reads.

Every photo in a review waits for a person (`pending`) before shoppers see it; the review's text
follows its own rules. A moderator approves a photo, approves all of a review's waiting photos at
once, or refuses one with a reason code (`reviews.media.reasons`: personal data such as a face or
an address label, not of the product, offensive, not the author's own). Each decision is audited,
closes the shop's reports of the photo, and, when it changes what shoppers see of a published
review, touches the review (`reviews.collection.store.photos_changed`: caches and webhooks follow).
A refusal queues the email that tells the author why (`reviews.moderation.photo_notices`) and a
look at the photo once the retention period is over (`reviews.media.sweeping`).

Writes nothing itself: the photos through `reviews.media.store`, the reports through
`reviews.collection.reports`, the review through `reviews.collection.store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reviews.collection import reports
from reviews.collection import store as reviews
from reviews.media import reasons
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.platform import audit, jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import NotFound, ValidationError
from reviews.screening import flags

NOTICE_JOB = "moderation.photo_notice"
PAGE = 48


@dataclass(frozen=True)
class Waiting:
    """A photo in the Photos tab, with what the moderator needs beside it."""

    photo: Photo
    merchant: str  # the shop's slug
    merchant_name: str
    product_id: str | None
    product_name: str | None
    display_name: str
    title: str | None
    body: str
    review_state: str
    review_rating: int
    submitted_at: datetime
    others_waiting: int  # more of this review's photos waiting (for "approve all of this review")
    reports: tuple[PhotoReport, ...] = ()  # the shop's open reports of the photo


@dataclass(frozen=True)
class PhotoReport:
    """A shop's open report of a photo, as the moderator reads it beside the photo."""

    reason: str  # a code of `reviews.collection.reports.REASONS`
    note: str
    reporter: str


def _scope(merchants: list[int] | None, first: int) -> tuple[str, list[Any]]:
    if merchants is None:
        return "TRUE", []
    return f"r.merchant_id = ANY(${first}::bigint[])", [merchants]


_COLUMNS = """p.*, m.slug, m.name AS merchant_name, r.product_id AS review_product, r.product_name, r.display_name,
               r.title, r.body, r.state AS review_state, r.rating, r.submitted_at"""
_FROM = "photos p JOIN reviews r ON r.id = p.review_id JOIN merchants m ON m.id = r.merchant_id"
_OPEN_REPORT = "SELECT 1 FROM review_reports rr WHERE rr.photo_id = p.id AND rr.state = 'open'"


def _waiting(r: Any, others: int, reports: tuple[PhotoReport, ...] = ()) -> Waiting:
    return Waiting(Photo.from_row(r), r["slug"], r["merchant_name"], r["review_product"], r["product_name"],
                   r["display_name"], r["title"], r["body"], r["review_state"], r["rating"], r["submitted_at"],
                   others, reports)


async def waiting(conn: Executor, merchants: list[int] | None, page: int = 1) -> tuple[list[Waiting], int]:
    """The photos waiting for a moderator, oldest first, in reviews not withdrawn; and how many in all."""
    scope, args = _scope(merchants, 1)
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS}, count(*) OVER (PARTITION BY p.review_id) - 1 AS others, count(*) OVER () AS total
            FROM {_FROM}
            WHERE p.state = 'pending' AND r.state <> 'withdrawn' AND {scope}
            ORDER BY p.created_at, p.id LIMIT {PAGE} OFFSET {PAGE * (max(page, 1) - 1)}""", *args)
    return [_waiting(r, int(r["others"])) for r in rows], int(rows[0]["total"]) if rows else 0


async def reported(conn: Executor, merchants: list[int] | None) -> list[Waiting]:
    """The photos a shop reported (`reviews.collection.reports`, with `photo_id`), whatever their state,
    oldest report first, each with its open reports. Deciding a photo closes its reports."""
    scope, args = _scope(merchants, 1)
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS}, o.reports
            FROM {_FROM}
            JOIN LATERAL (SELECT min(rr.created_at) AS since,
                                 jsonb_agg(jsonb_build_object('reason', rr.reason, 'note', rr.note,
                                                              'reporter', rr.reporter)
                                           ORDER BY rr.created_at, rr.id) AS reports
                          FROM review_reports rr WHERE rr.photo_id = p.id AND rr.state = 'open') o
                 ON o.since IS NOT NULL
            WHERE r.state <> 'withdrawn' AND {scope}
            ORDER BY o.since, p.id LIMIT {PAGE}""", *args)
    return [_waiting(r, 0, tuple(PhotoReport(x["reason"], x["note"] or "", x["reporter"]) for x in r["reports"]))
            for r in rows]


async def waiting_count(conn: Executor, merchants: list[int] | None) -> int:
    """The photos for a moderator to look at: waiting, or reported by their shop."""
    scope, args = _scope(merchants, 1)
    return int(await conn.fetchval(
        f"""SELECT count(*) FROM {_FROM}
            WHERE (p.state = 'pending' OR EXISTS ({_OPEN_REPORT})) AND r.state <> 'withdrawn' AND {scope}""",
        *args))


async def of_review(conn: Executor, review_id: int) -> list[Photo]:
    """A review's photos in its author's order, whatever their state (for the review's file)."""
    return (await photo_store.of_reviews(conn, [review_id])).get(review_id, [])


async def approve(conn: Connection, photo_ids: Sequence[int], *, moderator: str, now: datetime,
                  merchants: list[int] | None = None) -> list[Photo]:
    """Show these photos (with their reviews, once those are published)."""
    return await _decide(conn, photo_ids, "approved", None, moderator, now, merchants)


async def approve_review(conn: Connection, review_id: int, *, moderator: str, now: datetime,
                         merchants: list[int] | None = None) -> list[Photo]:
    """Approve every photo of the review that is waiting (the bulk action)."""
    waiting_ids = [p.id for p in await of_review(conn, review_id) if p.state == "pending"]
    if not waiting_ids:
        return []
    return await _decide(conn, waiting_ids, "approved", None, moderator, now, merchants)


async def reject(conn: Connection, photo_ids: Sequence[int], code: str, *, moderator: str, now: datetime,
                 merchants: list[int] | None = None) -> list[Photo]:
    """Refuse these photos for one reason; their authors are emailed why."""
    if reasons.reason(code) is None:
        raise ValidationError({"code": "a refusal needs a reason code: " + ", ".join(reasons.BY_CODE)})
    return await _decide(conn, photo_ids, "rejected", code, moderator, now, merchants)


async def _decide(conn: Connection, photo_ids: Sequence[int], state: str, code: str | None, moderator: str,
                  now: datetime, merchants: list[int] | None) -> list[Photo]:
    async with conn.transaction():
        found = await photo_store.many(conn, photo_ids)
        if len(found) != len(set(photo_ids)) or any(
                p.review_id is None or (merchants is not None and p.merchant_id not in merchants) for p in found):
            raise NotFound("No such photo.")
        changed = await photo_store.decide(conn, [p.id for p in found], state, reason=code, by=moderator, now=now)
        for before, after in changed:
            await audit.record(conn, actor=moderator, action=f"photo.{'approve' if state == 'approved' else 'reject'}",
                               table="photos", row_id=after.id, now=now,
                               before={"review_id": before.review_id, "state": before.state,
                                       "reason": before.reject_reason},
                               after={"review_id": after.review_id, "state": after.state, "reason": code})
            if state == "rejected" and before.state != "rejected":
                await jobs.enqueue(conn, NOTICE_JOB, {"photo_id": after.id}, now, dedupe_key=f"photo-notice:{after.id}")
                await photo_store.schedule_purge(conn, after.id, now + reviews.RETENTION_FLOOR)
        await reports.close_for_photos(conn, [p.id for p in found], "kept" if state == "approved" else "rejected",
                                       now, code=code, actor=moderator)
        for review_id in sorted({a.review_id for b, a in changed if (b.state == "approved") != (a.state == "approved")
                                 and a.review_id is not None}):
            await reviews.photos_changed(conn, review_id, now)
    return [after for _, after in changed]


@dataclass(frozen=True)
class Copy:
    """One pair of a `photo_copy` flag's evidence: the review's photo beside the other review's."""

    photo: Photo | None  # None: deleted since (its author removed it, an erasure)
    other: Photo | None
    other_review_id: int
    other_merchant: str | None
    other_display_name: str | None
    other_state: str | None
    distance: int


async def copies(conn: Executor, review_id: int) -> list[Copy]:
    """The evidence of the review's photo flag, both photos of each pair side by side."""
    return (await copies_of(conn, [review_id])).get(review_id, [])


async def copies_of(conn: Executor, review_ids: Sequence[int]) -> dict[int, list[Copy]]:
    """`copies` for many reviews at once (the Photos tab's page), by review; reviews without the flag left out."""
    evidence = await conn.fetch(
        "SELECT review_id, evidence FROM flags WHERE review_id = ANY($1::bigint[]) AND kind = $2",
        list(review_ids), flags.PHOTO_COPY)
    pairs = {int(r["review_id"]): list((r["evidence"] or {}).get("pairs", [])) for r in evidence}
    every = [x for found in pairs.values() for x in found]
    if not every:
        return {}
    photos = {p.id: p for p in await photo_store.many(
        conn, [int(x[k]) for x in every for k in ("photo", "other_photo")])}
    others = {r["id"]: r for r in await conn.fetch(
        """SELECT r.id, r.display_name, r.state, m.slug FROM reviews r JOIN merchants m ON m.id = r.merchant_id
           WHERE r.id = ANY($1::bigint[])""", [int(x["other_review"]) for x in every])}
    found: dict[int, list[Copy]] = {}
    for review_id, listed in pairs.items():
        for x in listed:
            other = others.get(int(x["other_review"]))
            found.setdefault(review_id, []).append(Copy(
                photos.get(int(x["photo"])), photos.get(int(x["other_photo"])), int(x["other_review"]),
                other["slug"] if other else None, other["display_name"] if other else None,
                other["state"] if other else None, int(x["distance"])))
    return found
