"""When (and whether) a buyer is invited: delay, sending window, the 30-day limits, consent,
delivery, and unsubscribing (RFC 8058 one-click)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from reviews.invitations.links import unsubscribe_link
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import ingest, make_merchant


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def send_at(answer: dict[str, Any]) -> datetime:
    return at(answer["invitation"]["send_at"])


# --- when -----------------------------------------------------------------------------------


async def test_an_order_late_at_night_is_invited_at_nine_the_next_morning(services: Services) -> None:
    merchant = await make_merchant(services, send_window="09:00-20:00")
    services.clock.set(at("2026-01-05T23:00:00Z"))
    # An English buyer: London time, which is UTC in January.
    assert send_at(await ingest(services, merchant, "A-1", locale="en")) == at("2026-01-06T09:00:00Z")
    # A Polish buyer at 23:00 UTC is at midnight in Warsaw: 09:00 Warsaw is 08:00 UTC.
    assert send_at(await ingest(services, merchant, "A-2", locale="pl", email="b@example.com")) == \
        at("2026-01-06T08:00:00Z")
    # A time zone given by the shop wins over the language's.
    answer = await ingest(services, merchant, "A-3", email="c@example.com", timezone="America/New_York")
    assert send_at(answer) == at("2026-01-05T23:00:00Z")  # 18:00 in New York: inside the window


async def test_within_the_window_the_delay_alone_decides(services: Services) -> None:
    merchant = await make_merchant(services, send_window="09:00-20:00", invite_delay_days=7)
    services.clock.set(at("2026-01-05T12:00:00Z"))
    assert send_at(await ingest(services, merchant)) == at("2026-01-12T12:00:00Z")


async def test_never_scheduled_more_than_30_days_after_fulfilment(services: Services) -> None:
    merchant = await make_merchant(services, send_window="09:00-20:00", invite_delay_days=30)
    services.clock.set(at("2026-01-05T21:00:00Z"))
    answer = await ingest(services, merchant)
    # 30 days later is 21:00, outside the window; the next 09:00 would be 30.5 days: capped instead.
    assert send_at(answer) == at("2026-02-04T21:00:00Z")
    assert send_at(answer) - at("2026-01-05T21:00:00Z") <= timedelta(days=30)


async def test_an_order_reported_after_30_days_is_skipped(services: Services) -> None:
    merchant = await make_merchant(services)
    fulfilled = services.clock.now() - timedelta(days=31)
    answer = await ingest(services, merchant, occurred_at=fulfilled.isoformat())
    assert answer["invitation"] == {"state": "skipped", "reason": "too_late", "send_at": None}


async def test_one_invitation_per_address_per_merchant_in_30_days(services: Services) -> None:
    merchant = await make_merchant(services)
    other = await make_merchant(services, "other")
    assert (await ingest(services, merchant, "A-1"))["invitation"]["state"] == "scheduled"
    services.clock.advance(days=10)
    second = await ingest(services, merchant, "A-2", email="Anna.Kowalska@Example.com ")  # same address
    assert second["invitation"]["state"] == "skipped"
    assert second["invitation"]["reason"] == "recently_invited"
    # Another shop may invite the same buyer.
    assert (await ingest(services, other, "A-2"))["invitation"]["state"] == "scheduled"
    services.clock.advance(days=21)  # 31 days after the first invitation
    assert (await ingest(services, merchant, "A-3"))["invitation"]["state"] == "scheduled"


async def test_invite_cap_zero_turns_the_limit_off(services: Services) -> None:
    merchant = await make_merchant(services, invite_cap_days=0)
    assert (await ingest(services, merchant, "A-1"))["invitation"]["state"] == "scheduled"
    assert (await ingest(services, merchant, "A-2"))["invitation"]["state"] == "scheduled"


async def test_one_invitation_per_order_whatever_the_events(services: Services) -> None:
    merchant = await make_merchant(services)
    await ingest(services, merchant, "A-1")
    services.clock.advance(days=1)
    await ingest(services, merchant, "A-1", status="delivered")
    assert await services.pool.fetchval("SELECT count(*) FROM invitations") == 1
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'send_invitation'") == 1


async def test_wait_for_delivery(services: Services) -> None:
    merchant = await make_merchant(services, wait_for_delivery=True, invite_delay_days=2)
    assert (await ingest(services, merchant, "A-1"))["invitation"] is None
    services.clock.advance(days=3)
    delivered = await ingest(services, merchant, "A-1", status="delivered")
    assert delivered["invitation"]["state"] == "scheduled"
    # The delay counts from delivery.
    assert send_at(delivered) == services.clock.now() + timedelta(days=2)


async def test_consent(services: Services) -> None:
    strict = await make_merchant(services)
    lenient = await make_merchant(services, "lenient", require_consent=False)
    assert (await ingest(services, strict, "A-1", consent=False))["invitation"]["reason"] == "no_consent"
    assert (await ingest(services, strict, "A-2", consent=None))["invitation"]["reason"] == "consent_unknown"
    assert (await ingest(services, lenient, "A-1", consent=None))["invitation"]["state"] == "scheduled"
    assert (await ingest(services, lenient, "A-2", consent=False, email="x@example.com"))[
        "invitation"]["reason"] == "no_consent"
    # Recorded all the same.
    assert await services.pool.fetchval("SELECT count(*) FROM orders") == 4


# --- unsubscribing --------------------------------------------------------------------------


async def scheduled_link(svc: Services, merchant: Merchant, order_id: str = "A-1") -> str:
    await ingest(svc, merchant, order_id)
    buyer_hash = await svc.pool.fetchval("SELECT buyer_hash FROM orders WHERE external_id = $1", order_id)
    return unsubscribe_link(svc, merchant.id, buyer_hash).removeprefix(svc.settings.base_url)


async def test_one_click_unsubscribe_suppresses_and_cancels(client: httpx.AsyncClient, services: Services) -> None:
    merchant = await make_merchant(services, "one-click")
    path = await scheduled_link(services, merchant)
    # What a mailbox provider sends (RFC 8058): a POST with this exact form body and no cookies.
    r = await client.post(path, content=b"List-Unsubscribe=One-Click",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    rows = await services.pool.fetch("SELECT merchant_id, reason FROM suppressions")
    assert [(x["merchant_id"], x["reason"]) for x in rows] == [(merchant.id, "unsubscribed")]
    inv = await services.pool.fetchrow("SELECT state, reason FROM invitations")
    assert (inv["state"], inv["reason"]) == ("cancelled", "unsubscribed")
    # Never invited again by this merchant.
    services.clock.advance(days=60)
    later = await ingest(services, merchant, "A-2")
    assert later["invitation"]["reason"] == "unsubscribed"


async def test_get_only_shows_the_confirmation(client: httpx.AsyncClient, services: Services) -> None:
    merchant = await make_merchant(services, "scanner")
    path = await scheduled_link(services, merchant)
    r = await client.get(path)  # a mail scanner prefetching the link
    assert r.status_code == 200
    assert "<form" in r.text
    assert await services.pool.fetchval("SELECT count(*) FROM suppressions") == 0
    assert await services.pool.fetchval("SELECT state FROM invitations") == "scheduled"


async def test_unsubscribe_from_every_merchant(client: httpx.AsyncClient, services: Services) -> None:
    first = await make_merchant(services, "first")
    second = await make_merchant(services, "second")
    await ingest(services, second, "B-1")
    path = await scheduled_link(services, first)
    r = await client.post(path, data={"scope": "all"})
    assert r.status_code == 200
    assert await services.pool.fetchval("SELECT merchant_id FROM suppressions") is None
    states = await services.pool.fetch("SELECT state, reason FROM invitations ORDER BY id")
    assert [(x["state"], x["reason"]) for x in states] == [("cancelled", "unsubscribed")] * 2
    third = await make_merchant(services, "third")
    assert (await ingest(services, third, "C-1"))["invitation"]["reason"] == "unsubscribed"


async def test_a_forged_unsubscribe_link_does_nothing(client: httpx.AsyncClient, services: Services) -> None:
    merchant = await make_merchant(services, "forged")
    path = await scheduled_link(services, merchant)
    r = await client.post(path[:-3] + "xyz", content=b"List-Unsubscribe=One-Click",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    assert await services.pool.fetchval("SELECT count(*) FROM suppressions") == 0
