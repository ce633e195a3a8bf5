"""Moderators' decisions on reviews: publish (the flags were wrong) or reject with a reason code
from the fixed list (`reviews.collection.reasons`) and an optional note.

The only writer of `moderation_decisions`. Every decision is also written to the append-only
audit log, and queues the email that tells the author (`reviews.moderation.notices`) when there
is something to tell: a rejection always, a publication after a hold only on an appeal.
A decision made with a grace period (the console's, ATTEST_UNDO_SECONDS) is applied at once but
keeps its effects outside Attest waiting: the author's email and the shop's webhook leave when its
`RELEASE_JOB` runs, after the grace; until then `undo` puts the review back as it was, deletes the
decision (the audit log keeps both) and drops the job, so nobody outside ever hears of it.
A decision names the version of the review the moderator saw; one made on a review that changed
meanwhile (edited, or decided by someone else) is refused, never applied to the new version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from reviews.accounts import users
from reviews.accounts.users import User
from reviews.collection import appeals, hook_events, reports
from reviews.collection import store as reviews
from reviews.collection.reasons import BY_CODE
from reviews.platform import audit, jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ApiError, NotFound, ValidationError
from reviews.screening import flags

NOTICE_JOB = "moderation.notice"
RELEASE_JOB = "moderation.release"
NOTE_MAX = 1000


class Conflict(ApiError):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(409, "conflict", message)
        self.reason = reason  # "changed", "same_moderator" or "too_late" (an undo after the grace)


@dataclass(frozen=True)
class Decision:
    id: int
    review_id: int
    decision: str
    code: str | None
    note: str | None
    moderator: str
    user_id: int | None
    on_appeal: bool
    decided_at: datetime
    released_at: datetime | None = None  # None: the grace period runs, the decision may be undone


async def decide(conn: Connection, review_id: int, decision: str, *, moderator: str, now: datetime,
                 code: str | None = None, note: str | None = None, user_id: int | None = None,
                 version: str | None = None, merchants: list[int] | None = None,
                 grace: timedelta = timedelta(0), cooling_off: timedelta | None = None) -> dict[str, Any]:
    """Decide one review. `merchants` scopes the decision to the moderator's merchants (None: all);
    for `grace` the author's email and the webhooks wait, and the decision may be undone. An appeal
    goes to another moderator than the one who decided first; with `cooling_off` (a single-moderator
    install, ATTEST_APPEAL_COOLING_OFF_HOURS) the same one may decide it that long after, audited."""
    if decision not in ("publish", "reject"):
        raise ValidationError({"decision": "must be publish or reject"})
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationError({"note": f"must be at most {NOTE_MAX} characters"})
    if decision == "reject" and code not in BY_CODE:
        raise ValidationError({"code": "a rejection needs a reason code: " + ", ".join(BY_CODE)})
    async with conn.transaction():
        before = await reviews.lock_for_decision(conn, review_id)
        if before is None or (merchants is not None and await reviews.merchant_of(conn, review_id) not in merchants):
            raise NotFound(f"No review {review_id}.")
        if before.state not in reviews.MODERATABLE:
            raise ValidationError({"review": f"a {before.state} review cannot be moderated"})
        if version is not None and version != before.version:
            raise Conflict("The review changed after you opened it (edited, or decided by someone else); "
                           "nothing was applied. Look at it again.", "changed")
        appeal = await appeals.open_for(conn, review_id)
        first = await _decided_by(conn, review_id, user_id) if appeal is not None and user_id is not None else None
        if first is not None and (cooling_off is None or now < first + cooling_off):
            raise Conflict("An appeal is decided by a different moderator than the first.", "same_moderator")
        if first is not None:
            await audit.record(conn, actor=moderator, action="moderation.appeal_after_cooling_off", table="reviews",
                               row_id=review_id, now=now, after={"first_decided_at": first.isoformat(),
                                                                 "cooling_off_hours": _hours(cooling_off)})
        published_before = await reviews.published_at(conn, review_id)
        if decision == "publish":
            after = await reviews.publish_decided(conn, review_id, now, announce=False)
            await flags.decide(conn, [review_id], "dismissed", moderator, now)
        else:
            assert code is not None
            after = await reviews.reject(conn, review_id, code, now, announce=False)
            await flags.decide(conn, [review_id], "upheld", moderator, now)
        decision_id = int(await conn.fetchval(
            """INSERT INTO moderation_decisions (review_id, user_id, moderator, decision, code, note, on_appeal,
                                                 decided_at, before_state, before_reason, before_published_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id""",
            review_id, user_id, moderator, decision, code if decision == "reject" else None, note,
            appeal is not None, now, before.state, before.reject_reason, published_before))
        if appeal is not None:
            await appeals.close(conn, review_id, now)
        # The shop's reports of the review hear the outcome (publish keeps it, reject removes it).
        await reports.close_for(conn, review_id, "kept" if decision == "publish" else "rejected", now,
                                code=code if decision == "reject" else None, actor=moderator)
        await audit.record(conn, actor=moderator, action=f"moderation.{decision}", table="reviews", row_id=review_id,
                           before=asdict(before), after={**asdict(after), "code": code, "note": note,
                                                         "on_appeal": appeal is not None}, now=now)
        if grace > timedelta(0):
            await jobs.enqueue(conn, RELEASE_JOB, {"decision_id": decision_id}, now + grace,
                               dedupe_key=f"release:{decision_id}")
        else:
            await release(conn, decision_id, now)
    return {**asdict(after), "code": code, "note": note, "decision_id": decision_id, "on_appeal": appeal is not None}


async def release(conn: Connection, decision_id: int, now: datetime) -> bool:
    """The grace is over: the shop's webhook and the author's email leave. The webhook tells what the
    decision changed (published, or taken down) if the review still stands so; the author hears of a
    rejection and of the outcome of their appeal (publishing after a hold needs no email: the review
    simply appears). False when there was nothing left to release (undone, or released already)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            """UPDATE moderation_decisions SET released_at = $2 WHERE id = $1 AND released_at IS NULL
               RETURNING review_id, decision, on_appeal, before_state""", decision_id, now)
        if row is None:
            return False
        state = await hook_events.state_of(conn, row["review_id"])
        if row["decision"] == "publish" and row["before_state"] != "published" and state == "published":
            await hook_events.emit(conn, row["review_id"], hook_events.REVIEW_PUBLISHED, now)
        elif row["decision"] == "reject" and row["before_state"] == "published" and state == "rejected":
            await hook_events.emit(conn, row["review_id"], hook_events.REVIEW_UPDATED, now)
        if row["decision"] == "reject" or row["on_appeal"]:
            await jobs.enqueue(conn, NOTICE_JOB, {"decision_id": decision_id}, now,
                               dedupe_key=f"notice:{decision_id}")
    return True


async def undo(conn: Connection, decision_id: int, *, user_id: int, now: datetime) -> Decision:
    """Take back one's own decision while its grace runs: the review, its flags, its appeal and the
    shop's reports return to what they were; the waiting release goes, so nobody is told. Refused
    (`Conflict` "too_late") once released, or when the review has moved on since."""
    async with conn.transaction():
        row = await conn.fetchrow("SELECT * FROM moderation_decisions WHERE id = $1 FOR UPDATE", decision_id)
        if row is None or row["user_id"] != user_id:
            raise NotFound(f"No decision {decision_id} of yours.")
        found = _decision(row)
        standing = await reviews.lock_for_decision(conn, found.review_id)
        history_ = await history(conn, found.review_id)
        result = "published" if found.decision == "publish" else "rejected"
        if (found.released_at is not None or row["before_state"] is None or standing is None
                or standing.state != result or history_[-1].id != decision_id):
            raise Conflict("Too late to undo: the decision has been sent on.", "too_late")
        after = await reviews.restore(conn, found.review_id, row["before_state"], row["before_reason"],
                                      row["before_published_at"], now)
        await flags.reopen(conn, found.review_id, found.moderator, found.decided_at)
        if found.on_appeal:
            await appeals.reopen(conn, found.review_id, found.decided_at)
        await reports.reopen_for(conn, found.review_id, found.decided_at, now, actor=found.moderator)
        await jobs.drop_waiting(conn, RELEASE_JOB, [f"release:{decision_id}"])
        await conn.execute("DELETE FROM moderation_decisions WHERE id = $1", decision_id)
        await audit.record(conn, actor=found.moderator, action="moderation.undo", table="reviews",
                           row_id=found.review_id, before={**asdict(standing), "decision_id": decision_id},
                           after=asdict(after), now=now)
    return found


async def as_moderator(conn: Executor, email: str) -> tuple[User, list[int] | None] | None:
    """The console moderator or operator with this address, and the merchants they moderate (None:
    all), so a decision made in their name elsewhere (`attest moderate --by`) counts as theirs."""
    user = await users.by_email(conn, email)
    if user is None or user.disabled or user.role not in ("moderator", "operator"):
        return None
    return user, await users.moderated_merchants(conn, user)


def _decision(row: Any) -> Decision:
    return Decision(row["id"], row["review_id"], row["decision"], row["code"], row["note"], row["moderator"],
                    row["user_id"], row["on_appeal"], row["decided_at"], row["released_at"])


async def _decided_by(conn: Executor, review_id: int, user_id: int) -> datetime | None:
    """When this moderator last decided the review (None: never)."""
    found: datetime | None = await conn.fetchval(
        "SELECT max(decided_at) FROM moderation_decisions WHERE review_id = $1 AND user_id = $2", review_id, user_id)
    return found


def _hours(period: timedelta | None) -> float | None:
    return round(period.total_seconds() / 3600, 2) if period is not None else None


async def by_id(conn: Executor, decision_id: int) -> Decision | None:
    row = await conn.fetchrow("SELECT * FROM moderation_decisions WHERE id = $1", decision_id)
    return _decision(row) if row is not None else None


async def history(conn: Executor, review_id: int) -> list[Decision]:
    rows = await conn.fetch("SELECT * FROM moderation_decisions WHERE review_id = $1 ORDER BY decided_at, id",
                            review_id)
    return [_decision(r) for r in rows]
