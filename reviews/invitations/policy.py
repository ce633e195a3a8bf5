"""When and whether to invite: the one set of rules, used when an invitation is scheduled and
again when its mail (or reminder) is about to go out. Pure functions of what is known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from asyncpg import Record

from reviews.merchants.model import Merchant

MAX_AFTER_FULFILMENT = timedelta(days=30)
# A retried invitation may go out a little after the 30-day limit; a dead job retried weeks later may not.
LATE_GRACE = timedelta(days=2)

Stage = Literal["schedule", "invitation", "reminder"]

# The buyer's local hours when the event gives no time zone: their language's main one.
_LANGUAGE_ZONES = {
    "en": "Europe/London", "es": "Europe/Madrid", "it": "Europe/Rome", "pl": "Europe/Warsaw",
    "ro": "Europe/Bucharest", "de": "Europe/Berlin", "fr": "Europe/Paris",
}


@dataclass(frozen=True)
class OrderFacts:
    """What the rules need to know of an order (intake owns the order itself)."""

    id: int
    status: str
    consent: bool | None
    has_email: bool
    buyer_hash: str | None
    locale: str | None
    fulfilled_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, order: Record) -> OrderFacts:
        """From a row of `orders` (intake's, or one the sending pipeline loaded)."""
        return cls(id=order["id"], status=order["status"], consent=order["consent"],
                   has_email=bool(order["buyer_email"]), buyer_hash=order["buyer_hash"], locale=order["locale"],
                   fulfilled_at=order["fulfilled_at"], delivered_at=order["delivered_at"])


@dataclass(frozen=True)
class EventFacts:
    """What the rules need to know of the order event that arrived."""

    status: str
    occurred_at: datetime
    timezone: str | None = None


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


def plan_send_at(merchant: Merchant, order: OrderFacts, event: EventFacts, *, now: datetime,
                 fulfilled_at: datetime) -> datetime:
    """When to invite: the delay after the event, moved into the buyer's sending window, capped."""
    delay = timedelta(days=int(merchant.setting("invite_delay_days")))
    send_at = max(event.occurred_at + delay, now)
    send_at = apply_send_window(send_at, merchant.setting("send_window"),
                                buyer_zone(merchant, order.locale, event.timezone))
    # Never later than 30 days after fulfilment, whatever the delay and window say.
    return min(send_at, max(fulfilled_at + MAX_AFTER_FULFILMENT, now))


def skip_reason(stage: Stage, merchant: Merchant, order: OrderFacts, *, now: datetime, suppressed: str | None,
                fulfilled_at: datetime | None, recently_invited: bool = False,
                reviewed: bool = False) -> str | None:
    """Why this buyer must not be invited (or reminded) now, or None; the first reason found is
    the one recorded. Consent and the invitation cap are settled when the invitation is scheduled;
    the rest is checked again when the mail is about to go out, because it may have changed.
    An order already past the limit when it arrives (an import of past orders) is "too_late" before
    anything else: no answer about consent or address would make it invitable."""
    grace = LATE_GRACE if stage == "invitation" else timedelta(0)
    late = stage != "reminder" and fulfilled_at is not None and now > fulfilled_at + MAX_AFTER_FULFILMENT + grace
    if stage == "schedule" and late:
        return "too_late"
    if stage == "schedule":
        if order.consent is False:
            return "no_consent"
        if order.consent is None and merchant.setting("require_consent"):
            return "consent_unknown"
    if not order.has_email:
        return "no_email"
    if order.status in ("cancelled", "refunded"):
        return f"order_{order.status}"
    if suppressed:
        return suppressed
    if stage == "reminder" and reviewed:
        return "already_reviewed"
    if late:
        return "too_late"
    if stage == "schedule" and recently_invited:
        return "recently_invited"
    return None
