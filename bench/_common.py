"""Helpers shared by the benchmarks: a throw-away embedded PostgreSQL, percentiles, memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import numpy as np
import psutil

from reviews.platform import db


class Phases:
    """Prints one progress line per phase, with its duration and the time since the start."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        print(f"[{self.elapsed():7.1f}s] {name} ...", flush=True)
        t0 = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - t0
        print(f"[{self.elapsed():7.1f}s] {name}: {self.seconds[name]:.1f}s", flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


async def _prepare(admin: str, name: str) -> str:
    await db.ensure_database(admin, name)
    dsn = db._with_database(admin, name)
    conn = await db.connect(dsn)
    try:
        await db.migrate(conn)
    finally:
        await conn.close()
    return dsn


@contextlib.contextmanager
def _server(prefix: str) -> Iterator[tuple[Any, Path]]:
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    server = None
    try:
        server = db.embedded_server(tmp / "pgdata")
        yield server, tmp
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def embedded_database(name: str = "bench", prefix: str = "attest-bench-") -> Iterator[tuple[Any, str, Path]]:
    """A fresh embedded PostgreSQL in a temporary folder with a migrated database `name`.

    Yields (server, dsn, folder); the server is stopped and the folder removed on the way out,
    whatever happens. For code outside an event loop; `aembedded_database` inside one."""
    with _server(prefix) as (server, tmp):
        yield server, asyncio.run(_prepare(server.get_uri(), name)), tmp


@contextlib.contextmanager
def kept_database(folder: Path, name: str,
                  key: dict[str, Any]) -> Iterator[tuple[Any, str, Path, dict[str, Any] | None]]:
    """An embedded PostgreSQL kept in `folder` across runs, for benchmarks whose setup takes long.

    Yields (server, admin dsn, folder, what the setup of a database `name` made with the same `key`
    recorded, or None when there is no such database yet: see `record_kept`). The server stops on
    the way out; the folder stays."""
    folder.mkdir(parents=True, exist_ok=True)
    server = db.embedded_server(folder / "pgdata")
    try:
        marker = folder / f"{name}.json"
        kept = json.loads(marker.read_text()) if marker.exists() else None
        yield server, server.get_uri(), folder, kept["results"] if kept and kept["key"] == key else None
    finally:
        server.cleanup()


def record_kept(folder: Path, name: str, key: dict[str, Any], results: dict[str, Any]) -> None:
    (folder / f"{name}.json").write_text(json.dumps({"key": key, "results": results}, default=str))


async def copy_database(admin: str, template: str, name: str) -> str:
    """A fresh copy of the database `template` (a file copy), as `name`; returns its dsn."""
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return db._with_database(admin, name)


async def fresh_database(admin: str, name: str) -> str:
    """The database `name` dropped if it exists, created and migrated; returns its dsn."""
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await conn.close()
    return await _prepare(admin, name)


@contextlib.asynccontextmanager
async def aembedded_database(name: str = "bench",
                             prefix: str = "attest-bench-") -> AsyncIterator[tuple[Any, str, Path]]:
    with _server(prefix) as (server, tmp):
        yield server, await _prepare(server.get_uri(), name), tmp


def percentile(values: list[float] | np.ndarray, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(sum of RSS, sum of PSS) in MB of a process and its children. RSS counts shared
    buffers once per process that touched them; PSS splits them, so its sum is the footprint."""
    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    rss = pss = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            full = p.memory_full_info()
            rss += full.rss
            pss += getattr(full, "pss", full.rss)
    return rss / 2**20, pss / 2**20


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
