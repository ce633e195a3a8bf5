"""Moderators' decisions on held reviews: publish (the flags were wrong) or reject (with a
reason the author is shown on their review link, where they may edit and resubmit).
Every decision is written to the append-only audit log. Writes no table of its own: the review
through collection, its flags through screening."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from reviews.collection import store as reviews
from reviews.platform import audit
from reviews.platform.db import Connection
from reviews.platform.errors import NotFound, ValidationError
from reviews.screening import flags


async def decide(conn: Connection, review_id: int, decision: str, *, moderator: str, now: datetime,
                 reason: str | None = None) -> dict[str, Any]:
    if decision not in ("publish", "reject"):
        raise ValidationError({"decision": "must be publish or reject"})
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ValidationError({"reason": "a rejection needs a reason the author will be shown"})
    async with conn.transaction():
        before = await reviews.lock_for_decision(conn, review_id)
        if before is None:
            raise NotFound(f"No review {review_id}.")
        if before.state not in reviews.MODERATABLE:
            raise ValidationError({"review": f"a {before.state} review cannot be moderated"})
        if decision == "publish":
            after = await reviews.publish_decided(conn, review_id, now)
            await flags.decide(conn, [review_id], "dismissed", moderator, now)
        else:
            after = await reviews.reject(conn, review_id, reason, now)
            await flags.decide(conn, [review_id], "upheld", moderator, now)
        await audit.record(conn, actor=moderator, action=f"moderation.{decision}", table="reviews", row_id=review_id,
                           before=asdict(before), after=asdict(after), now=now)
    return asdict(after)
