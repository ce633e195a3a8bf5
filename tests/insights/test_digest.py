"""The weekly digest, driven through the worker and the clock against a real SMTP server
(aiosmtpd): an owner asks for it on the Insights page, gets one email each Monday with the week's
new reviews, their average and the rising topics' counted figures, never twice for one week (a
duplicate job, a run that stopped while sending), again after a temporary refusal, and none after
turning it off or losing the owner's role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from reviews.accounts import manage
from reviews.insights import digests
from reviews.merchants.model import Merchant
from reviews.platform import jobs
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.conftest import RecordingHandler, free_port, smtp_url
from tests.helpers import FormParser, add_review
from tests.insights.history import STRAP, build, topic_ids

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

PASSWORD = "correct horse battery staple"
SHOP = "/console/m/demo-shop"
MONDAY = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)  # the first Monday after the clock's start


class BusyHandler(RecordingHandler):
    """Says "try again later" to the next `busy` messages, then takes them."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = 0
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy:
            self.busy -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, BusyHandler]]:
    handler = BusyHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_services(services: Services, smtp_server: tuple[Controller, BusyHandler]) -> Services:
    services.settings = replace(services.settings, smtp_url=smtp_url(smtp_server[0]))
    return services


async def _sign_in(client: httpx.AsyncClient, svc: Services, address: str, role: str) -> int:
    user, link = await manage.invite(svc, address, role, "demo-shop", actor="test")
    path = link.removeprefix(svc.settings.base_url)
    parser = FormParser()
    parser.feed((await client.get(path)).text)
    r = await client.post(path, data={**dict(parser.fields), "password": PASSWORD})
    assert r.status_code == 303, r.text
    return int(user.id)


async def _sign_in_again(client: httpx.AsyncClient, address: str) -> None:
    """With the password, after the clock moved past the session's life."""
    parser = FormParser()
    parser.feed((await client.get("/console/sign-in")).text)
    r = await client.post("/console/sign-in", data={**dict(parser.fields), "email": address, "password": PASSWORD})
    assert r.status_code == 303, r.text


async def _digest(client: httpx.AsyncClient, on: bool) -> httpx.Response:
    page = (await client.get(SHOP + "/insights")).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    return await client.post(SHOP + "/insights/digest", data={"csrf": csrf.group(1), "digest": "on" if on else "off"})


async def _drain(svc: Services) -> None:
    async with make_worker(svc) as worker:
        await worker.drain()


def _digests(handler: RecordingHandler) -> list[Message]:
    """The digests the server took (the accounts' sign-in emails go there too)."""
    return [m for m in handler.messages if str(m["Message-ID"]).startswith("<digest-")]


def _text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


async def _week_of_reviews(svc: Services, merchant_id: int) -> None:
    """Three reviews published in the week the first digest tells of (5-11 January): 5, 4 and 4 stars."""
    for rating in (5, 4, 4):
        review_id = await add_review(svc, merchant_id, rating, product_id="mug-2", body="Lovely mug.")
        await svc.pool.execute("UPDATE reviews SET published_at = $2 WHERE id = $1", review_id,
                               datetime(2026, 1, 7, 9, 0, tzinfo=UTC))


async def test_an_owner_gets_one_digest_a_week_with_the_counted_figures(
        client: httpx.AsyncClient, smtp_services: Services, clock: FrozenClock, merchant: tuple[Merchant, str],
        smtp_server: tuple[Controller, BusyHandler]) -> None:
    svc, handler = smtp_services, smtp_server[1]
    user_id = await _sign_in(client, svc, "olga@example.com", "owner")
    page = (await client.get(SHOP + "/insights")).text
    assert "Email me a weekly digest" in page
    r = await _digest(client, on=True)
    assert r.status_code == 303 and r.headers["location"].endswith("/insights?digest=on#digest")
    page = (await client.get(r.headers["location"])).text
    assert "You will get the weekly digest, from next Monday." in page and "Stop the weekly digest" in page
    await _digest(client, on=True)  # twice: still one digest
    queued = await svc.pool.fetch("SELECT run_at FROM jobs WHERE kind = $1 AND state = 'queued'", digests.DIGEST_JOB)
    assert [q["run_at"] for q in queued] == [MONDAY]

    await _drain(svc)
    assert _digests(handler) == []  # not before Monday
    clock.advance(MONDAY - clock.now())
    history = await build(svc, merchant[0].id)
    strap = (await topic_ids(svc, history.set_id))[STRAP]
    await _week_of_reviews(svc, merchant[0].id)
    await _drain(svc)
    (sent,) = _digests(handler)
    assert sent["To"] == "olga@example.com"
    assert sent["Subject"] == "Demo Shop: your reviews in the week of January 5, 2026"
    # RFC 8058: a one-click stop link, also at the foot of the text.
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stop = str(sent["List-Unsubscribe"]).strip("<>")
    assert stop.startswith("http://testserver/console/digest/stop/")
    body = _text(sent)
    assert "New published reviews this week: 3, rated 4.3 out of 5 on average." in body
    assert "“the strap is fine 1” (Field watch)" in body
    assert "3.3 times as often: 6 of 9 mentions in 1-2★ reviews, against 2 of 10 before." in body
    assert f"http://testserver{SHOP}/insights/topics/{strap}" in body
    assert "battery" not in body  # its complaints fell
    assert f"http://testserver{SHOP}/insights\r\n" in body and body.rstrip().endswith(f"Or stop it at once: {stop}")

    # Never twice for one week: neither a second run nor a stray duplicate job sends it again.
    await jobs.enqueue(svc.pool, digests.DIGEST_JOB, {"user_id": user_id, "merchant_id": merchant[0].id}, clock.now())
    await _drain(svc)
    assert len(_digests(handler)) == 1
    # The next Monday's digest: the next week, with no new review.
    queued = await svc.pool.fetch("SELECT run_at FROM jobs WHERE kind = $1 AND state = 'queued'", digests.DIGEST_JOB)
    assert [q["run_at"] for q in queued] == [MONDAY + timedelta(days=7)]
    clock.advance(days=7)
    await _drain(svc)
    inbox = _digests(handler)
    assert len(inbox) == 2 and inbox[1]["Message-ID"] != sent["Message-ID"]
    assert "No new published review this week." in _text(inbox[1])
    assert inbox[1]["Subject"] == "Demo Shop: your reviews in the week of January 12, 2026"

    # Turned off: nothing more.
    await _sign_in_again(client, "olga@example.com")
    r = await _digest(client, on=False)
    assert "You will get no more weekly digests." in (await client.get(r.headers["location"])).text
    await _digest(client, on=True)
    # The stop link: opening it changes nothing; the mail client's one-click POST, with no cookie, stops it.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as mail_client:
        path = stop.removeprefix("http://testserver")
        page = await mail_client.get(path)
        assert page.status_code == 200 and "Stop the weekly digest of Demo Shop?" in page.text
        assert await svc.pool.fetchval("SELECT count(*) FROM digest_subscriptions") == 1
        r = await mail_client.post(path, content=b"List-Unsubscribe=One-Click",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 200 and "You will get no more weekly digests." in r.text
        assert await svc.pool.fetchval("SELECT count(*) FROM digest_subscriptions") == 0
        for bad in (path[:-3] + "xyz", "/console/digest/stop/nonsense"):
            r = await mail_client.post(bad, content=b"List-Unsubscribe=One-Click",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code == 400 and "This link cannot be used" in r.text
    clock.advance(days=7)
    await _drain(svc)
    assert len(_digests(handler)) == 2
    assert not await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'queued'",
                                       digests.DIGEST_JOB)


async def test_a_run_that_stopped_while_sending_is_not_sent_again_and_a_refusal_is_retried(
        client: httpx.AsyncClient, smtp_services: Services, clock: FrozenClock, merchant: tuple[Merchant, str],
        smtp_server: tuple[Controller, BusyHandler]) -> None:
    svc, handler = smtp_services, smtp_server[1]
    user_id = await _sign_in(client, svc, "olga@example.com", "owner")
    await svc.pool.execute("UPDATE users SET locale = 'de' WHERE id = $1", user_id)
    await _digest(client, on=True)
    clock.advance(MONDAY - clock.now())
    # What a worker that died after claiming the week leaves: the week claimed, not recorded as sent.
    await svc.pool.execute("UPDATE digest_subscriptions SET claimed_week = $1", digests.week_of(clock.now()))
    await _drain(svc)
    assert _digests(handler) == []
    # The next week's goes out, though the server first says to try later.
    handler.busy = 1
    clock.advance(days=7)
    await _drain(svc)
    assert _digests(handler) == [] and handler.refused == 1
    row = await svc.pool.fetchrow("SELECT claimed_week, sent_week FROM digest_subscriptions")
    assert row is not None and row["claimed_week"] is None  # given back for the retry
    clock.advance(hours=2)
    await _drain(svc)
    (sent,) = _digests(handler)
    assert sent["Subject"] == "Demo Shop: Ihre Bewertungen in der Woche vom 12. Januar 2026"
    assert "Diese Woche keine neue veröffentlichte Bewertung." in _text(sent)


async def test_only_an_owner_may_ask_and_a_former_owner_gets_nothing(
        client: httpx.AsyncClient, smtp_services: Services, clock: FrozenClock, merchant: tuple[Merchant, str],
        smtp_server: tuple[Controller, BusyHandler]) -> None:
    svc = smtp_services
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as viewer:
        await _sign_in(viewer, svc, "vera@example.com", "viewer")
        page = (await viewer.get(SHOP + "/insights")).text
        assert "weekly digest" not in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        r = await viewer.post(SHOP + "/insights/digest", data={"csrf": csrf.group(1), "digest": "on"})
        assert r.status_code == 403
    user_id = await _sign_in(client, svc, "olga@example.com", "owner")
    r = await client.post(SHOP + "/insights/digest", data={"digest": "on"})  # no CSRF token
    assert r.status_code == 400
    await _digest(client, on=True)
    await svc.pool.execute("UPDATE memberships SET role = 'agent' WHERE user_id = $1", user_id)
    clock.advance(MONDAY - clock.now())
    await _drain(svc)
    assert _digests(smtp_server[1]) == []
    assert not await svc.pool.fetchval("SELECT count(*) FROM digest_subscriptions")


def test_the_week_and_the_next_run() -> None:
    assert digests.week_of(datetime(2026, 1, 12, 7, 0, tzinfo=UTC)).isoformat() == "2026-01-05"
    assert digests.week_of(datetime(2026, 1, 18, 23, 59, tzinfo=UTC)).isoformat() == "2026-01-05"
    assert digests.next_run(datetime(2026, 1, 12, 7, 0, tzinfo=UTC)) == datetime(2026, 1, 19, 7, 0, tzinfo=UTC)
    assert digests.next_run(datetime(2026, 1, 11, 23, 0, tzinfo=UTC)) == MONDAY
