"""Scale-out on one database: two `attest web` and two `attest worker` processes, orders and
reviews through both web processes, and one worker killed with SIGKILL in the middle of a batch.

What README's "Deploying at scale" promises, checked from outside: a killed worker's jobs are taken
over, "a crash repeats at most the one message in flight" and loses none, and every review is
scanned once. The SMTP server stores the killed worker's last message and holds back its reply
until the worker is dead, so the test always meets that worst case: exactly one repeat.
"""

from __future__ import annotations

import asyncio
import functools
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import httpx
import pytest

from reviews import runtime
from reviews.collection.store import SCAN_JOB
from reviews.invitations.store import SEND_JOB
from reviews.merchants import store as merchants
from tests.conftest import free_port, smtp_url
from tests.helpers import FormParser, auth, order_event
from tests.processes import Process, Processes, clean_env, eventually
from tests.smtp_servers import BlockingHandler, running

# Real processes: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

ORDERS = 240
REVIEWS = 100  # buyers who follow their link: every other order but the last ones
BLOCK_AT = 40  # the SMTP server holds the reply to this message: the worker that sent it is killed
SECRET = "scale-out-secret-key"
LOCALES = ("en", "de", "pl", "fr", "es", "it", "ro")
PRODUCTS = [("KETTLE-1", "Stovetop kettle"), ("MUG-2", "Enamel mug"), ("PAN-3", "Cast iron pan"),
            ("KNIFE-4", "Chef's knife"), ("BOARD-5", "Oak cutting board")]
LIKES = ("heats evenly", "feels solid in the hand", "cleans in a minute", "looks better than the photos",
         "survived a camping week", "keeps its edge", "arrived well packed", "is lighter than expected")
BUTS = ("the handle gets warm", "the box was dented", "delivery took nine days", "the colour is darker",
        "it is smaller than I hoped", "the instructions were only in German", "nothing so far", "the price")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    group = Processes(tmp_path)
    try:
        yield group
    finally:
        group.stop_all()


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def _count(process: Process, message: str) -> int:
    return sum(1 for e in process.log_entries() if e["message"] == message)


def _review_text(n: int) -> tuple[str, str]:
    like, but = LIKES[n % len(LIKES)], BUTS[(n // len(LIKES)) % len(BUTS)]
    return (f"Order {n}: it {like}",
            f"Bought this for our kitchen in week {n % 52 + 1}. It {like}; the only complaint is that {but}. "
            f"Would order again, buyer number {n}.")


async def test_two_webs_two_workers_one_database(dsn: str, processes: Processes, tmp_path: Path) -> None:
    handler = BlockingHandler(block_at=BLOCK_AT)
    with running(handler) as smtp:
        await _scenario(dsn, processes, tmp_path, handler, smtp_url(smtp))


async def _scenario(dsn: str, processes: Processes, tmp_path: Path, smtp: BlockingHandler, smtp_address: str) -> None:
    began = time.monotonic()
    took: dict[str, float] = {}

    def lap(phase: str) -> None:
        took[phase] = round(time.monotonic() - began - sum(took.values()), 1)

    ports = [free_port(), free_port()]
    webs_base = [f"http://127.0.0.1:{port}" for port in ports]
    env = clean_env(
        DATABASE_URL=dsn, ATTEST_DATA_DIR=str(tmp_path / "data"), ATTEST_SECRET_KEY=SECRET,
        ATTEST_BASE_URL=webs_base[0],  # the load balancer's address, as far as the emails know
        ATTEST_SMTP_URL=smtp_address, ATTEST_MAIL_FROM="reviews@attest.test",
        ATTEST_TRUSTED_PROXIES="127.0.0.1",  # the test stands in for the load balancer: one IP per buyer
        ATTEST_LOG_LEVEL="INFO", ATTEST_WORKER_STALL_SECONDS="120",
    )
    webs = [processes.start(f"web-{n}", ["web", "--port", str(port)], env) for n, port in enumerate(ports)]
    pool = await runtime.create_pool(dsn, min_size=1, max_size=4)
    try:
        async with httpx.AsyncClient(timeout=30) as http:

            async def healthy(web: Process, base: str) -> bool:
                assert web.alive(), web.tail()
                try:
                    return (await http.get(base + "/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            for web, base in zip(webs, webs_base, strict=True):
                await eventually(functools.partial(healthy, web, base), 60, f"{web.name} to answer /healthz")

            lap("webs up")
            async with pool.acquire() as conn:
                _, key = await merchants.create(conn, name="Kitchen Corner", slug="kitchen-corner",
                                                settings={"invite_delay_days": 0})

            # The shop's orders, alternately through both web processes, a few at a time.
            now = datetime.now(UTC).isoformat()
            gate = asyncio.Semaphore(12)

            async def order(n: int) -> None:
                product_id, product_name = PRODUCTS[n % len(PRODUCTS)]
                body = order_event(f"K-{n:04d}", occurred_at=now, email=f"buyer{n:04d}@example.com",
                                   name=f"Buyer{n} Tester", locale=LOCALES[n % len(LOCALES)],
                                   products=[{"id": product_id, "name": product_name}])
                async with gate:
                    r = await http.post(webs_base[n % 2] + "/api/v1/orders", json=body, headers=auth(key))
                assert r.status_code == 200, r.text
                assert r.json()["invitation"]["state"] == "scheduled", r.text

            await asyncio.gather(*(order(n) for n in range(ORDERS)))
            assert await pool.fetchval("SELECT count(*) FROM invitations WHERE state = 'scheduled'") == ORDERS

            lap("orders")
            # A backlog, so that each worker's first batch is a full one; both start on it at once.
            workers = [processes.start(f"worker-{n}", ["worker"], env) for n in range(2)]

            def blocked() -> bool:
                assert all(w.alive() for w in workers), processes.tails()
                return smtp.blocked.is_set()

            await eventually(blocked, 60, f"the SMTP server to receive message {BLOCK_AT}")
            # The message whose reply is held: the server has it, its sender does not know.
            in_flight = str(smtp.messages[BLOCK_AT - 1]["Message-ID"]).strip()
            in_flight_invitation = int(re.fullmatch(r"<invitation-(\d+)\.\w+@attest\.test>", in_flight)[1])  # type: ignore[index]
            holder = await pool.fetchval(
                "SELECT locked_by FROM jobs WHERE kind = $1 AND state = 'running' "
                "AND (payload->>'invitation_id')::bigint = $2", SEND_JOB, in_flight_invitation)
            victims = [w for w in workers if holder and holder.split(":")[1] == str(w.pid)]
            assert len(victims) == 1, (holder, [w.pid for w in workers])
            victim = victims[0]
            batch = await pool.fetch(
                """SELECT j.id, i.state FROM jobs j JOIN invitations i ON i.id = (j.payload->>'invitation_id')::bigint
                   WHERE j.kind = $1 AND j.state = 'running' AND j.locked_by = $2""", SEND_JOB, holder)
            victim.kill()
            assert victim.popen.returncode == -signal.SIGKILL
            held = {r["id"] for r in batch}
            unsent = sum(r["state"] == "scheduled" for r in batch)
            # Mid-batch: besides the message in flight, the killed worker still held unsent ones.
            assert unsent >= 2, batch
            survivor = next(w for w in workers if w is not victim)
            # A supervisor starts a replacement; only then does the dead connection's reply come.
            replacement = processes.start("worker-2", ["worker"], env)
            smtp.release.set()
            live = [survivor, replacement]

            async def all_sent() -> bool:
                assert all(w.alive() for w in live), processes.tails()
                return await pool.fetchval(
                    "SELECT count(*) FROM jobs WHERE kind = $1 AND state <> 'done'", SEND_JOB) == 0

            await eventually(all_sent, 60, "every invitation to be sent")

            lap("invitations")
            # Every invitation went out, and exactly once, but for the one in flight when its worker died.
            states = {r["state"]: r["n"] for r in await pool.fetch(
                "SELECT state, count(*) AS n FROM invitations GROUP BY state")}
            assert states == {"sent": ORDERS}
            recorded = {r["message_id"] for r in await pool.fetch("SELECT message_id FROM invitations")}
            assert set(smtp.accepted) == recorded and len(recorded) == ORDERS
            assert smtp.duplicates() == {in_flight: 2}
            recipients = Counter(m["To"] for m in smtp.messages)
            assert len(recipients) == ORDERS and sum(recipients.values()) == ORDERS + 1
            # One job per invitation; the killed worker's batch was taken over (claimed a second
            # time), and no other job ran twice.
            send_jobs = await pool.fetch("SELECT id, attempts FROM jobs WHERE kind = $1", SEND_JOB)
            assert len(send_jobs) == ORDERS
            assert {r["id"] for r in send_jobs if r["attempts"] > 1} == held
            assert max(r["attempts"] for r in send_jobs) == 2
            # Each invitation was recorded as sent by exactly one worker.
            marked = Counter(e["invitation"] for w in (*workers, replacement) for e in w.log_entries()
                             if e["message"] == "mail sent")
            assert len(marked) == ORDERS and set(marked.values()) == {1}

            # Buyers follow their link, as a load balancer spreads them: the form from one web
            # process, the post to the other (the CSRF token one signed, the other checks).
            firsts: dict[str, Message] = {}
            for m in smtp.messages:
                firsts.setdefault(str(m["To"]), m)
            reviewers = [n for n in range(0, ORDERS, 2)][:REVIEWS]
            gate = asyncio.Semaphore(8)

            async def review(i: int, n: int) -> None:
                email = firsts[f"Buyer{n} Tester <buyer{n:04d}@example.com>"]
                link = re.search(re.escape(webs_base[0]) + r"(/r/[A-Za-z0-9_.\-]+)", _text(email))
                assert link, _text(email)
                headers = {"X-Forwarded-For": f"198.51.100.{i + 1}"}
                title, body = _review_text(n)
                async with gate:
                    page = await http.get(webs_base[i % 2] + link[1], headers=headers)
                    assert page.status_code == 200, page.text
                    form = FormParser()
                    form.feed(page.text)
                    assert form.action and "csrf" in form.fields
                    fields = {**form.fields, "rating_0": str(n % 5 + 1), "title_0": title, "body_0": body}
                    r = await http.post(webs_base[(i + 1) % 2] + form.action, data=fields, headers=headers)
                assert r.status_code == 200, r.text

            await asyncio.gather(*(review(i, n) for i, n in enumerate(reviewers)))
            assert await pool.fetchval("SELECT count(*) FROM reviews") == REVIEWS

            lap("reviews")

            async def all_scanned() -> bool:
                assert all(w.alive() for w in live), processes.tails()
                return await pool.fetchval(
                    "SELECT count(*) FROM jobs WHERE kind = $1 AND state <> 'done'", SCAN_JOB) == 0

            await eventually(all_scanned, 75, "every review to be scanned")

            lap("scans")
            # Every review was scanned exactly once: one job, one attempt, one scan logged, and
            # counted once in the statistics the next scans compare against.
            assert await pool.fetchval("SELECT count(*) FROM reviews WHERE state NOT IN ('published', 'held')") == 0
            scan_jobs = await pool.fetch("SELECT (payload->>'review_id')::bigint AS review, attempts FROM jobs "
                                         "WHERE kind = $1", SCAN_JOB)
            review_ids = {r["id"] for r in await pool.fetch("SELECT id FROM reviews")}
            assert sorted(r["review"] for r in scan_jobs) == sorted(review_ids)
            assert {r["attempts"] for r in scan_jobs} == {1}, "\n".join(
                str(e.get("exception") or e) for w in live for e in w.log_entries() if e.get("level") == "error")
            scanned = Counter(e["review"] for w in live for e in w.log_entries() if e["message"] == "review scanned")
            assert set(scanned) == review_ids and set(scanned.values()) == {1}
            assert await pool.fetchval("SELECT count(*) FROM term_counted") == REVIEWS
            assert await pool.fetchval("SELECT sum(n) FROM merchant_daily_ratings") == REVIEWS
            # One vector per review of each active model (one per channel the detector reads).
            active = {r["name"] for r in await pool.fetch("SELECT name FROM embedding_models WHERE state = 'active'")}
            for table in ("review_embeddings", "review_profiles"):
                per_model = {r["model"]: r["n"] for r in await pool.fetch(
                    f"SELECT model, count(*) AS n FROM {table} GROUP BY model")}
                assert per_model == dict.fromkeys(active, REVIEWS), (table, per_model)
            published = await pool.fetchval("SELECT count(*) FROM reviews WHERE state = 'published'")
            summary = (await http.get(webs_base[1] + "/widgets/v1/kitchen-corner/summary.json")).json()
            assert summary["count"] == published

        # Nothing went wrong on the way: no errors logged, and every live process stops cleanly.
        errors = [(p.name, e) for p in processes.started for e in p.log_entries()
                  if e.get("level") in ("error", "critical")]
        assert not errors, errors
        for p in (*webs, *live):
            assert p.stop() in (0, -signal.SIGTERM), p.tail()
        sent_by = {w.name: _count(w, "mail sent") for w in (*workers, replacement)}
        scanned_by = {w.name: _count(w, "review scanned") for w in live}
        print(f"\n{ORDERS} invitations in {ORDERS + 1} messages (the repeat: {in_flight}); killed {victim.name} "
              f"holding {len(held)} jobs, {unsent} of them unsent; marked sent by {sent_by}; "
              f"{REVIEWS} reviews scanned by {scanned_by}, {published} published; seconds: {took}")
    finally:
        await pool.close()
