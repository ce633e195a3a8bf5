"""Fixtures: one embedded PostgreSQL per test session, a fresh migrated database per test,
a real SMTP server on loopback, and the app on top of them."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller

from reviews import runtime
from reviews.app import create_app
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import db
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.platform.settings import Settings

TEMPLATE_DB = "attest_template"
METRICS_TOKEN = "test-metrics-token"
# What a Prometheus scraper sends (the app's settings in these tests carry METRICS_TOKEN).
METRICS_HEADERS = {"Authorization": f"Bearer {METRICS_TOKEN}"}


# The session's PostgreSQL keeps its files in memory when the machine has room there. Every test
# creates a database of some 400 files and drops it: on ext4, creating files soon after many were
# deleted makes the kernel step over each recently deleted inode (perf: `recently_deleted`), so
# CREATE DATABASE grew from 66 to 225 ms over a hundred databases (334-415 ms in the next run),
# against a steady 31-37 ms on tmpfs.
SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 (mkdtemp makes a private folder of its own there)
PG_FOLDER_PREFIX = "attest-tests-pg-"
MEMORY_NEEDED = 2 << 30  # bytes free on the tmpfs, far more than a session's databases take


def _pg_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool]:
    """A folder for the session's PostgreSQL, and whether the caller removes it (pytest keeps its own)."""
    try:
        roomy = os.access(SHARED_MEMORY, os.W_OK) and shutil.disk_usage(SHARED_MEMORY).free > MEMORY_NEEDED
    except OSError:
        roomy = False
    if not roomy:
        return tmp_path_factory.mktemp("pgdata"), False
    _forget_abandoned_folders()
    return Path(tempfile.mkdtemp(prefix=PG_FOLDER_PREFIX, dir=SHARED_MEMORY)), True


def _forget_abandoned_folders() -> None:
    """Folders of killed sessions would hold memory until the machine restarts: remove those an hour
    old whose server no longer runs (a younger one may belong to a session still starting its own)."""
    for folder in SHARED_MEMORY.glob(PG_FOLDER_PREFIX + "*"):
        try:
            abandoned = time.time() - folder.stat().st_mtime >= 3600 and not db._embedded_running(folder)
        except (OSError, ValueError, AssertionError):  # a postmaster.pid being written: the package asserts it
            continue
        if abandoned:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir, ours = _pg_folder(tmp_path_factory)
    server = db.embedded_server(data_dir)
    uri = server.get_uri()
    # A test database is thrown away: durability only costs time here (every CREATE DATABASE and
    # commit waits for the disk otherwise), and with xdist each worker has a server of its own.
    for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
        server.psql(f"ALTER SYSTEM SET {setting}")
    server.psql("SELECT pg_reload_conf()")

    async def prepare() -> None:
        await db.ensure_database(uri, TEMPLATE_DB)
        conn = await db.connect(db._with_database(uri, TEMPLATE_DB))
        try:
            await db.migrate(conn)
        finally:
            await conn.close()

    asyncio.run(prepare())
    try:
        yield uri
    finally:
        server.cleanup()
        if ours:
            shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def dsn(pg_admin_uri: str) -> AsyncIterator[str]:
    """A database of its own for each test, cloned from the migrated template."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(pg_admin_uri)
    try:
        # WAL_LOG, not FILE_COPY: a file copy takes two checkpoints, which wait for the disk whenever
        # anything else writes to it (measured: 31-49 ms a database against 112-131 ms on a quiet disk).
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}" STRATEGY WAL_LOG')
    finally:
        await admin.close()
    yield db._with_database(pg_admin_uri, name)
    admin = await asyncpg.connect(pg_admin_uri)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(tmp_path: Path, dsn: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=dsn, secret_key="test-secret-key",
                    base_url="http://testserver", mail_from="reviews@attest.test", dev=True,
                    metrics_token=METRICS_TOKEN)


@pytest.fixture
async def services(settings: Settings, dsn: str, clock: FrozenClock) -> AsyncIterator[Services]:
    pool = await runtime.create_pool(dsn, min_size=1, max_size=5)
    svc = runtime.services(settings, clock, pool, dsn)
    try:
        yield svc
    finally:
        await svc.close()
        await pool.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def merchant(services: Services) -> tuple[Merchant, str]:
    async with services.pool.acquire() as conn:
        return await merchants.create(conn, name="Demo Shop", slug="demo-shop", locale="en",
                                      settings={"invite_delay_days": 0})


class RecordingHandler:
    """Keeps every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, RecordingHandler]]:
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_url(controller: Controller) -> str:
    return f"smtp://{controller.hostname}:{controller.port}?starttls=off"
