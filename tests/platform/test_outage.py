"""A database that goes away and comes back: every surface answers 503 with Retry-After meanwhile
(JSON for the API and widgets, the buyer's page in their language), then recovers with no restart."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from reviews import app as app_module
from reviews import runtime
from reviews.app import create_app
from reviews.merchants import store as merchants
from reviews.platform import db, jobs
from reviews.platform.clock import Clock, FrozenClock
from reviews.platform.settings import Settings
from tests.helpers import auth, order_event


class Switch:
    """A TCP door to the test database's Unix socket that the test can close and open again."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.server: asyncio.Server | None = None
        self.port = 0
        self._pipes: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()  # established connections die too, as when the server goes down
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.socket_path)
        pipes = [asyncio.ensure_future(self._copy(reader, upstream_writer)),
                 asyncio.ensure_future(self._copy(upstream_reader, writer))]
        self._pipes.update(pipes)
        try:
            # Either side closing closes both, as a real server's socket would.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            for w in (writer, upstream_writer):
                w.close()
            self._pipes.difference_update(pipes)

    @staticmethod
    async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


@pytest.fixture
async def switched(dsn: str, settings: Settings) -> AsyncIterator[tuple[Switch, httpx.AsyncClient, str]]:
    parts = urlsplit(dsn)
    socket_dir = parse_qs(parts.query)["host"][0]
    switch = Switch(f"{socket_dir}/.s.PGSQL.{parts.port or 5432}")
    await switch.open()
    database = parts.path.lstrip("/")
    pool = await runtime.create_pool(f"postgresql://postgres@127.0.0.1:{switch.port}/{database}", min_size=0)
    svc = runtime.services(settings, FrozenClock(), pool, dsn)
    async with svc.pool.acquire() as conn:
        _, key = await merchants.create(conn, name="Shop", slug="shop", settings={"invite_delay_days": 0})
    app = create_app(svc)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield switch, client, key
    finally:
        with contextlib.suppress(Exception):
            await switch.close()
        await pool.close()
        await svc.close()


async def test_every_surface_answers_503_while_the_database_is_away(
        switched: tuple[Switch, httpx.AsyncClient, str]) -> None:
    switch, client, key = switched
    assert (await client.get("/widgets/v1/shop/summary.json")).status_code == 200
    await switch.close()

    widget = await client.get("/widgets/v1/shop/summary.json")
    api = await client.post("/api/v1/orders", json=order_event(), headers=auth(key))
    page = await client.get("/verification/shop", headers={"accept-language": "de"})
    for response in (widget, api, page):
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
    assert widget.json()["error"]["code"] == api.json()["error"]["code"] == "unavailable"
    assert "Gleich wieder da" in page.text and "Traceback" not in page.text
    assert (await client.get("/healthz")).status_code == 503

    await switch.open()  # the same port: the database is back
    assert (await client.get("/widgets/v1/shop/summary.json")).status_code == 200
    assert (await client.post("/api/v1/orders", json=order_event(), headers=auth(key))).status_code == 200
    assert (await client.get("/healthz")).status_code == 200



@pytest.mark.slow
async def test_the_worker_waits_out_an_outage_and_resumes(switched: tuple[Switch, httpx.AsyncClient, str],
                                                          dsn: str) -> None:
    switch, _client, _key = switched
    ran: list[int] = []

    async def record(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            ran.append(job.payload["n"])
            await batch.done(job)

    pool = await runtime.create_pool(f"postgresql://postgres@127.0.0.1:{switch.port}/{urlsplit(dsn).path[1:]}",
                                     min_size=0)
    worker = jobs.Worker(pool=pool, dsn=f"postgresql://postgres@127.0.0.1:{switch.port}/{urlsplit(dsn).path[1:]}",
                         tasks={"record": jobs.Task(record)}, clock=Clock(), poll_interval=0.2)
    stop = asyncio.Event()
    loop = asyncio.create_task(worker.run_forever(stop))
    try:
        await switch.close()
        await until(lambda: worker.seconds_since_loop < 1 and not loop.done(), "the worker looping in the outage")
        await asyncio.sleep(0)  # let it meet the closed door at least once
        assert not loop.done()
        await switch.open()
        direct = await db.connect(dsn)
        try:
            await jobs.enqueue(direct, "record", {"n": 1}, Clock().now())
        finally:
            await direct.close()
        await until(lambda: ran == [1], "the job queued after the outage to run")
    finally:
        stop.set()
        await asyncio.wait([loop])
        await worker.stop()
        await pool.close()
    assert loop.exception() is None


def test_a_worker_that_dies_takes_the_process_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """`attest serve` exits non-zero when its worker task ends by itself: the app flags it and
    raises SIGTERM, which uvicorn turns into a graceful shutdown."""
    raised: list[int] = []
    monkeypatch.setattr(app_module.signal, "raise_signal", raised.append)  # the process itself is outside the test
    app = create_app(None)

    async def crash() -> None:
        raise RuntimeError("a bug")

    async def run() -> None:
        task = asyncio.create_task(crash())
        await asyncio.wait([task])
        app_module._worker_ended(app, task, asyncio.Event())

    asyncio.run(run())
    assert app.state.worker_failed is True and raised == [signal.SIGTERM]


async def until(predicate: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
