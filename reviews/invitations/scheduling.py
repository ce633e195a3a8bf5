"""Invitations: whether and when to invite a buyer, and their states.

An invitation moves `scheduled` → `sent` or `skipped` / `cancelled` / `failed`, each with
its reason. There is at most one per order. Sending itself is the worker's job
(`reviews.sending`); this module decides.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from reviews.merchants.store import Merchant
from reviews.platform import jobs

MAX_AFTER_FULFILMENT = timedelta(days=30)
SEND_JOB = "send_invitation"
REMIND_JOB = "send_reminder"

# The buyer's local hours when the event gives no time zone: their language's main one.
_LANGUAGE_ZONES = {
    "en": "Europe/London", "es": "Europe/Madrid", "it": "Europe/Rome", "pl": "Europe/Warsaw",
    "ro": "Europe/Bucharest", "de": "Europe/Berlin", "fr": "Europe/Paris",
}


def describe(row: asyncpg.Record | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "state": row["state"],
        "reason": row["reason"],
        "send_at": row["send_at"].isoformat() if row["send_at"] else None,
    }


def buyer_zone(merchant: Merchant, locale: str | None, explicit: str | None = None) -> ZoneInfo:
    for name in (explicit, _LANGUAGE_ZONES.get((locale or "").split("-")[0].split("_")[0].lower())):
        if name:
            try:
                return ZoneInfo(name)
            except (KeyError, ValueError):
                continue
    return ZoneInfo(merchant.setting("timezone") or "UTC")


def apply_send_window(when: datetime, window: str | None, zone: ZoneInfo) -> datetime:
    """Move `when` to the next moment inside the buyer's local sending window."""
    if not window or window == "off":
        return when
    start_s, end_s = window.split("-")
    start = time.fromisoformat(start_s)
    end = time(23, 59, 59) if end_s == "24:00" else time.fromisoformat(end_s)
    local = when.astimezone(zone)
    if start <= local.time() < end:
        return when
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone).astimezone(when.tzinfo)


async def suppression_reason(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: int,
                             address_hash: str | None) -> str | None:
    """Why this merchant may not mail the address ('unsubscribed', 'hard_bounce', ...), or None."""
    if not address_hash:
        return None
    return await conn.fetchval(
        """SELECT reason FROM suppressions WHERE address_hash = $2 AND (merchant_id = $1 OR merchant_id IS NULL)
           ORDER BY merchant_id NULLS FIRST LIMIT 1""",
        merchant_id, address_hash,
    )


def _consent_reason(merchant: Merchant, order: asyncpg.Record) -> str | None:
    if order["consent"] is False:
        return "no_consent"
    if order["consent"] is None and merchant.setting("require_consent"):
        return "consent_unknown"
    return None


async def _recently_invited(conn: asyncpg.Connection, merchant: Merchant, order: asyncpg.Record,
                            send_at: datetime) -> bool:
    """Whether another of this buyer's invitations from this merchant falls within the cap around send_at."""
    cap = int(merchant.setting("invite_cap_days") or 0)
    if not cap or not order["buyer_hash"]:
        return False
    # Two orders of one buyer ingested at once must not both pass the check: serialise per buyer.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"invite-cap:{merchant.id}:{order['buyer_hash']}")
    return bool(await conn.fetchval(
        """SELECT 1 FROM invitations i JOIN orders o ON o.id = i.order_id
           WHERE i.merchant_id = $1 AND o.buyer_hash = $2 AND o.id <> $3
             AND i.state IN ('scheduled', 'sent')
             AND COALESCE(i.sent_at, i.send_at) > $4::timestamptz - make_interval(days => $5::int)
             AND COALESCE(i.sent_at, i.send_at) < $4::timestamptz + make_interval(days => $5::int)""",
        merchant.id, order["buyer_hash"], order["id"], send_at, cap,
    ))


async def _skip_reason(conn: asyncpg.Connection, merchant: Merchant, order: asyncpg.Record, now: datetime,
                       fulfilled_at: datetime, send_at: datetime) -> str | None:
    """Why this order's buyer must not be invited, or None; the first reason found is the one recorded."""
    consent = _consent_reason(merchant, order)
    if consent:
        return consent
    if not order["buyer_email"]:
        return "no_email"
    if order["status"] in ("cancelled", "refunded"):
        return f"order_{order['status']}"
    suppressed = await suppression_reason(conn, merchant.id, order["buyer_hash"])
    if suppressed:
        return suppressed
    if now > fulfilled_at + MAX_AFTER_FULFILMENT:
        return "too_late"
    if await _recently_invited(conn, merchant, order, send_at):
        return "recently_invited"
    return None


def plan_send_at(merchant: Merchant, order: asyncpg.Record, event: Any, *, now: datetime,
                 fulfilled_at: datetime) -> datetime:
    """When to invite: the delay after the event, moved into the buyer's sending window, capped."""
    delay = timedelta(days=int(merchant.setting("invite_delay_days")))
    send_at = max(event.occurred_at + delay, now)
    send_at = apply_send_window(send_at, merchant.setting("send_window"),
                                buyer_zone(merchant, order["locale"], getattr(event, "timezone", None)))
    # Never later than 30 days after fulfilment, whatever the delay and window say.
    return min(send_at, max(fulfilled_at + MAX_AFTER_FULFILMENT, now))


async def on_order_event(conn: asyncpg.Connection, merchant: Merchant, order: asyncpg.Record, event: Any,
                         *, now: datetime) -> asyncpg.Record | None:
    """Schedule, skip or cancel the order's invitation after an event; returns the invitation."""
    invitation = await conn.fetchrow("SELECT * FROM invitations WHERE order_id = $1 FOR UPDATE", order["id"])
    if event.status in ("cancelled", "refunded"):
        if invitation is not None and invitation["state"] == "scheduled":
            invitation = await conn.fetchrow(
                """UPDATE invitations SET state = 'cancelled', reason = $2, reminder_state = NULL,
                       updated_at = $3 WHERE id = $1 RETURNING *""",
                invitation["id"], f"order_{event.status}", now,
            )
        elif invitation is not None and invitation["reminder_state"] == "scheduled":
            invitation = await conn.fetchrow(
                """UPDATE invitations SET reminder_state = 'cancelled', updated_at = $2 WHERE id = $1 RETURNING *""",
                invitation["id"], now,
            )
        return invitation

    if event.status not in ("fulfilled", "delivered") or invitation is not None:
        return invitation
    if merchant.setting("wait_for_delivery") and event.status != "delivered":
        return None

    fulfilled_at = order["fulfilled_at"] or order["delivered_at"] or event.occurred_at
    send_at = plan_send_at(merchant, order, event, now=now, fulfilled_at=fulfilled_at)
    reason = await _skip_reason(conn, merchant, order, now, fulfilled_at, send_at)
    if reason:
        return await conn.fetchrow(
            """INSERT INTO invitations (merchant_id, order_id, state, reason, created_at, updated_at)
               VALUES ($1, $2, 'skipped', $3, $4, $4) RETURNING *""",
            merchant.id, order["id"], reason, now,
        )
    invitation = await conn.fetchrow(
        """INSERT INTO invitations (merchant_id, order_id, state, send_at, created_at, updated_at)
           VALUES ($1, $2, 'scheduled', $3, $4, $4) RETURNING *""",
        merchant.id, order["id"], send_at, now,
    )
    await jobs.enqueue(conn, SEND_JOB, {"invitation_id": invitation["id"]}, send_at,
                       dedupe_key=f"invitation:{invitation['id']}")
    return invitation


async def funnel(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: int) -> dict[str, Any]:
    """Each merchant's invitation funnel: ordered, skipped (by reason), scheduled, sent, failed, reminded, reviewed.

    `sent` counts invitations the SMTP server accepted; `reminded` the reminders it accepted. A skipped
    reminder keeps its reason in the invitation's `reason` (the invitation itself was sent, so it has none).
    """
    row = await conn.fetchrow(
        """SELECT
             (SELECT count(*) FROM orders WHERE merchant_id = $1) AS ordered,
             count(*) FILTER (WHERE state = 'scheduled') AS scheduled,
             count(*) FILTER (WHERE state = 'sent') AS sent,
             count(*) FILTER (WHERE state = 'failed') AS failed,
             count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
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
           GROUP BY 1, 2 ORDER BY 1, 2""",
        merchant_id,
    )
    result = dict(row)
    result["skipped"] = {r["reason"]: r["n"] for r in reasons if r["what"] == "skipped"}
    result["reminder_skipped"] = {r["reason"]: r["n"] for r in reasons if r["what"] == "reminder_skipped"}
    return result
