"""What an order event does to the order's invitation: schedule it, skip it (with the reason the
policy gives) or cancel it. Sending is the worker's (`reviews.invitations.sending`)."""

from __future__ import annotations

from datetime import datetime

from reviews.invitations import policy, store, suppressions
from reviews.invitations.policy import EventFacts, OrderFacts
from reviews.invitations.store import Invitation
from reviews.merchants.model import Merchant
from reviews.platform.db import Connection


async def on_order_event(conn: Connection, merchant: Merchant, order: OrderFacts, event: EventFacts,
                         *, now: datetime) -> Invitation | None:
    """Schedule, skip or cancel the order's invitation after an event; returns the invitation."""
    invitation = await store.for_order_locked(conn, order.id)
    if event.status in ("cancelled", "refunded"):
        if invitation is not None and invitation.state == "scheduled":
            invitation = await store.cancel(conn, invitation.id, f"order_{event.status}", now)
        elif invitation is not None and invitation.reminder_state == "scheduled":
            invitation = await store.cancel_reminder(conn, invitation.id, now)
        return invitation

    if event.status not in ("fulfilled", "delivered") or invitation is not None:
        return invitation
    if merchant.setting("wait_for_delivery") and event.status != "delivered":
        return None

    fulfilled_at = order.fulfilled_at or order.delivered_at or event.occurred_at
    send_at = policy.plan_send_at(merchant, order, event, now=now, fulfilled_at=fulfilled_at)
    reason = policy.skip_reason(
        "schedule", merchant, order, now=now, fulfilled_at=fulfilled_at,
        suppressed=await suppressions.reason_for(conn, merchant.id, order.buyer_hash),
        recently_invited=await _recently_invited(conn, merchant, order, send_at),
    )
    if reason:
        return await store.add_skipped(conn, merchant.id, order.id, reason, now)
    return await store.add_scheduled(conn, merchant.id, order.id, send_at, now)


async def _recently_invited(conn: Connection, merchant: Merchant, order: OrderFacts,
                            send_at: datetime) -> bool:
    cap = int(merchant.setting("invite_cap_days") or 0)
    if not cap or not order.buyer_hash:
        return False
    return await store.recently_invited(conn, merchant.id, order.buyer_hash, order.id, send_at, cap)
