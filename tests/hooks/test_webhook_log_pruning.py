"""The outgoing webhooks' delivery log is pruned: settled deliveries (delivered, failed, erased) whose
last attempt is older than ATTEST_WEBHOOK_LOG_DAYS go, by the `webhooks.prune` job that settling a
delivery schedules and that then waits for the next row to come due. Pending ones stay. The clock
is moved, never slept on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reviews.hooks import deliveries, endpoints
from reviews.hooks import delivery as hook_delivery
from reviews.hooks import events as hook_events
from reviews.merchants.model import Merchant
from reviews.platform import jobs
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from reviews.worker import all_tasks
from tests.webhook_receiver import Receiver, receiver

__all__ = ["receiver"]  # the fixture, used by name

Fixture = tuple[Merchant, str]
DAY = timedelta(days=1)


def _worker(svc: Services) -> jobs.Worker:
    """The webhooks' jobs only (no scans, no model)."""
    return jobs.Worker(pool=svc.pool, dsn=svc.dsn, clock=svc.clock,
                       tasks=hook_delivery.tasks(svc))


async def _delivery(svc: Services, merchant: Merchant, endpoint: endpoints.Endpoint, outcome: str | None) -> int:
    """One event to the endpoint, settled as `outcome` by an attempt now (None: still pending)."""
    async with svc.pool.acquire() as conn, conn.transaction():
        await deliveries.emit(conn, merchant.id, hook_events.REVIEW_PUBLISHED, {"id": 1}, svc.clock.now())
        delivery_id = int(await conn.fetchval("SELECT max(id) FROM webhook_deliveries"))
        await conn.execute("DELETE FROM jobs WHERE kind = $1", deliveries.DELIVER_JOB)  # sending is not tested here
        if outcome is not None:
            attempt = await deliveries.for_attempt(conn, delivery_id, svc.clock.now())
            assert attempt is not None
            status = 200 if outcome == "delivered" else 500
            await deliveries.record_attempt(conn, attempt, now=svc.clock.now(), status=status, ms=3, error=None,
                                       outcome=outcome)
    return delivery_id


async def _left(svc: Services) -> set[int]:
    return {r["id"] for r in await svc.pool.fetch("SELECT id FROM webhook_deliveries")}


async def _prune_job(svc: Services) -> datetime | None:
    """When the waiting prune runs (None: none waits)."""
    at: datetime | None = await svc.pool.fetchval(
        "SELECT run_at FROM jobs WHERE kind = $1 AND state = 'queued'", deliveries.PRUNE_JOB)
    return at


@pytest.fixture
async def endpoint(services: Services, merchant: Fixture) -> endpoints.Endpoint:
    async with services.pool.acquire() as conn:
        made, _secret = await endpoints.create(conn, merchant[0].id, "http://127.0.0.1:9/hooks",
                                               [hook_events.REVIEW_PUBLISHED], now=services.clock.now(), actor="test",
                                               allow_private=True)
    return made


async def test_settled_deliveries_older_than_the_period_go_and_pending_ones_stay(
        services: Services, merchant: Fixture, endpoint: endpoints.Endpoint, clock: FrozenClock) -> None:
    shop = merchant[0]
    start = clock.now()
    assert services.settings.webhook_log_days == 30
    delivered = await _delivery(services, shop, endpoint, "delivered")
    failed = await _delivery(services, shop, endpoint, "failed")
    pending = await _delivery(services, shop, endpoint, None)
    assert await _prune_job(services) == start + DAY  # settling a delivery made sure one waits

    clock.advance(days=10)
    later = await _delivery(services, shop, endpoint, "delivered")
    assert await _prune_job(services) == start + DAY  # still the one: a single prune job for the log
    async with _worker(services) as worker:
        assert await worker.drain() == 1
        assert await _left(services) == {delivered, failed, pending, later}  # nothing is 30 days old yet
        # It waits for the oldest settled row to come due.
        assert await _prune_job(services) == start + timedelta(days=30)

        clock.set(start + timedelta(days=30, seconds=1))
        assert await worker.drain() == 1
        assert await _left(services) == {pending, later}
        assert await _prune_job(services) == start + timedelta(days=40)  # when `later` comes due

        clock.set(start + timedelta(days=40, seconds=1))
        assert await worker.drain() == 1
        assert await _left(services) == {pending}  # a pending delivery is never pruned
        assert await _prune_job(services) is None  # nothing settled is left: nothing waits
        clock.advance(days=365)
        assert await worker.drain() == 0
    assert await _left(services) == {pending}


async def test_the_period_is_a_setting_and_a_backlog_goes_in_steps(
        services: Services, merchant: Fixture, endpoint: endpoints.Endpoint, clock: FrozenClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    services.settings = replace(services.settings, webhook_log_days=7)
    old = [await _delivery(services, merchant[0], endpoint, "delivered") for _ in range(5)]
    clock.advance(days=5)
    young = await _delivery(services, merchant[0], endpoint, "failed")
    monkeypatch.setattr(deliveries, "PRUNE_BATCH", 2)
    clock.advance(days=2, seconds=1)  # the first five are 7 days old, the last one 2
    async with _worker(services) as worker:
        assert await worker.drain() == 3  # 2 + 2 + 1: each full batch queues the next at once
    assert await _left(services) == {young}
    assert not set(old) & await _left(services)
    assert await _prune_job(services) == clock.now() - timedelta(days=2, seconds=1) + timedelta(days=7)


async def test_a_delivery_sent_by_the_worker_is_pruned_by_the_worker(
        services: Services, merchant: Fixture, clock: FrozenClock, receiver: Receiver) -> None:
    services.settings = replace(services.settings, webhooks_allow_private=True)
    clock.set(datetime.now(UTC).replace(microsecond=0))
    assert deliveries.PRUNE_JOB in all_tasks(services)  # registered with the worker like every job kind
    async with services.pool.acquire() as conn:
        made, _secret = await endpoints.create(conn, merchant[0].id, receiver.url(), [hook_events.REVIEW_PUBLISHED],
                                           now=clock.now(), actor="test", allow_private=True)
        await deliveries.emit(conn, merchant[0].id, hook_events.REVIEW_PUBLISHED, {"id": 1}, clock.now())
    async with _worker(services) as worker:
        assert await worker.drain() == 1
        assert len(receiver.requests) == 1
        assert [d.state for d in await deliveries.deliveries(services.pool, merchant[0].id, made.id)] == ["delivered"]
        clock.advance(days=30, seconds=1)
        assert await worker.drain() == 1
    assert await deliveries.deliveries(services.pool, merchant[0].id, made.id) == []


def test_the_log_period_is_read_from_the_environment_with_a_floor() -> None:
    assert Settings.from_env({"ATTEST_SECRET_KEY": "x"}).webhook_log_days == 30
    assert Settings.from_env({"ATTEST_SECRET_KEY": "x", "ATTEST_WEBHOOK_LOG_DAYS": "90"}).webhook_log_days == 90
    with pytest.raises(ValueError, match="ATTEST_WEBHOOK_LOG_DAYS must be at least 7"):
        Settings.from_env({"ATTEST_SECRET_KEY": "x", "ATTEST_WEBHOOK_LOG_DAYS": "3"})
