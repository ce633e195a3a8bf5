"""A shop's report of one of its reviews to Attest's moderators. The only writer of `review_reports`.

A report gives a reason from the fixed list below and a note. It never hides the review: the review
stays as it is (published stays published) and the report waits in the moderators' Reported tab
(`reviews.moderation.queue.reported`). The moderator then decides the review as for any other:
publish keeps it, reject removes it with a reason code. That decision closes the review's open
reports with its outcome (`close_for`, called by `reviews.moderation.decisions.decide`), which the
merchant sees on the review's page. Every report and its closing are audited.

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
        return cls(row["id"], row["review_id"], row["reason"], row["note"], row["reporter"], row["state"],
                   row["outcome"], row["outcome_code"], row["created_at"], row["closed_at"])


async def report(conn: Connection, *, merchant_id: int, review_id: int, reason: str, note: str | None,
                 reporter: str, user_id: int | None, now: datetime) -> Report:
    """Report this merchant's review to the moderators. The same person reporting it again while
    their report is open changes its reason and note. NotFound for another shop's review."""
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
        row = await conn.fetchrow(
            """INSERT INTO review_reports (review_id, merchant_id, reason, note, user_id, reporter, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (review_id, reporter) WHERE state = 'open'
               DO UPDATE SET reason = EXCLUDED.reason, note = EXCLUDED.note, user_id = EXCLUDED.user_id
               RETURNING *""",
            review_id, merchant_id, reason, text, user_id, reporter, now)
        assert row is not None
        await audit.record(conn, actor=reporter, action="report.create", table="review_reports", row_id=row["id"],
                           after={"review_id": review_id, "reason": reason, "note": text}, now=now)
    return Report.from_row(row)


async def close_for(conn: Connection, review_id: int, outcome: str, now: datetime, *,
                    code: str | None = None, actor: str = "moderation") -> int:
    """Close the review's open reports with a moderator's outcome ('kept' or 'rejected', with the
    reject reason's code). Returns how many were closed. Called inside the decision's transaction."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown report outcome {outcome!r}")
    rows = await conn.fetch(
        """UPDATE review_reports SET state = 'closed', outcome = $2, outcome_code = $3, closed_at = $4
           WHERE review_id = $1 AND state = 'open' RETURNING id""",
        review_id, outcome, code if outcome == "rejected" else None, now)
    for row in rows:
        await audit.record(conn, actor=actor, action="report.close", table="review_reports", row_id=row["id"],
                           after={"review_id": review_id, "outcome": outcome, "code": code}, now=now)
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
