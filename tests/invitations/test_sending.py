"""The worker's sending against real aiosmtpd servers that refuse, drop, reject and hang: nothing lost,
nothing duplicated (but the one message in flight when a worker is killed), everything visible."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reviews import cli
from reviews.invitations import store as invitations
from reviews.invitations.links import message_id
from reviews.merchants.keys import add_api_key
from reviews.platform import jobs, tokens
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.conftest import smtp_url
from tests.helpers import FormParser, auth, ingest, make_merchant
from tests.smtp_servers import BlockingHandler, CountingHandler, FlakyHandler, running

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def flaky() -> Iterator[tuple[FlakyHandler, str]]:
    handler = FlakyHandler(tempfail_every=3, drop_every=5)
    with running(handler) as controller:
        yield handler, smtp_url(controller)


@pytest.fixture
def counting() -> Iterator[tuple[CountingHandler, str]]:
    handler = CountingHandler()
    with running(handler) as controller:
        yield handler, smtp_url(controller)


def use_smtp(svc: Services, url: str, **settings: Any) -> Services:
    # https, as in production: RFC 8058 one-click needs an https List-Unsubscribe.
    svc.settings = replace(svc.settings, smtp_url=url, base_url="https://reviews.attest.test",  # type: ignore[misc]
                           **settings)
    return svc


@pytest.fixture
def cli_env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`attest` run in-process against the test database; its log handler (on a captured stream) removed after."""
    import logging

    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
async def worker(services: Services) -> AsyncIterator[jobs.Worker]:
    async with make_worker(services) as w:
        yield w


async def drain_with_retries(svc: Services, worker: jobs.Worker, kinds: list[str] | None = None,
                             rounds: int = 60, horizon: timedelta = timedelta(days=1)) -> None:
    """Run due jobs; move the clock to the next retry of these kinds; repeat until none is queued.

    Only jobs within the horizon count as retries (backoff is capped at hours): an invitation
    scheduled for next week or a reminder stays where it is.
    """
    kinds = kinds or [invitations.SEND_JOB]
    for _ in range(rounds):
        await worker.drain()
        next_at = await svc.pool.fetchval(
            """SELECT min(run_at) FROM jobs WHERE state = 'queued' AND kind = ANY($1)
                 AND run_at < $2::timestamptz + $3::interval""", kinds, svc.clock.now(), horizon)
        if next_at is None:
            return
        svc.clock.set(max(next_at, svc.clock.now()))
    raise AssertionError("jobs still queued after every round")


async def invitation_rows(svc: Services) -> list[Any]:
    return await svc.pool.fetch(
        "SELECT i.*, o.buyer_email FROM invitations i JOIN orders o ON o.id = i.order_id ORDER BY i.id")


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


# --- a misbehaving server -------------------------------------------------------------------


@pytest.mark.slow
async def test_refused_dropped_and_rejected_mail_is_never_lost_nor_doubled(
        services: Services, flaky: tuple[FlakyHandler, str], worker: jobs.Worker) -> None:
    handler, url = flaky
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc)
    good = [f"buyer{n}@example.com" for n in range(14)]
    bad = ["nobody1@example.com", "nobody2@example.com"]
    for n, address in enumerate(good[:7] + bad[:1] + good[7:] + bad[1:]):
        await ingest(svc, merchant, f"A-{n}", email=address)

    # The first pass is one batch over one connection, opened again only after each drop.
    await worker.drain()
    assert len(handler.peers) <= 1 + sum(handler.dropped.values()) < handler.data_attempts
    await drain_with_retries(svc, worker)

    # The server misbehaved in every way, more than once.
    assert sum(handler.tempfailed.values()) >= 3 and sum(handler.dropped.values()) >= 2
    assert sorted(handler.rejected) == bad
    rows = await invitation_rows(svc)
    sent = [r for r in rows if r["state"] == "sent"]
    failed = [r for r in rows if r["state"] == "failed"]
    assert sorted(r["buyer_email"] for r in sent) == sorted(good)
    # Each accepted exactly once, under the Message-ID the invitation recorded.
    assert handler.accepted == {r["message_id"]: 1 for r in sent}
    assert all(r["message_id"] == message_id(svc, "invitation", r["id"]) for r in sent)
    # The rejected ones failed with the server's reply, and their addresses are suppressed.
    assert sorted(r["buyer_email"] for r in failed) == bad
    for r in failed:
        assert r["reason"] == "rejected"
        assert r["last_error"].startswith("550 5.1.1") and "User unknown" in r["last_error"]
    suppressed = await svc.pool.fetch("SELECT merchant_id, address_hash, reason FROM suppressions")
    assert sorted((s["merchant_id"], s["address_hash"], s["reason"]) for s in suppressed) == sorted(
        (merchant.id, svc.hasher.address(a), "hard_bounce") for a in bad)
    # Every send job is settled; retried ones took more than one attempt.
    states = await svc.pool.fetch("SELECT state, attempts FROM jobs WHERE kind = $1", invitations.SEND_JOB)
    assert {s["state"] for s in states} == {"done"}
    assert max(s["attempts"] for s in states) >= 2


async def test_a_hard_bounced_address_is_never_mailed_again(
        services: Services, flaky: tuple[FlakyHandler, str], worker: jobs.Worker) -> None:
    handler, url = flaky
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc)
    await ingest(svc, merchant, "A-1", email="nobody@example.com")
    await drain_with_retries(svc, worker)
    svc.clock.advance(days=60)
    later = await ingest(svc, merchant, "A-2", email="nobody@example.com")
    assert later["invitation"] == {"state": "skipped", "reason": "hard_bounce", "send_at": None}
    assert handler.rejected == ["nobody@example.com"]


@pytest.mark.slow
async def test_after_its_last_attempt_a_job_is_dead_visible_and_retryable(
        services: Services, flaky: tuple[FlakyHandler, str], worker: jobs.Worker,
        cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    handler, url = flaky
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc, reminder_days=0)
    await ingest(svc, merchant, "A-1", email="busy@example.com")

    await drain_with_retries(svc, worker)
    job = await svc.pool.fetchrow("SELECT * FROM jobs WHERE kind = $1", invitations.SEND_JOB)
    assert job["state"] == "dead" and job["attempts"] == job["max_attempts"]
    assert "451" in job["last_error"]
    inv = (await invitation_rows(svc))[0]
    assert (inv["state"], inv["reason"]) == ("failed", "retries_exhausted")
    assert "451 4.2.1" in inv["last_error"]
    assert (await invitations.funnel(svc.pool, merchant.id))["failed"] == 1

    # The operator sees it...
    assert await asyncio.to_thread(cli.main, ["jobs", "--dead"]) == 0
    dead = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["id"], d["kind"]) for d in dead] == [(job["id"], invitations.SEND_JOB)]
    # ...fixes the cause and retries it: the invitation goes out once.
    handler.busy = False
    assert await asyncio.to_thread(cli.main, ["jobs", "--retry", str(job["id"])]) == 0
    assert json.loads(capsys.readouterr().out) == {"retried": 1}
    # The CLI queued it for the real now; this test's clock is frozen in the past (and a retry months after
    # fulfilment would rightly be skipped as too late), so bring the job back to the test's now.
    await svc.pool.execute("UPDATE jobs SET run_at = $2 WHERE id = $1", job["id"], svc.clock.now())
    await worker.drain()
    inv = (await invitation_rows(svc))[0]
    assert (inv["state"], inv["reason"], inv["last_error"]) == ("sent", None, None)
    assert handler.accepted == {inv["message_id"]: 1}
    assert await svc.pool.fetchval("SELECT state FROM jobs WHERE id = $1", job["id"]) == "done"


# --- headers and DKIM -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(pem)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.mark.slow
async def test_worker_sent_mail_is_dkim_signed_with_the_expected_headers(
        services: Services, counting: tuple[CountingHandler, str], dkim_key: tuple[Path, bytes]) -> None:
    handler, url = counting
    key_file, record = dkim_key
    svc = use_smtp(services, url, dkim_selector="s2026", dkim_domain="attest.test", dkim_key_file=key_file)
    merchant = await make_merchant(svc, reply_to="hello@shop.example", sender_name="Ceramica Rossi")
    await ingest(svc, merchant, "A-1", name="Żaneta Wójcik")
    async with make_worker(svc) as worker:
        await worker.drain()

    assert len(handler.raw) == 1
    raw = handler.raw[0]

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        return record if name.rstrip(b".") == b"s2026._domainkey.attest.test" else None

    assert raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(raw, dnsfunc=dnsfunc)
    msg = parsed(raw)
    inv = (await invitation_rows(svc))[0]
    assert msg["Message-ID"] == inv["message_id"] == message_id(svc, "invitation", inv["id"])
    assert msg["Reply-To"].addresses[0].addr_spec == "hello@shop.example"
    assert msg["From"].addresses[0].display_name == "Ceramica Rossi"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = msg["List-Unsubscribe"].strip()
    assert unsubscribe.startswith("<https://reviews.attest.test/u/") and unsubscribe.endswith(">")
    # The same link, visible in both parts.
    for part in ("plain", "html"):
        body = msg.get_body((part,))
        assert body is not None and unsubscribe[1:-1] in body.get_content()


# --- reminders ------------------------------------------------------------------------------


async def add_review(svc: Services, invitation_id: int) -> None:
    await svc.pool.execute(
        """INSERT INTO reviews (merchant_id, order_id, invitation_id, method, rating, state, submitted_at)
           SELECT merchant_id, order_id, id, 'invited', 5, 'pending', $2 FROM invitations WHERE id = $1""",
        invitation_id, svc.clock.now(),
    )


@pytest.mark.slow
async def test_one_reminder_only_when_nothing_was_reviewed(
        services: Services, counting: tuple[CountingHandler, str], worker: jobs.Worker) -> None:
    handler, url = counting
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc, reminder_days=5, reply_to="hello@shop.example")
    await ingest(svc, merchant, "A-1", email="reviewer@example.com")
    await ingest(svc, merchant, "A-2", email="silent@example.com")
    await worker.drain()
    reviewed, silent = await invitation_rows(svc)
    assert reviewed["reminder_state"] == silent["reminder_state"] == "scheduled"
    assert silent["reminder_at"] == silent["sent_at"] + timedelta(days=5)
    await add_review(svc, reviewed["id"])

    svc.clock.advance(days=4, hours=23)
    await worker.drain()
    assert len(handler.messages) == 2  # not yet
    svc.clock.advance(hours=1)
    await worker.drain()

    reviewed, silent = await invitation_rows(svc)
    assert (reviewed["state"], reviewed["reminder_state"], reviewed["reason"]) == ("sent", "skipped",
                                                                                  "already_reviewed")
    assert (silent["reminder_state"], silent["reminded_at"]) == ("sent", svc.clock.now())
    assert len(handler.raw) == 3
    first, reminder = (parsed(r) for r in handler.raw if b"silent@example.com" in r)
    assert reminder["Subject"].startswith("Reminder:") and not first["Subject"].startswith("Reminder:")
    assert reminder["Reply-To"] == first["Reply-To"]
    assert reminder["Message-ID"] == message_id(svc, "reminder", silent["id"]) != first["Message-ID"]
    # Exactly one reminder: nothing else is queued.
    svc.clock.advance(days=30)
    await worker.drain()
    assert len(handler.raw) == 3


@pytest.mark.slow
async def test_a_review_calls_its_reminder_off_at_once_and_none_is_ever_sent(
        services: Services, counting: tuple[CountingHandler, str], worker: jobs.Worker,
        client: httpx.AsyncClient) -> None:
    handler, url = counting
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc, reminder_days=5)
    await ingest(svc, merchant, "A-1", email="reviewer@example.com")
    await worker.drain()
    (inv,) = await invitation_rows(svc)
    assert inv["reminder_state"] == "scheduled"
    assert await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", invitations.REMIND_JOB) == 1
    # The buyer reviews through the link, as a buyer does.
    link = "/r/" + svc.signer.sign(tokens.REVIEW, {"i": inv["id"]})
    form = FormParser()
    form.feed((await client.get(link)).text)
    assert form.action is not None
    r = await client.post(form.action, data={**form.fields, "rating_0": "5",
                                             "body_0": "The kettle boils fast and the lid closes firmly."})
    assert r.status_code == 200, r.text
    (inv,) = await invitation_rows(svc)
    assert (inv["reminder_state"], inv["reason"]) == ("skipped", "already_reviewed")  # not "scheduled"
    assert await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", invitations.REMIND_JOB) == 0
    funnel = await invitations.funnel(svc.pool, merchant.id)
    assert funnel["reminder_scheduled"] == 0 and funnel["reminder_skipped"] == {"already_reviewed": 1}
    svc.clock.advance(days=30)
    await worker.drain()
    assert len(handler.messages) == 1  # the invitation; no reminder, ever


async def test_reminder_days_zero_turns_reminders_off(
        services: Services, counting: tuple[CountingHandler, str], worker: jobs.Worker) -> None:
    _, url = counting
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc, reminder_days=0)
    await ingest(svc, merchant)
    await worker.drain()
    inv = (await invitation_rows(svc))[0]
    assert (inv["state"], inv["reminder_state"], inv["reminder_at"]) == ("sent", None, None)
    assert await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", invitations.REMIND_JOB) == 0


async def test_an_unsubscribe_before_the_reminder_stops_it(
        services: Services, counting: tuple[CountingHandler, str], worker: jobs.Worker,
        client: httpx.AsyncClient) -> None:
    handler, url = counting
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc)
    await ingest(svc, merchant)
    await worker.drain()
    link = parsed(handler.raw[0])["List-Unsubscribe"].strip("<> ")
    r = await client.post(link.removeprefix(svc.settings.base_url), content=b"List-Unsubscribe=One-Click",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    svc.clock.advance(days=5)
    await worker.drain()
    inv = (await invitation_rows(svc))[0]
    assert (inv["reminder_state"], inv["reason"]) == ("skipped", "unsubscribed")
    assert len(handler.raw) == 1


# --- the funnel -----------------------------------------------------------------------------


@pytest.mark.slow
async def test_funnel_after_a_mixed_scenario(
        services: Services, flaky: tuple[FlakyHandler, str], worker: jobs.Worker, client: httpx.AsyncClient,
        cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    _, url = flaky
    svc = use_smtp(services, url)
    merchant = await make_merchant(svc, "mixed", reminder_days=5)
    later = (svc.clock.now() + timedelta(days=20)).isoformat()
    for n in range(1, 4):
        await ingest(svc, merchant, f"A-{n}", email=f"buyer{n}@example.com")   # sent
    await ingest(svc, merchant, "A-4", email="b4@example.com", consent=False)  # skipped: no consent
    await ingest(svc, merchant, "A-5", email="b5@example.com", consent=None)   # skipped: consent unknown
    await ingest(svc, merchant, "A-6", email="nobody@example.com")              # failed: 550
    await ingest(svc, merchant, "A-7", email="b7@example.com", occurred_at=later)  # still scheduled
    await ingest(svc, merchant, "A-8", email="b8@example.com", occurred_at=later)
    await ingest(svc, merchant, "A-8", status="refunded", products=[])           # cancelled
    await ingest(svc, merchant, "A-9", email="b9@example.com", status="placed")  # ordered only
    await drain_with_retries(svc, worker)
    first = await svc.pool.fetchval("SELECT i.id FROM invitations i JOIN orders o ON o.id = i.order_id "
                                    "WHERE o.external_id = 'A-1'")
    await add_review(svc, first)
    svc.clock.advance(days=5)
    await drain_with_retries(svc, worker, [invitations.REMIND_JOB])

    expected = {"ordered": 9, "awaiting": 1, "opened": 0, "skipped": {"no_consent": 1, "consent_unknown": 1},
                "scheduled": 1, "sent": 3,
                "failed": 1, "cancelled": 1, "too_old_to_invite": 0, "reminder_scheduled": 0, "reminded": 2,
                "reminder_skipped": {"already_reviewed": 1}, "reviewed": 1}
    assert await invitations.funnel(svc.pool, merchant.id) == expected

    async with svc.pool.acquire() as conn:
        key = await add_api_key(conn, merchant.id)
    r = await client.get("/api/v1/stats", headers=auth(key))
    assert r.status_code == 200
    assert r.json() == {"merchant": "mixed", "invitations": expected}

    assert await asyncio.to_thread(cli.main, ["stats", "mixed"]) == 0
    assert json.loads(capsys.readouterr().out) == {"merchant": "mixed", "invitations": expected}


# --- a worker killed mid-batch --------------------------------------------------------------


def _worker_env(svc: Services, url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": svc.dsn, "ATTEST_SECRET_KEY": svc.settings.secret_key,
            "ATTEST_SMTP_URL": url, "ATTEST_MAIL_FROM": svc.settings.mail_from,
            "ATTEST_BASE_URL": svc.settings.base_url, "ATTEST_DATA_DIR": str(tmp_path / "worker-data"),
            "ATTEST_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}


async def _wait_until_requeued(svc: Services, worker: jobs.Worker, deadline_s: float = 30) -> None:
    """The killed worker's connection closes with it; its backend may take a moment to go."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE state = 'running'"):
        assert loop.time() < deadline, "the killed worker's jobs were never released"
        await worker.requeue_orphans()
        await asyncio.sleep(0.05)


@pytest.mark.slow  # a real worker process, killed
async def test_a_killed_worker_duplicates_at_most_the_message_in_flight(services: Services, tmp_path: Path) -> None:
    handler = BlockingHandler(block_at=5)
    with running(handler) as controller:
        url = smtp_url(controller)
        svc = use_smtp(services, url)
        shop = await make_merchant(svc, "crash", reminder_days=0)
        n = 12
        # The subprocess runs on the real clock: orders fulfilled a moment ago are due for both.
        svc.clock.set(datetime.now(UTC) - timedelta(minutes=5))
        for i in range(n):
            await ingest(svc, shop, f"C-{i}", email=f"crash{i}@example.com")

        log_file = tmp_path / "worker.log"
        with log_file.open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "reviews.cli", "worker"], cwd=ROOT,
                                    env=_worker_env(svc, url, tmp_path), stdout=log, stderr=log)
        try:
            reached = await asyncio.to_thread(handler.blocked.wait, 120)
            assert reached, f"the worker never reached the 5th message:\n{log_file.read_text()[-3000:]}"
        finally:
            proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(proc.wait, 30)
            handler.release.set()
        assert proc.returncode == -signal.SIGKILL
        assert await svc.pool.fetchval("SELECT count(*) FROM invitations WHERE state = 'sent'") == 4

        async with make_worker(svc) as worker:
            await _wait_until_requeued(svc, worker)
            await worker.drain()

    rows = await invitation_rows(svc)
    assert [r["state"] for r in rows] == ["sent"] * n
    assert set(handler.accepted) == {r["message_id"] for r in rows}  # none lost
    duplicates = handler.duplicates()
    report = Path(ROOT / "test-artifacts")
    report.mkdir(exist_ok=True)
    (report / "crash_duplicates.json").write_text(json.dumps({"messages": n, "duplicates": duplicates}, indent=2))
    print(f"crash test: {len(duplicates)} duplicated message(s) of {n}: {duplicates}")
    assert sum(duplicates.values()) - len(duplicates) <= 1
