"""The shop's public reply to a review: one per review, editable, shown under it in the widgets.
The only writer of `review_replies`.

A reply answers a published review of the shop's own; the review itself is never touched (a
merchant cannot edit, hide or delete a review). Every save is audited. The first reply, and only
the first, queues the email that tells an invited author (`reviews.collection.reply_notices`);
edits do not mail again. A review imported with the source's reply (`reviews.source_reply`)
shows that one until the shop writes its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from reviews.collection import hook_events
from reviews.platform import audit, jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.text import unstorable

NOTICE_JOB = "reply.notice"
MAX_LENGTH = 5000
# A reply answers what readers see: the review must be published when it is written or edited.
REPLYABLE = ("published",)


@dataclass(frozen=True)
class Reply:
    review_id: int
    body: str
    author: str
    created_at: datetime
    updated_at: datetime

    @property
    def edited(self) -> bool:
        return self.updated_at != self.created_at

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Reply:
        return cls(row["review_id"], row["body"], row["author"], row["created_at"], row["updated_at"])


def checked(text: str | None) -> str:
    """The reply as it will be stored, or a ValidationError saying what is wrong with it."""
    body = (text or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"reply": "must not be empty"})
    if len(body) > MAX_LENGTH:
        raise ValidationError({"reply": f"must be at most {MAX_LENGTH} characters"})
    problem = unstorable(body)
    if problem:
        raise ValidationError({"reply": problem})
    return body


async def of_review(conn: Executor, review_id: int) -> Reply | None:
    row = await conn.fetchrow("SELECT * FROM review_replies WHERE review_id = $1", review_id)
    return Reply.from_row(row) if row else None


async def save(conn: Connection, *, merchant_id: int, review_id: int, text: str | None, author: str,
               user_id: int | None, now: datetime) -> tuple[Reply, bool]:
    """Write or edit the reply to this merchant's published review. Returns it and whether it was the
    first (which queues the author's email). NotFound for another shop's review."""
    body = checked(text)
    async with conn.transaction():
        review = await conn.fetchrow("SELECT id, state FROM reviews WHERE id = $1 AND merchant_id = $2 FOR SHARE",
                                     review_id, merchant_id)
        if review is None:
            raise NotFound(f"No review {review_id}.")
        if review["state"] not in REPLYABLE:
            raise ValidationError({"review": f"a {review['state']} review cannot be replied to"})
        before = await conn.fetchrow("SELECT * FROM review_replies WHERE review_id = $1 FOR UPDATE", review_id)
        if before is not None and before["body"] == body:
            return Reply.from_row(before), False
        if before is None:
            row = await conn.fetchrow(
                """INSERT INTO review_replies (review_id, merchant_id, body, user_id, author, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *""",
                review_id, merchant_id, body, user_id, author, now)
            # Only here: a review has one reply, written once, so its author is mailed once.
            await jobs.enqueue(conn, NOTICE_JOB, {"review_id": review_id}, now, dedupe_key=f"reply:{review_id}")
        else:
            row = await conn.fetchrow(
                """UPDATE review_replies SET body = $2, user_id = $3, author = $4, updated_at = $5
                   WHERE review_id = $1 RETURNING *""",
                review_id, body, user_id, author, now)
        assert row is not None
        await hook_events.emit(conn, review_id, hook_events.REVIEW_REPLIED, now)  # the shop's webhooks
        await audit.record(conn, actor=author, action="reply.edit" if before else "reply.create",
                           table="review_replies", row_id=review_id,
                           before={"body": before["body"]} if before else None, after={"body": body}, now=now)
    return Reply.from_row(row), before is None
