"""Moderators' decisions on held reviews: publish (the flags were wrong) or reject (with a
reason the author is shown on their review link, where they may edit and resubmit).
Every decision is written to the append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from reviews.platform.errors import NotFound, ValidationError


async def decide(conn: asyncpg.Connection, review_id: int, decision: str, *, moderator: str, now: datetime,
                 reason: str | None = None) -> dict[str, Any]:
    if decision not in ("publish", "reject"):
        raise ValidationError({"decision": "must be publish or reject"})
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ValidationError({"reason": "a rejection needs a reason the author will be shown"})
    async with conn.transaction():
        before = await conn.fetchrow("SELECT id, state, reject_reason FROM reviews WHERE id = $1 FOR UPDATE",
                                     review_id)
        if before is None:
            raise NotFound(f"No review {review_id}.")
        if before["state"] not in ("pending", "held", "published", "rejected"):
            raise ValidationError({"review": f"a {before['state']} review cannot be moderated"})
        if decision == "publish":
            await conn.execute(
                """UPDATE reviews SET state = 'published', reject_reason = NULL,
                       published_at = COALESCE(published_at, $2), updated_at = $2 WHERE id = $1""",
                review_id, now)
            flag_state = "dismissed"
        else:
            await conn.execute(
                """UPDATE reviews SET state = 'rejected', reject_reason = $3, published_at = NULL, updated_at = $2
                   WHERE id = $1""",
                review_id, now, reason)
            flag_state = "upheld"
        await conn.execute(
            """UPDATE flags SET state = $2, decided_by = $3, decided_at = $4 WHERE review_id = $1 AND state = 'open'""",
            review_id, flag_state, moderator, now)
        after = await conn.fetchrow("SELECT id, state, reject_reason FROM reviews WHERE id = $1", review_id)
        await conn.execute(
            """INSERT INTO audit_log (actor, action, table_name, row_id, before, after, at)
               VALUES ($1, $2, 'reviews', $3, $4, $5, $6)""",
            moderator, f"moderation.{decision}", review_id, dict(before), dict(after), now)
    return dict(after)
