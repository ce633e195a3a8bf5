"""The invitations table: every write to it, the reads others need, and the funnel.

An invitation moves `scheduled` → `sent` or `skipped` / `cancelled` / `failed`, each with its
reason; its reminder has a state of its own. There is at most one invitation per order. The only
writer of `invitations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from reviews.platform import jobs
from reviews.platform.db import Connection, Executor

Kind = Literal["invitation", "reminder"]

SEND_JOB = "send_invitation"
REMIND_JOB = "send_reminder"


@dataclass(frozen=True)
class Invitation:
    id: int
    merchant_id: int
    order_id: int
    state: str
    reason: str | None
    send_at: datetime | None
    sent_at: datetime | None
    reminder_state: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Invitation:
        return cls(row["id"], row["merchant_id"], row["order_id"], row["state"], row["reason"], row["send_at"],
                   row["sent_at"], row["reminder_state"])

    def describe(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason,
                "send_at": self.send_at.isoformat() if self.send_at else None}


def _invitation(row: asyncpg.Record | None) -> Invitation | None:
    return Invitation.from_row(row) if row is not None else None


# --- reads ---------------------------------------------------------------------------------------

async def get(conn: Executor, invitation_id: int) -> Invitation | None:
    return _invitation(await conn.fetchrow("SELECT * FROM invitations WHERE id = $1", invitation_id))


async def for_order_locked(conn: Connection, order_id: int) -> Invitation | None:
    """The order's invitation, locked until the transaction ends."""
    return _invitation(await conn.fetchrow("SELECT * FROM invitations WHERE order_id = $1 FOR UPDATE", order_id))


async def rows_by_id(conn: Executor, invitation_ids: Sequence[int]) -> dict[int, asyncpg.Record]:
    """Whole rows, for the sending pipeline inside this package."""
    return {r["id"]: r for r in await conn.fetch("SELECT * FROM invitations WHERE id = ANY($1)", list(invitation_ids))}


async def recently_invited(conn: Connection, merchant_id: int, buyer_hash: str, order_id: int,
                           send_at: datetime, cap_days: int) -> bool:
    """Whether another of this buyer's invitations from this merchant falls within the cap around send_at."""
    # Two orders of one buyer ingested at once must not both pass the check: serialise per buyer.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"invite-cap:{merchant_id}:{buyer_hash}")
    return bool(await conn.fetchval(
        """SELECT 1 FROM invitations i JOIN orders o ON o.id = i.order_id
           WHERE i.merchant_id = $1 AND o.buyer_hash = $2 AND o.id <> $3
             AND i.state IN ('scheduled', 'sent')
             AND COALESCE(i.sent_at, i.send_at) > $4::timestamptz - make_interval(days => $5::int)
             AND COALESCE(i.sent_at, i.send_at) < $4::timestamptz + make_interval(days => $5::int)""",
        merchant_id, buyer_hash, order_id, send_at, cap_days,
    ))


async def count_by_state(conn: Executor) -> dict[str, int]:
    return {r["state"]: int(r["n"]) for r in await conn.fetch(
        "SELECT state, count(*) AS n FROM invitations GROUP BY state")}


async def funnel(conn: Executor, merchant_id: int) -> dict[str, Any]:
    """Each merchant's invitation funnel: ordered, skipped (by reason), scheduled, sent, failed, reminded, reviewed;
    `awaiting`: orders with no invitation yet (not fulfilled, or not delivered when the shop waits for
    delivery); `opened`: invitations whose review link the buyer opened (`link_opened`).

    `sent` counts invitations the SMTP server accepted; `reminded` the reminders it accepted. A skipped
    reminder keeps its reason in the invitation's `reason` (the invitation itself was sent, so it has none).

    `too_old_to_invite` counts orders that were already past the invitation limit when they arrived
    (an import of past orders): never scheduled, they are history, not failures. One that expired
    while it waited to be sent (a worker down for weeks) stays under `skipped.too_late`.
    """
    row = await conn.fetchrow(
        """SELECT
             (SELECT count(*) FROM orders WHERE merchant_id = $1) AS ordered,
             (SELECT count(*) FROM orders o WHERE o.merchant_id = $1
               AND NOT EXISTS (SELECT 1 FROM invitations x WHERE x.order_id = o.id)) AS awaiting,
             count(*) FILTER (WHERE link_opens > 0) AS opened,
             count(*) FILTER (WHERE state = 'scheduled') AS scheduled,
             count(*) FILTER (WHERE state = 'sent') AS sent,
             count(*) FILTER (WHERE state = 'failed') AS failed,
             count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
             count(*) FILTER (WHERE state = 'skipped' AND reason = 'too_late' AND send_at IS NULL)
               AS too_old_to_invite,
             count(*) FILTER (WHERE reminder_state = 'scheduled') AS reminder_scheduled,
             count(*) FILTER (WHERE reminder_state = 'sent') AS reminded,
             (SELECT count(DISTINCT invitation_id) FROM reviews
               WHERE merchant_id = $1 AND invitation_id IS NOT NULL AND state <> 'withdrawn') AS reviewed
           FROM invitations WHERE merchant_id = $1""",
        merchant_id,
    )
    reasons = await conn.fetch(
        """SELECT CASE WHEN state = 'skipped' THEN 'skipped' ELSE 'reminder_skipped' END AS what,
                  COALESCE(reason, 'unknown') AS reason, count(*) AS n
           FROM invitations WHERE merchant_id = $1 AND (state = 'skipped' OR reminder_state = 'skipped')
             AND NOT (state = 'skipped' AND reason = 'too_late' AND send_at IS NULL)
           GROUP BY 1, 2 ORDER BY 1, 2""",
        merchant_id,
    )
    assert row is not None  # counts: always one row
    result = dict(row)
    result["skipped"] = {r["reason"]: r["n"] for r in reasons if r["what"] == "skipped"}
    result["reminder_skipped"] = {r["reason"]: r["n"] for r in reasons if r["what"] == "reminder_skipped"}
    return result


# The funnel's figures per group of orders (the week an order was received, or its language), on
# the same definitions as `funnel`: the groups of a merchant add up to its funnel.
FUNNEL_GROUPS = {
    "week": "date_trunc('week', o.created_at AT TIME ZONE 'UTC')::date::text",
    "language": "coalesce(nullif(lower(split_part(replace(o.locale, '_', '-'), '-', 1)), ''), '')",
}


async def funnel_by(conn: Executor, merchant_id: int, by: str, since: datetime | None = None
                    ) -> list[dict[str, Any]]:
    """The funnel of each group of the merchant's orders (received since `since`, when given):
    ordered, awaiting, scheduled, skipped (past the too-old ones), too_old_to_invite, sent, opened,
    reminded, reviewed, failed, cancelled. Groups are "YYYY-MM-DD" (the Monday of the week, UTC) or a
    language ("" when the order said none); groups without orders are left out."""
    key = FUNNEL_GROUPS[by]
    rows = await conn.fetch(
        f"""SELECT {key} AS grp,
                  count(*) AS ordered,
                  count(*) FILTER (WHERE i.id IS NULL) AS awaiting,
                  count(i.id) FILTER (WHERE i.link_opens > 0) AS opened,
                  count(i.id) FILTER (WHERE i.state = 'scheduled') AS scheduled,
                  count(i.id) FILTER (WHERE i.state = 'skipped'
                                      AND NOT (i.reason = 'too_late' AND i.send_at IS NULL)) AS skipped,
                  count(i.id) FILTER (WHERE i.state = 'skipped' AND i.reason = 'too_late' AND i.send_at IS NULL)
                    AS too_old_to_invite,
                  count(i.id) FILTER (WHERE i.state = 'sent') AS sent,
                  count(i.id) FILTER (WHERE i.reminder_state = 'sent') AS reminded,
                  count(i.id) FILTER (WHERE EXISTS (
                      SELECT 1 FROM reviews r WHERE r.invitation_id = i.id AND r.merchant_id = $1
                        AND r.state <> 'withdrawn')) AS reviewed,
                  count(i.id) FILTER (WHERE i.state = 'failed') AS failed,
                  count(i.id) FILTER (WHERE i.state = 'cancelled') AS cancelled
           FROM orders o LEFT JOIN invitations i ON i.order_id = o.id AND i.merchant_id = $1
           WHERE o.merchant_id = $1 AND ($2::timestamptz IS NULL OR o.created_at >= $2)
           GROUP BY 1 ORDER BY 1""",
        merchant_id, since,
    )
    return [{**dict(r), "group": r["grp"]} for r in rows]


async def link_opened(conn: Executor, invitation_id: int, now: datetime) -> None:
    """The buyer opened the review link (the page's script says so, once per tab): counted, and the
    first time kept."""
    await conn.execute("""UPDATE invitations SET link_opens = link_opens + 1,
                                 link_opened_at = COALESCE(link_opened_at, $2) WHERE id = $1""",
                       invitation_id, now)


@dataclass(frozen=True)
class Listed:
    """An invitation as the merchant's console lists it: its order's id and language, no address."""

    invitation: Invitation
    order_external_id: str
    language: str
    created_at: datetime
    reminded_at: datetime | None


async def listed(conn: Executor, merchant_id: int, *, state: str | None = None, language: str | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[list[Listed], int]:
    """The merchant's invitations, newest first, filtered by state and by the order's language
    ("" for orders that said none); and how many match."""
    lang = FUNNEL_GROUPS["language"]
    where = f"""i.merchant_id = $1 AND ($2::text IS NULL OR i.state = $2)
                AND ($3::text IS NULL OR {lang} = $3)"""
    total = await conn.fetchval(
        f"SELECT count(*) FROM invitations i JOIN orders o ON o.id = i.order_id WHERE {where}",
        merchant_id, state, language)
    rows = await conn.fetch(
        f"""SELECT i.*, o.external_id AS order_external_id, {lang} AS language, i.created_at AS listed_at
            FROM invitations i JOIN orders o ON o.id = i.order_id WHERE {where}
            ORDER BY i.created_at DESC, i.id DESC LIMIT $4 OFFSET $5""",
        merchant_id, state, language, limit, offset)
    return [Listed(Invitation.from_row(r), r["order_external_id"], r["language"], r["listed_at"], r["reminded_at"])
            for r in rows], int(total or 0)


# --- scheduling ----------------------------------------------------------------------------------

async def add_skipped(conn: Connection, merchant_id: int, order_id: int, reason: str,
                      now: datetime) -> Invitation:
    row = await conn.fetchrow(
        """INSERT INTO invitations (merchant_id, order_id, state, reason, created_at, updated_at)
           VALUES ($1, $2, 'skipped', $3, $4, $4) RETURNING *""",
        merchant_id, order_id, reason, now,
    )
    assert row is not None  # an INSERT ... RETURNING yields its row
    return Invitation.from_row(row)


async def add_scheduled(conn: Connection, merchant_id: int, order_id: int, send_at: datetime,
                        now: datetime) -> Invitation:
    """The invitation and the job that sends it, in the caller's transaction."""
    row = await conn.fetchrow(
        """INSERT INTO invitations (merchant_id, order_id, state, send_at, created_at, updated_at)
           VALUES ($1, $2, 'scheduled', $3, $4, $4) RETURNING *""",
        merchant_id, order_id, send_at, now,
    )
    assert row is not None  # an INSERT ... RETURNING yields its row
    await jobs.enqueue(conn, SEND_JOB, {"invitation_id": row["id"]}, send_at, dedupe_key=f"invitation:{row['id']}")
    return Invitation.from_row(row)


async def cancel(conn: Connection, invitation_id: int, reason: str, now: datetime) -> Invitation:
    row = await conn.fetchrow(
        """UPDATE invitations SET state = 'cancelled', reason = $2, reminder_state = NULL,
               updated_at = $3 WHERE id = $1 RETURNING *""",
        invitation_id, reason, now,
    )
    assert row is not None  # the caller holds the invitation
    return Invitation.from_row(row)


async def cancel_scheduled(conn: Connection, merchant_id: int, invitation_id: int, reason: str,
                           now: datetime) -> tuple[Invitation, Invitation] | None:
    """Cancel one of the merchant's invitations while it is still scheduled (the worker then skips
    its job); returns it before and after, or None when there is no such scheduled invitation."""
    async with conn.transaction():
        before = _invitation(await conn.fetchrow(
            "SELECT * FROM invitations WHERE id = $1 AND merchant_id = $2 AND state = 'scheduled' FOR UPDATE",
            invitation_id, merchant_id))
        if before is None:
            return None
        return before, await cancel(conn, invitation_id, reason, now)


async def cancel_reminder(conn: Connection, invitation_id: int, now: datetime) -> Invitation:
    row = await conn.fetchrow(
        "UPDATE invitations SET reminder_state = 'cancelled', updated_at = $2 WHERE id = $1 RETURNING *",
        invitation_id, now,
    )
    assert row is not None  # the caller holds the invitation
    return Invitation.from_row(row)


async def reviewed(conn: Connection, invitation_id: int, now: datetime) -> bool:
    """A review came in through this invitation: its scheduled reminder is called off at once, as
    the send-time check would have done on the day (skipped, `already_reviewed`, which the funnel
    counts under "reminders not sent"), and its job removed, so no reminder shows as waiting for a
    buyer who has answered. True when there was one."""
    row = await conn.fetchrow(
        """UPDATE invitations SET reminder_state = 'skipped', reason = 'already_reviewed', updated_at = $2
           WHERE id = $1 AND reminder_state = 'scheduled' RETURNING id""", invitation_id, now)
    if row is None:
        return False
    await jobs.drop_waiting(conn, REMIND_JOB, [f"reminder:{invitation_id}"])
    return True


async def cancel_for_address(conn: Executor, merchant_id: int | None, address_hash: str, reason: str,
                             now: datetime) -> int:
    """Cancel what is still scheduled for this address (at this merchant, or everywhere)."""
    result = await conn.execute(
        """UPDATE invitations i SET state = 'cancelled', reason = $4, updated_at = $3
           FROM orders o WHERE o.id = i.order_id AND o.buyer_hash = $2 AND i.state = 'scheduled'
             AND ($1::bigint IS NULL OR i.merchant_id = $1)""",
        merchant_id, address_hash, now, reason,
    )
    return int(result.split()[-1])


async def cancel_for_orders(conn: Connection, order_ids: Sequence[int], reason: str, now: datetime) -> int:
    """Cancel these orders' scheduled invitations and reminders; sent ones keep their state."""
    return int(await conn.fetchval(
        """WITH u AS (UPDATE invitations SET
               state = CASE WHEN state = 'scheduled' THEN 'cancelled' ELSE state END,
               reason = CASE WHEN state = 'scheduled' THEN $3 ELSE reason END,
               reminder_state = CASE WHEN reminder_state = 'scheduled' THEN 'cancelled' ELSE reminder_state END,
               updated_at = $2
             WHERE order_id = ANY($1::bigint[]) AND (state = 'scheduled' OR reminder_state = 'scheduled')
             RETURNING 1) SELECT count(*) FROM u""",
        list(order_ids), now, reason,
    ))


# --- sending outcomes ----------------------------------------------------------------------------

# The invitation sent and its reminder job scheduled in one statement: one round trip per message.
_MARK_SENT = """
WITH sent AS (
    UPDATE invitations SET state = 'sent', reason = NULL, sent_at = $2, message_id = $3, last_error = NULL,
        reminder_state = CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE 'scheduled' END,
        reminder_at = $4, updated_at = $2
    WHERE id = $1
    RETURNING id
)
""" + jobs.enqueue_select_sql(
    "SELECT $5, jsonb_build_object('invitation_id', id), $4, 'reminder:' || id FROM sent WHERE $4 IS NOT NULL")


async def mark_sent(conn: Connection, invitation_id: int, message_id: str, now: datetime,
                    remind_at: datetime | None) -> None:
    """Sent, with its reminder scheduled when `remind_at` is given, atomically."""
    await conn.execute(_MARK_SENT, invitation_id, now, message_id, remind_at, REMIND_JOB)


async def mark_reminded(conn: Connection, invitation_id: int, now: datetime) -> None:
    await conn.execute(
        """UPDATE invitations SET reminder_state = 'sent', reminded_at = $2, reason = NULL,
               last_error = NULL, updated_at = $2 WHERE id = $1""",
        invitation_id, now,
    )


async def mark_skipped(conn: Connection, invitation_id: int, kind: Kind, reason: str, now: datetime) -> None:
    if kind == "invitation":
        await conn.execute(
            """UPDATE invitations SET state = 'skipped', reason = $2, reminder_state = NULL, updated_at = $3
               WHERE id = $1""", invitation_id, reason, now,
        )
    else:
        # The invitation was sent and has no reason of its own: the reason is the reminder's.
        await conn.execute(
            "UPDATE invitations SET reminder_state = 'skipped', reason = $2, updated_at = $3 WHERE id = $1",
            invitation_id, reason, now,
        )


async def mark_failed(conn: Connection, invitation_id: int, kind: Kind, reason: str, error: str,
                      now: datetime) -> None:
    if kind == "invitation":
        await conn.execute(
            """UPDATE invitations SET state = 'failed', reason = $2, last_error = $3, reminder_state = NULL,
                   updated_at = $4 WHERE id = $1""", invitation_id, reason, error[:1000], now,
        )
    else:
        # As for a skipped reminder, the reason is the reminder's: the invitation itself was sent.
        await conn.execute(
            """UPDATE invitations SET reminder_state = 'failed', reason = $2, last_error = $3, updated_at = $4
               WHERE id = $1""", invitation_id, reason, error[:1000], now,
        )


async def record_error(conn: Connection, invitation_id: int, error: str, now: datetime) -> None:
    """A temporary failure, kept for operators while the job retries."""
    await conn.execute("UPDATE invitations SET last_error = $2, updated_at = $3 WHERE id = $1",
                       invitation_id, error[:1000], now)
