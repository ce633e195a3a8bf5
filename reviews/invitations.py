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

from reviews import jobs
from reviews.merchants import Merchant

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


async def _is_suppressed(conn: asyncpg.Connection, merchant_id: int, address_hash: str | None) -> bool:
    if not address_hash:
        return False
    return bool(await conn.fetchval(
        "SELECT 1 FROM suppressions WHERE address_hash = $2 AND (merchant_id = $1 OR merchant_id IS NULL)",
        merchant_id, address_hash,
    ))


async def _skip_reason(conn: asyncpg.Connection, merchant: Merchant, order: asyncpg.Record, now: datetime,
                       fulfilled_at: datetime) -> str | None:
    if order["consent"] is False:
        return "no_consent"
    if order["consent"] is None and merchant.setting("require_consent"):
        return "consent_unknown"
    if not order["buyer_email"]:
        return "no_email"
    if order["status"] in ("cancelled", "refunded"):
        return f"order_{order['status']}"
    if await _is_suppressed(conn, merchant.id, order["buyer_hash"]):
        return "unsubscribed"
    if now > fulfilled_at + MAX_AFTER_FULFILMENT:
        return "too_late"
    cap = int(merchant.setting("invite_cap_days") or 0)
    if cap and await conn.fetchval(
        """SELECT 1 FROM invitations i JOIN orders o ON o.id = i.order_id
           WHERE i.merchant_id = $1 AND o.buyer_hash = $2 AND o.id <> $3
             AND i.state IN ('scheduled', 'sent')
             AND COALESCE(i.sent_at, i.send_at) > $4::timestamptz - make_interval(days => $5::int)""",
        merchant.id, order["buyer_hash"], order["id"], fulfilled_at, cap,
    ):
        return "recently_invited"
    return None


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
    reason = await _skip_reason(conn, merchant, order, now, fulfilled_at)
    if reason:
        return await conn.fetchrow(
            """INSERT INTO invitations (merchant_id, order_id, state, reason, created_at, updated_at)
               VALUES ($1, $2, 'skipped', $3, $4, $4) RETURNING *""",
            merchant.id, order["id"], reason, now,
        )
    delay = timedelta(days=int(merchant.setting("invite_delay_days")))
    send_at = max(event.occurred_at + delay, now)
    send_at = apply_send_window(send_at, merchant.setting("send_window"),
                                buyer_zone(merchant, order["locale"], getattr(event, "timezone", None)))
    # Never later than 30 days after fulfilment, whatever the delay and window say.
    send_at = min(send_at, max(fulfilled_at + MAX_AFTER_FULFILMENT, now))
    invitation = await conn.fetchrow(
        """INSERT INTO invitations (merchant_id, order_id, state, send_at, created_at, updated_at)
           VALUES ($1, $2, 'scheduled', $3, $4, $4) RETURNING *""",
        merchant.id, order["id"], send_at, now,
    )
    await jobs.enqueue(conn, SEND_JOB, {"invitation_id": invitation["id"]}, send_at,
                       dedupe_key=f"invitation:{invitation['id']}")
    return invitation


async def funnel(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: int) -> dict[str, Any]:
    """Each merchant's invitation funnel: ordered, skipped (by reason), scheduled, sent, ..."""
    row = await conn.fetchrow(
        """SELECT
             (SELECT count(*) FROM orders WHERE merchant_id = $1) AS ordered,
             count(*) FILTER (WHERE state = 'scheduled') AS scheduled,
             count(*) FILTER (WHERE state = 'sent') AS sent,
             count(*) FILTER (WHERE state = 'failed') AS failed,
             count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
             count(*) FILTER (WHERE reminder_state = 'sent') AS reminded,
             (SELECT count(DISTINCT invitation_id) FROM reviews
               WHERE merchant_id = $1 AND invitation_id IS NOT NULL AND state <> 'withdrawn') AS reviewed
           FROM invitations WHERE merchant_id = $1""",
        merchant_id,
    )
    skipped = await conn.fetch(
        """SELECT reason, count(*) AS n FROM invitations WHERE merchant_id = $1 AND state = 'skipped'
           GROUP BY reason ORDER BY reason""",
        merchant_id,
    )
    result = dict(row)
    result["skipped"] = {r["reason"]: r["n"] for r in skipped}
    return result
