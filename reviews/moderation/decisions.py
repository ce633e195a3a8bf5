"""Moderators' decisions on reviews: publish (the flags were wrong) or reject with a reason code
from the fixed list (`reviews.collection.reasons`) and an optional note.

The only writer of `moderation_decisions`. Every decision is also written to the append-only
audit log, and queues the email that tells the author (`reviews.moderation.notices`) when there
is something to tell: a rejection always, a publication after a hold only on an appeal.
A decision names the version of the review the moderator saw; one made on a review that changed
meanwhile (edited, or decided by someone else) is refused, never applied to the new version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from reviews.collection import appeals, reports
from reviews.collection import store as reviews
from reviews.collection.reasons import BY_CODE
from reviews.platform import audit, jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ApiError, NotFound, ValidationError
from reviews.screening import flags

NOTICE_JOB = "moderation.notice"
NOTE_MAX = 1000


class Conflict(ApiError):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(409, "conflict", message)
        self.reason = reason  # "changed" or "same_moderator"


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


async def decide(conn: Connection, review_id: int, decision: str, *, moderator: str, now: datetime,
                 code: str | None = None, note: str | None = None, user_id: int | None = None,
                 version: str | None = None, merchants: list[int] | None = None) -> dict[str, Any]:
    """Decide one review. `merchants` scopes the decision to the moderator's merchants (None: all)."""
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
        if appeal is not None and user_id is not None and await _decided_by(conn, review_id, user_id):
            raise Conflict("An appeal is decided by a different moderator than the first.", "same_moderator")
        if decision == "publish":
            after = await reviews.publish_decided(conn, review_id, now)
            await flags.decide(conn, [review_id], "dismissed", moderator, now)
        else:
            assert code is not None
            after = await reviews.reject(conn, review_id, code, now)
            await flags.decide(conn, [review_id], "upheld", moderator, now)
        decision_id = int(await conn.fetchval(
            """INSERT INTO moderation_decisions (review_id, user_id, moderator, decision, code, note, on_appeal,
                                                 decided_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
            review_id, user_id, moderator, decision, code if decision == "reject" else None, note,
            appeal is not None, now))
        if appeal is not None:
            await appeals.close(conn, review_id, now)
        # The shop's reports of the review hear the outcome (publish keeps it, reject removes it).
        await reports.close_for(conn, review_id, "kept" if decision == "publish" else "rejected", now,
                                code=code if decision == "reject" else None, actor=moderator)
        await audit.record(conn, actor=moderator, action=f"moderation.{decision}", table="reviews", row_id=review_id,
                           before=asdict(before), after={**asdict(after), "code": code, "note": note,
                                                         "on_appeal": appeal is not None}, now=now)
        # The author hears of a rejection, and of the outcome of their appeal; publishing after a
        # hold needs no email (the review simply appears).
        if decision == "reject" or appeal is not None:
            await jobs.enqueue(conn, NOTICE_JOB, {"decision_id": decision_id}, now,
                               dedupe_key=f"notice:{decision_id}")
    return {**asdict(after), "code": code, "note": note, "decision_id": decision_id, "on_appeal": appeal is not None}


async def _decided_by(conn: Executor, review_id: int, user_id: int) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM moderation_decisions WHERE review_id = $1 AND user_id = $2)",
        review_id, user_id))


async def by_id(conn: Executor, decision_id: int) -> Decision | None:
    row = await conn.fetchrow("SELECT * FROM moderation_decisions WHERE id = $1", decision_id)
    if row is None:
        return None
    return Decision(row["id"], row["review_id"], row["decision"], row["code"], row["note"], row["moderator"],
                    row["user_id"], row["on_appeal"], row["decided_at"])


async def history(conn: Executor, review_id: int) -> list[Decision]:
    rows = await conn.fetch("SELECT * FROM moderation_decisions WHERE review_id = $1 ORDER BY decided_at, id",
                            review_id)
    return [Decision(r["id"], r["review_id"], r["decision"], r["code"], r["note"], r["moderator"], r["user_id"],
                     r["on_appeal"], r["decided_at"]) for r in rows]
