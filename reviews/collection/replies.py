"""The shop's public reply to a review: one per review, editable, shown under it in the widgets.
The only writer of `review_replies`.

A reply answers a published review of the shop's own; the review itself is never touched (a
merchant cannot edit, hide or delete a review). Every save is audited. The first reply, and only
the first, queues the email that tells an invited author (`reviews.collection.reply_notices`);
edits do not mail again.

A reply that came with an imported review (`add_imported`, called by `reviews.collection.importing`)
is stored here too, with `source` 'import' and its original time: it is the review's public reply
from the start, shown once the review is published. It mails no one (an imported review has no
invitation) and sends no webhook of its own (the review's `review.published` carries it). The shop
may edit it in the console like its own, which makes it theirs (`source` 'console'); that edit is
not a first reply, so it mails no one either.

A buyer's erasure deletes the replies to their reviews, with the audit log's copies of their text
(`erase`): a reply answers, and often names or quotes, the buyer.
"""

from __future__ import annotations

from collections.abc import Sequence
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
IMPORT_AUTHOR = "import"  # the `author` of a reply that came with an imported review


@dataclass(frozen=True)
class Reply:
    review_id: int
    body: str
    author: str
    created_at: datetime
    updated_at: datetime
    source: str = "console"  # console | import (came with an imported review, not edited since)

    @property
    def edited(self) -> bool:
        return self.updated_at != self.created_at

    @property
    def imported(self) -> bool:
        return self.source == "import"

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Reply:
        return cls(row["review_id"], row["body"], row["author"], row["created_at"], row["updated_at"], row["source"])


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


async def of_reviews(conn: Executor, review_ids: Sequence[int]) -> dict[int, Reply]:
    """The replies to these reviews, by review id (a review without one is left out)."""
    rows = await conn.fetch("SELECT * FROM review_replies WHERE review_id = ANY($1::bigint[])", list(review_ids))
    return {r["review_id"]: Reply.from_row(r) for r in rows}


async def add_imported(conn: Connection, *, merchant_id: int, review_id: int, text: str, at: datetime | None,
                       now: datetime) -> bool:
    """The reply an imported review came with, as its public reply, at its original time (`at`, else
    `now`). Not length-checked like the shop's own (it was public already, and is kept whole); no
    email, webhook or audit entry, as for the imported review itself. False when there is nothing to
    store or the review has a reply already."""
    body = (text or "").replace("\r\n", "\n").strip()
    if not body or unstorable(body):
        return False
    when = at or now
    stored = await conn.fetchval(
        """INSERT INTO review_replies (review_id, merchant_id, body, user_id, author, source, created_at, updated_at)
           VALUES ($1, $2, $3, NULL, $4, 'import', $5, $5) ON CONFLICT (review_id) DO NOTHING RETURNING review_id""",
        review_id, merchant_id, body, IMPORT_AUTHOR, when)
    return stored is not None


async def erase(conn: Connection, review_ids: Sequence[int], now: datetime) -> int:
    """A buyer's erasure: the replies to their reviews go, the audit log's copies of their text are
    emptied, and a first reply's email still waiting is not sent. Returns how many replies went."""
    ids = list(review_ids)
    deleted = [r["review_id"] for r in await conn.fetch(
        "DELETE FROM review_replies WHERE review_id = ANY($1::bigint[]) RETURNING review_id", ids)]
    await audit.empty_rows(conn, "review_replies", ids, now)
    await jobs.drop_waiting(conn, NOTICE_JOB, [f"reply:{i}" for i in ids])
    return len(deleted)


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
                """UPDATE review_replies SET body = $2, user_id = $3, author = $4, updated_at = $5, source = 'console'
                   WHERE review_id = $1 RETURNING *""",
                review_id, body, user_id, author, now)
        assert row is not None
        await hook_events.emit(conn, review_id, hook_events.REVIEW_REPLIED, now)  # the shop's webhooks
        await audit.record(conn, actor=author, action="reply.edit" if before else "reply.create",
                           table="review_replies", row_id=review_id,
                           before={"body": before["body"]} if before else None, after={"body": body}, now=now)
    return Reply.from_row(row), before is None
