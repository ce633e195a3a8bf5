"""The job queue (a table claimed with FOR UPDATE SKIP LOCKED) and the worker loop.

A job is claimed by a worker (state `running`, `locked_pid` = the backend pid of the
worker's own long-lived connection). If that worker dies its connection goes with it,
so any worker can tell the job is orphaned and queue it again at once. Handlers take a
batch and settle each job as soon as its work is done, in the same transaction as the
work's own writes: a crash loses no finished job and repeats at most the one in flight.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from reviews.platform.clock import Clock
from reviews.platform.db import Connection, Executor

log = logging.getLogger("attest.jobs")

CHANNEL = "attest_jobs"
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
# A job running for longer than this is assumed lost even if its worker's connection lives.
LEASE = timedelta(hours=1)
# While the database is unreachable the worker tries again after 1, 2, 4 ... seconds, at most this.
OUTAGE_BACKOFF_CAP = 15.0


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


class Retry(Exception):
    """Try again later (a temporary failure)."""

    def __init__(self, message: str, delay: timedelta | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class Fail(Exception):
    """Give up now: retrying cannot help."""


# A job with the same kind and dedupe key already waiting wins (the partial unique index of 0001).
ON_DEDUPE_CONFLICT = ("ON CONFLICT (kind, dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued','running') "
                      "DO NOTHING")


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter on the upper half, so retries spread out."""
    ceiling: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))  # (int ** int is typed Any)
    r = (rng or random).uniform(0.5, 1.0)
    return ceiling * r


def enqueue_select_sql(select: str) -> str:
    """The statement that enqueues the jobs a SELECT yields as (kind, payload, run_at, dedupe_key):
    for a caller that folds its own write and the job into one statement (a CTE), so the SQL that
    writes jobs still lives here. Without NOTIFY: such jobs come due later, and workers poll."""
    return f"INSERT INTO jobs (kind, payload, run_at, dedupe_key) {select} {ON_DEDUPE_CONFLICT}"


async def enqueue(
    conn: Executor, kind: str, payload: dict[str, Any], run_at: datetime,
    *, dedupe_key: str | None = None, max_attempts: int = 8,
) -> int | None:
    """Add a job; with a dedupe key, a job of that kind and key already waiting wins."""
    job_id: int | None = await conn.fetchval(
        "INSERT INTO jobs (kind, payload, run_at, dedupe_key, max_attempts) VALUES ($1, $2, $3, $4, $5) "
        + ON_DEDUPE_CONFLICT + " RETURNING id",
        kind, payload, run_at, dedupe_key, max_attempts,
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, kind)
    return job_id


async def drop_waiting(conn: Executor, kind: str, dedupe_keys: Sequence[str]) -> int:
    """Delete the jobs of this kind and these keys that have not started (their work is moot: a
    buyer's erasure took what they were about). Returns how many."""
    return int(await conn.fetchval(
        """WITH d AS (DELETE FROM jobs WHERE kind = $1 AND dedupe_key = ANY($2::text[]) AND state = 'queued'
                      RETURNING 1) SELECT count(*) FROM d""", kind, list(dedupe_keys)))


class Batch:
    """The jobs a handler got, and the means to settle each one."""

    def __init__(self, worker: Worker, jobs: list[Job]) -> None:
        self.jobs = jobs
        self._worker = worker
        self.settled: set[int] = set()

    async def done(self, job: Job, conn: Connection | None = None) -> None:
        await self._worker._settle_done(job, conn)
        self.settled.add(job.id)

    async def done_many(self, jobs: Sequence[Job], conn: Connection | None = None) -> None:
        """`done` for several jobs in one statement."""
        if jobs:
            await self._worker._settle_done_many(jobs, conn)
            self.settled.update(job.id for job in jobs)

    async def failed(self, job: Job, error: BaseException | str, conn: Connection | None = None) -> None:
        await self._worker._settle_failed(job, error, conn)
        self.settled.add(job.id)


Handler = Callable[["Batch"], Awaitable[None]]


@dataclass
class Task:
    handler: Handler
    batch_size: int = 1


@dataclass
class Worker:
    pool: asyncpg.Pool
    dsn: str
    tasks: dict[str, Task]
    clock: Clock
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    poll_interval: float = 5.0
    _conn: Connection | None = None
    _pid: int | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _heartbeat: float = field(default_factory=time.monotonic)

    async def start(self) -> None:
        """Open the worker's own connection: its pid marks the jobs it holds."""
        self._conn = await asyncpg.connect(self.dsn)
        self._pid = await self._conn.fetchval("SELECT pg_backend_pid()")
        await self._conn.add_listener(CHANNEL, lambda *_: self._wake.set())

    async def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), timeout=5)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            conn.terminate()  # the server is gone: drop the socket without a goodbye

    @property
    def seconds_since_loop(self) -> float:
        """How long ago the loop last came round (the health check reads it)."""
        return time.monotonic() - self._heartbeat

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def requeue_orphans(self) -> int:
        """Queue again the jobs whose worker is gone (its connection closed) or overran the lease."""
        result = await self.pool.execute(
            """UPDATE jobs SET state = 'queued', locked_by = NULL, locked_pid = NULL, locked_at = NULL,
                   updated_at = $1
               WHERE state = 'running'
                 AND (locked_pid IS NULL
                      OR locked_pid NOT IN (SELECT pid FROM pg_stat_activity)
                      OR locked_at < $1::timestamptz - $2::interval)""",
            self.clock.now(), LEASE,
        )
        return int(result.split()[-1])

    async def claim(self, kind: str, limit: int) -> list[Job]:
        rows = await self.pool.fetch(
            """UPDATE jobs SET state = 'running', locked_by = $3, locked_pid = $4, locked_at = $1,
                   attempts = attempts + 1, updated_at = $1
               WHERE id IN (SELECT id FROM jobs
                            WHERE state = 'queued' AND run_at <= $1 AND kind = $2
                            ORDER BY run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
               RETURNING id, kind, payload, attempts, max_attempts""",
            self.clock.now(), kind, self.name, self._pid, limit,
        )
        jobs = [Job(r["id"], r["kind"], r["payload"], r["attempts"], r["max_attempts"]) for r in rows]
        return sorted(jobs, key=lambda j: j.id)

    async def run_once(self) -> int:
        """Run one batch of every kind that has due jobs; returns how many jobs were run."""
        if self._conn is None:
            await self.start()
        await self.requeue_orphans()
        ran = 0
        for kind, task in self.tasks.items():
            self._heartbeat = time.monotonic()  # a long batch of one kind is not a stalled loop
            jobs = await self.claim(kind, task.batch_size)
            if not jobs:
                continue
            ran += len(jobs)
            batch = Batch(self, jobs)
            try:
                await task.handler(batch)
            except Exception as exc:  # a handler bug must not kill the worker
                log.exception("job handler failed", extra={"kind": kind, "jobs": [j.id for j in jobs]})
                for job in jobs:
                    if job.id not in batch.settled:
                        await batch.failed(job, exc)
            for job in jobs:
                if job.id not in batch.settled:
                    await batch.failed(job, "handler did not settle the job")
        return ran

    async def drain(self, max_rounds: int = 100_000) -> int:
        """Run every due job, including the ones that running jobs enqueue, then return."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            total += ran
            if ran == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run jobs until `stop` is set. A database outage of any length is waited out with
        backoff (the connection is opened again each time), so the worker resumes on its own."""
        log.info("worker started", extra={"worker": self.name})
        failures = 0
        while not stop.is_set():
            self._heartbeat = time.monotonic()
            try:
                if self._conn is None or self._conn.is_closed():
                    await self.stop()
                    await self.start()
                if await self.run_once():
                    failures = 0
                    continue
                self._wake.clear()
                timeout = await self._seconds_until_next_due()
                failures = 0
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                failures += 1
                timeout = min(OUTAGE_BACKOFF_CAP, 0.5 * 2 ** min(failures, 10))
                log.warning("worker loop error; retrying", extra={
                    "worker": self.name, "error": f"{type(exc).__name__}: {exc}", "attempt": failures,
                    "retry_in_seconds": timeout})
                await self.stop()
            await _first_of(self._wake, stop, timeout)
        log.info("worker stopped", extra={"worker": self.name})

    async def _seconds_until_next_due(self) -> float:
        next_at: datetime | None = await self.pool.fetchval("SELECT min(run_at) FROM jobs WHERE state = 'queued'")
        if next_at is None:
            return self.poll_interval
        return max(0.05, min(self.poll_interval, (next_at - self.clock.now()).total_seconds()))

    async def _settle_done(self, job: Job, conn: Connection | None) -> None:
        await self._settle_done_many([job], conn)

    async def _settle_done_many(self, jobs: Sequence[Job], conn: Connection | None) -> None:
        await (conn or self.pool).execute(
            """UPDATE jobs SET state = 'done', last_error = NULL, locked_by = NULL, locked_pid = NULL,
                   updated_at = $2 WHERE id = ANY($1::bigint[])""",
            [job.id for job in jobs], self.clock.now(),
        )

    async def _settle_failed(self, job: Job, error: BaseException | str, conn: Connection | None) -> None:
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        dead = isinstance(error, Fail) or job.attempts >= job.max_attempts
        delay = error.delay if isinstance(error, Retry) and error.delay else backoff(job.attempts)
        await (conn or self.pool).execute(
            """UPDATE jobs SET state = $2, last_error = $3, run_at = $4, locked_by = NULL, locked_pid = NULL,
                   updated_at = $5 WHERE id = $1""",
            job.id, "dead" if dead else "queued", message[:2000], self.clock.now() + delay, self.clock.now(),
        )
        log.warning("job failed", extra={"job": job.id, "kind": job.kind, "attempt": job.attempts,
                                         "dead": dead, "error": message[:500]})


@dataclass(frozen=True)
class QueueState:
    counts: dict[tuple[str, str], int]  # (kind, state) -> jobs, finished ones left out
    oldest_due_seconds: float  # how long the oldest due job has waited


async def queue_state(conn: Executor, now: datetime) -> QueueState:
    rows = await conn.fetch("SELECT kind, state, count(*) AS n FROM jobs WHERE state <> 'done' GROUP BY kind, state")
    oldest = await conn.fetchval("SELECT min(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1", now)
    return QueueState({(r["kind"], r["state"]): int(r["n"]) for r in rows},
                      (now - oldest).total_seconds() if oldest else 0.0)


async def counts(conn: Executor) -> list[dict[str, Any]]:
    """Jobs per kind and state, finished ones included (`attest jobs`)."""
    rows = await conn.fetch("SELECT kind, state, count(*) AS n FROM jobs GROUP BY kind, state ORDER BY 1, 2")
    return [dict(r) for r in rows]


async def _first_of(wake: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    """Wait until either event is set, or so many seconds."""
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
    await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for w in waiters:
        w.cancel()


async def dead_jobs(conn: Executor) -> Sequence[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, kind, payload, attempts, last_error, updated_at FROM jobs WHERE state = 'dead' ORDER BY id"
    )


async def retry_dead(conn: Executor, now: datetime, job_ids: Sequence[int] | None) -> int:
    """Give dead jobs a fresh set of attempts (all of them, or the ids given)."""
    result = await conn.execute(
        """UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1
           WHERE state = 'dead' AND ($2::bigint[] IS NULL OR id = ANY($2))""",
        now, list(job_ids) if job_ids else None,
    )
    await conn.execute("SELECT pg_notify($1, 'retry')", CHANNEL)
    return int(result.split()[-1])
