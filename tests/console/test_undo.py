"""Undo with a grace period: a moderator's decision in the console is applied at once, but the
author's email and the shop's webhooks wait ATTEST_UNDO_SECONDS on the decision's release job.
Undone within the grace, nothing leaves (real aiosmtpd, a loopback webhook receiver) and the review,
its flags and the shop's report are as they were; after the grace, both leave exactly once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller

from reviews.accounts import manage
from reviews.collection import reports
from reviews.hooks import delivery, endpoints
from reviews.hooks import events as hook_events
from reviews.merchants.model import Merchant
from reviews.moderation import decisions, notices, release
from reviews.moderation.decisions import RELEASE_JOB, decide
from reviews.platform import jobs
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from tests.conftest import RecordingHandler, smtp_url
from tests.console.test_console import _form, _sign_in
from tests.moderation.test_notices import reviewed
from tests.webhook_receiver import Receiver, receiver

__all__ = ["receiver"]  # the fixture, used by name
Fixture = tuple[Merchant, str]
AUTHOR = "undo.author@example.com"
GRACE = 30  # the default of ATTEST_UNDO_SECONDS


@pytest.fixture
async def svc(services: Services, smtp_server: tuple[Controller, RecordingHandler]) -> AsyncIterator[Services]:
    services.settings = replace(services.settings, smtp_url=smtp_url(smtp_server[0]), webhooks_allow_private=True)
    yield services


async def _drain(svc: Services) -> int:
    """The jobs that tell the outside world (the review's scan is not what is tested here)."""
    tasks = {**release.tasks(svc), **notices.tasks(svc), **delivery.tasks(svc)}
    async with jobs.Worker(pool=svc.pool, dsn=svc.dsn, tasks=tasks, clock=svc.clock) as worker:
        return await worker.drain()


async def _published_and_reported(client: httpx.AsyncClient, svc: Services, merchant: Fixture,
                                  receiver: Receiver) -> int:
    """An invited buyer's published review, reported by its shop, whose endpoint hears every event."""
    _path, rid = await reviewed(client, svc, merchant[1], email=AUTHOR)
    async with svc.pool.acquire() as conn:
        await decide(conn, rid, "publish", moderator="setup", now=svc.clock.now())  # no grace: at once
        await endpoints.create(conn, merchant[0].id, receiver.url(), list(hook_events.EVENT_TYPES),
                               now=svc.clock.now(), actor="test", allow_private=True)
        await reports.report(conn, merchant_id=merchant[0].id, review_id=rid, reason="not_a_buyer", note=None,
                             reporter="owner@example.com", user_id=None, now=svc.clock.now())
    return rid


async def _rejected_in_console(client: httpx.AsyncClient, svc: Services, merchant: Fixture,
                               receiver: Receiver) -> tuple[int, str]:
    """A moderator rejects the published, reported review from its file: its id and the page they land on."""
    rid = await _published_and_reported(client, svc, merchant, receiver)
    await _sign_in(client, svc, "mod@example.com")
    page = await client.get(f"/console/reviews/{rid}")
    assert page.status_code == 200
    action = f"/console/reviews/{rid}/decision"
    r = await client.post(action, data={**_form(page.text[page.text.index("data-reject-form") - 60:], action),
                                        "code": "bought"})
    assert r.status_code == 303, r.text
    landed = await client.get(r.headers["location"])
    assert landed.status_code == 200
    return rid, landed.text


def _undo_action(page: str) -> str:
    return page[page.index('action="/console/decisions/'):].split('"')[1]


def _notices(handler: RecordingHandler) -> list[str]:
    """The addresses the author's notices went to (one entry per message)."""
    return [AUTHOR for m in handler.messages if f"<{AUTHOR}>" in str(m["To"])]


@pytest.mark.slow
async def test_an_undo_within_the_grace_sends_nothing_and_puts_everything_back(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver, clock: FrozenClock,
        smtp_server: tuple[Controller, RecordingHandler]) -> None:
    rid, landed = await _rejected_in_console(client, svc, merchant, receiver)
    assert f"#{rid} rejected as Copied or bought review; the author will be emailed." in landed
    assert "Undo (u)" in landed and f"Nothing leaves Attest for {GRACE} more seconds." in landed
    # Applied at once: the review is down; what tells the outside waits.
    assert await svc.pool.fetchval("SELECT state FROM reviews WHERE id = $1", rid) == "rejected"
    await _drain(svc)
    assert receiver.requests == [] and _notices(smtp_server[1]) == []
    clock.advance(timedelta(seconds=GRACE - 5))
    action = _undo_action(landed)
    undo = await client.post(action, data=_form(landed, action))
    assert undo.status_code == 303
    back = await client.get(undo.headers["location"])
    assert f"Undone: #{rid} is back as it was, and nobody was told." in back.text
    assert "Undo (u)" not in back.text
    row = await svc.pool.fetchrow("SELECT state, reject_reason, published_at FROM reviews WHERE id = $1", rid)
    assert row["state"] == "published" and row["reject_reason"] is None and row["published_at"] is not None
    assert await svc.pool.fetchval("SELECT state FROM review_reports WHERE review_id = $1", rid) == "open"
    assert await svc.pool.fetchval("SELECT count(*) FROM moderation_decisions WHERE review_id = $1", rid) == 1
    assert await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'queued'",
                                   RELEASE_JOB) == 0
    undone = await svc.pool.fetchrow("SELECT actor, after FROM audit_log WHERE action = 'moderation.undo'")
    assert undone["actor"] == "mod@example.com" and undone["after"]["state"] == "published"
    # The decision is gone: undoing it again finds nothing.
    again = await client.post(action, data=_form(landed, action))
    assert again.status_code == 404
    # Long after the grace, still nothing left.
    clock.advance(timedelta(hours=2))
    await _drain(svc)
    assert receiver.requests == [] and _notices(smtp_server[1]) == []


@pytest.mark.slow
async def test_after_the_grace_the_email_and_the_webhook_leave_exactly_once(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver, clock: FrozenClock,
        smtp_server: tuple[Controller, RecordingHandler]) -> None:
    rid, landed = await _rejected_in_console(client, svc, merchant, receiver)
    action = _undo_action(landed)
    clock.advance(timedelta(seconds=GRACE - 1))
    await _drain(svc)
    assert receiver.requests == [] and _notices(smtp_server[1]) == []
    clock.advance(timedelta(seconds=2))
    await _drain(svc)
    assert _notices(smtp_server[1]) == [AUTHOR]
    (sent,) = receiver.requests
    body = json.loads(sent.body)
    assert body["type"] == hook_events.REVIEW_UPDATED and body["data"]["state"] == "rejected"
    # Exactly once: later rounds of the worker send nothing more.
    clock.advance(timedelta(hours=1))
    await _drain(svc)
    assert len(receiver.requests) == 1 and _notices(smtp_server[1]) == [AUTHOR]
    # Too late to undo: refused in words, and the review stays rejected.
    late = await client.post(action, data=_form(landed, action))
    assert late.status_code == 409 and "Too late to undo" in late.text
    assert await svc.pool.fetchval("SELECT state FROM reviews WHERE id = $1", rid) == "rejected"


async def test_a_decision_without_grace_is_sent_at_once_and_cannot_be_undone(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver) -> None:
    rid = await _published_and_reported(client, svc, merchant, receiver)
    user, _link = await manage.invite(svc, "mod@example.com", "moderator", None, actor="test", all_merchants=True)
    async with svc.pool.acquire() as conn:
        result = await decide(conn, rid, "reject", moderator=user.email, now=svc.clock.now(), code="bought",
                              user_id=user.id)
        assert await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE review_id = $1", rid) == 1
        assert await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", decisions.NOTICE_JOB) == 1
        with pytest.raises(decisions.Conflict):
            await decisions.undo(conn, int(result["decision_id"]), user_id=user.id, now=svc.clock.now())
    assert await svc.pool.fetchval("SELECT state FROM reviews WHERE id = $1", rid) == "rejected"
