"""A shop's report of one of its reviews to Attest's moderators. The only writer of `review_reports`.

A report gives a reason from the fixed list below and a note. It never hides the review: the review
stays as it is (published stays published) and the report waits in the moderators' Reported tab
(`reviews.moderation.queue.reported`). The moderator then decides the review as for any other:
publish keeps it, reject removes it with a reason code. That decision closes the review's open
reports with its outcome (`close_for`, called by `reviews.moderation.decisions.decide`), which the
merchant sees on the review's page. Every report and its closing are audited.

A report may name one photo of the review (`photo_id`): it waits the same way, and the moderator's
decision on that photo (`reviews.moderation.photos`) closes it (`close_for_photos`); a decision on
the review closes the review's own reports only.

A buyer's erasure deletes the reports of their reviews (`erase`), open or closed, with the audit
log's copies of their notes: a note is about the buyer's review and often quotes it (the
`personal_data` reason is for exactly that), and an emptied, withdrawn review has nothing left to
decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from reviews.platform import audit
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.text import unstorable


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # English; the console translates it (its templates name each one)


REASONS = (
    Reason("not_a_buyer", "Not a real buyer"),
    Reason("offensive", "Offensive"),
    Reason("personal_data", "Personal data"),
    Reason("other_shop", "About another shop"),
    Reason("other", "Other"),
)
BY_CODE = {r.code: r for r in REASONS}
NOTE_MAX = 1000
# What a moderator can still decide (reviews.collection.store.MODERATABLE, less what is already rejected).
REPORTABLE = ("pending", "held", "published")
OUTCOMES = ("kept", "rejected")


@dataclass(frozen=True)
class Report:
    id: int
    review_id: int
    photo_id: int | None  # a report of one of the review's photos
    reason: str
    note: str
    reporter: str
    state: str  # open | closed
    outcome: str | None  # kept | rejected, once closed
    outcome_code: str | None  # the reject reason's code
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Report:
        return cls(row["id"], row["review_id"], row["photo_id"], row["reason"], row["note"], row["reporter"],
                   row["state"], row["outcome"], row["outcome_code"], row["created_at"], row["closed_at"])


async def report(conn: Connection, *, merchant_id: int, review_id: int, reason: str, note: str | None,
                 reporter: str, user_id: int | None, now: datetime, photo_id: int | None = None) -> Report:
    """Report this merchant's review (or, with `photo_id`, one of its photos) to the moderators. The
    same person reporting it again while their report is open changes its reason and note. NotFound
    for another shop's review, or a photo that is not the review's."""
    if reason not in BY_CODE:
        raise ValidationError({"reason": "must be one of " + ", ".join(BY_CODE)})
    text = (note or "").replace("\r\n", "\n").strip()
    if len(text) > NOTE_MAX:
        raise ValidationError({"note": f"must be at most {NOTE_MAX} characters"})
    if unstorable(text):
        raise ValidationError({"note": unstorable(text) or ""})
    async with conn.transaction():
        review = await conn.fetchrow("SELECT id, state FROM reviews WHERE id = $1 AND merchant_id = $2 FOR SHARE",
                                     review_id, merchant_id)
        if review is None:
            raise NotFound(f"No review {review_id}.")
        if review["state"] not in REPORTABLE:
            raise ValidationError({"review": f"a {review['state']} review cannot be reported"})
        if photo_id is not None and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM photos WHERE id = $1 AND review_id = $2)", photo_id, review_id):
            raise NotFound(f"No photo {photo_id} in review {review_id}.")
        row = await conn.fetchrow(
            """INSERT INTO review_reports (review_id, merchant_id, reason, note, user_id, reporter, created_at,
                                           photo_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (review_id, coalesce(photo_id, 0), reporter) WHERE state = 'open'
               DO UPDATE SET reason = EXCLUDED.reason, note = EXCLUDED.note, user_id = EXCLUDED.user_id
               RETURNING *""",
            review_id, merchant_id, reason, text, user_id, reporter, now, photo_id)
        assert row is not None
        await audit.record(conn, actor=reporter, action="report.create", table="review_reports", row_id=row["id"],
                           after={"review_id": review_id, "photo_id": photo_id, "reason": reason, "note": text},
                           now=now)
    return Report.from_row(row)


async def close_for(conn: Connection, review_id: int, outcome: str, now: datetime, *,
                    code: str | None = None, actor: str = "moderation") -> int:
    """Close the review's open reports with a moderator's outcome ('kept' or 'rejected', with the
    reject reason's code). Returns how many were closed. Called inside the decision's transaction."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown report outcome {outcome!r}")
    rows = await conn.fetch(
        """UPDATE review_reports SET state = 'closed', outcome = $2, outcome_code = $3, closed_at = $4
           WHERE review_id = $1 AND photo_id IS NULL AND state = 'open' RETURNING id""",
        review_id, outcome, code if outcome == "rejected" else None, now)
    for row in rows:
        await audit.record(conn, actor=actor, action="report.close", table="review_reports", row_id=row["id"],
                           after={"review_id": review_id, "outcome": outcome, "code": code}, now=now)
    return len(rows)


async def reopen_for(conn: Connection, review_id: int, closed_at: datetime, now: datetime, *, actor: str) -> int:
    """The decision that closed the review's reports at `closed_at` was undone: they are open again."""
    rows = await conn.fetch(
        """UPDATE review_reports SET state = 'open', outcome = NULL, outcome_code = NULL, closed_at = NULL
           WHERE review_id = $1 AND photo_id IS NULL AND state = 'closed' AND closed_at = $2 RETURNING id""",
        review_id, closed_at)
    for row in rows:
        await audit.record(conn, actor=actor, action="report.reopen", table="review_reports", row_id=row["id"],
                           after={"review_id": review_id}, now=now)
    return len(rows)


async def close_for_photos(conn: Connection, photo_ids: Sequence[int], outcome: str, now: datetime, *,
                           code: str | None = None, actor: str = "moderation") -> int:
    """Close the open reports of these photos with the moderator's decision on them (`close_for`'s outcomes)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown report outcome {outcome!r}")
    rows = await conn.fetch(
        """UPDATE review_reports SET state = 'closed', outcome = $2, outcome_code = $3, closed_at = $4
           WHERE photo_id = ANY($1::bigint[]) AND state = 'open' RETURNING id, review_id, photo_id""",
        list(photo_ids), outcome, code if outcome == "rejected" else None, now)
    for row in rows:
        await audit.record(conn, actor=actor, action="report.close", table="review_reports", row_id=row["id"],
                           after={"review_id": row["review_id"], "photo_id": row["photo_id"], "outcome": outcome,
                                  "code": code}, now=now)
    return len(rows)


async def for_review(conn: Executor, review_id: int) -> list[Report]:
    """The review's reports, oldest first, open and closed."""
    rows = await conn.fetch("SELECT * FROM review_reports WHERE review_id = $1 ORDER BY created_at, id", review_id)
    return [Report.from_row(r) for r in rows]


async def open_count(conn: Executor, review_id: int) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM review_reports WHERE review_id = $1 AND state = 'open'", review_id))


async def erase(conn: Connection, review_ids: Sequence[int], now: datetime) -> int:
    """A buyer's erasure: the reports of their reviews go, and their audit entries are emptied.
    Returns how many reports went."""
    deleted = [r["id"] for r in await conn.fetch(
        "DELETE FROM review_reports WHERE review_id = ANY($1::bigint[]) RETURNING id", list(review_ids))]
    await audit.empty_rows(conn, "review_reports", deleted, now)
    return len(deleted)
