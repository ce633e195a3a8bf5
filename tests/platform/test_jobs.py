import asyncio
from datetime import timedelta

import asyncpg

from reviews.platform import jobs
from reviews.platform.services import Services


def worker_for(services: Services, handlers: dict[str, jobs.Handler], batch_size: int = 10) -> jobs.Worker:
    return jobs.Worker(pool=services.pool, dsn=services.dsn, clock=services.clock,
                       tasks={k: jobs.Task(h, batch_size) for k, h in handlers.items()})


async def test_due_jobs_run_once_and_future_jobs_wait(services: Services) -> None:
    seen: list[int] = []

    async def handle(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            seen.append(job.payload["n"])
            await batch.done(job)

    now = services.clock.now()
    await jobs.enqueue(services.pool, "t", {"n": 1}, now)
    await jobs.enqueue(services.pool, "t", {"n": 2}, now + timedelta(hours=1))
    async with worker_for(services, {"t": handle}) as worker:
        assert await worker.drain() == 1
        assert seen == [1]
        services.clock.advance(hours=1)
        assert await worker.drain() == 1
        assert seen == [1, 2]
        assert await worker.drain() == 0
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE state = 'done'") == 2


async def test_failures_back_off_then_die_and_can_be_retried(services: Services) -> None:
    async def handle(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            await batch.failed(job, jobs.Retry("server busy"))

    await jobs.enqueue(services.pool, "t", {}, services.clock.now(), max_attempts=3)
    delays = []
    async with worker_for(services, {"t": handle}) as worker:
        for _ in range(3):
            assert await worker.drain() == 1
            row = await services.pool.fetchrow("SELECT state, run_at, attempts, last_error FROM jobs")
            delays.append(row["run_at"] - services.clock.now())
            services.clock.set(row["run_at"])
        assert row["state"] == "dead"
        assert "server busy" in row["last_error"]
        # Exponential: each wait longer than the one before.
        assert delays[0] < delays[1]
        assert len(await jobs.dead_jobs(services.pool)) == 1
        assert await jobs.retry_dead(services.pool, services.clock.now(), None) == 1
        assert await services.pool.fetchval("SELECT state FROM jobs") == "queued"


async def test_a_crashing_handler_does_not_kill_the_worker(services: Services) -> None:
    async def handle(batch: jobs.Batch) -> None:
        raise RuntimeError("bug")

    await jobs.enqueue(services.pool, "t", {}, services.clock.now())
    async with worker_for(services, {"t": handle}) as worker:
        assert await worker.run_once() == 1
    row = await services.pool.fetchrow("SELECT state, last_error, attempts FROM jobs")
    assert row["state"] == "queued" and "bug" in row["last_error"] and row["attempts"] == 1


async def test_two_workers_never_claim_the_same_job(services: Services) -> None:
    for n in range(40):
        await jobs.enqueue(services.pool, "t", {"n": n}, services.clock.now())
    claimed: list[int] = []

    async def handle(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            claimed.append(job.payload["n"])
            await asyncio.sleep(0)  # let the other worker interleave
            await batch.done(job)

    async with worker_for(services, {"t": handle}, 5) as a, worker_for(services, {"t": handle}, 5) as b:
        await asyncio.gather(a.drain(), b.drain())
    assert sorted(claimed) == list(range(40))


async def test_jobs_of_a_dead_worker_are_taken_over(services: Services) -> None:
    await jobs.enqueue(services.pool, "t", {}, services.clock.now())
    crashed = worker_for(services, {})
    await crashed.start()
    assert len(await crashed.claim("t", 10)) == 1
    # The worker process dies: its connection closes with it.
    await crashed.stop()
    done: list[int] = []

    async def handle(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            done.append(job.id)
            await batch.done(job)

    async with worker_for(services, {"t": handle}) as survivor:
        assert await survivor.drain() == 1
    assert len(done) == 1
    assert await services.pool.fetchval("SELECT attempts FROM jobs") == 2


async def test_dedupe_key_keeps_one_waiting_job(services: Services) -> None:
    a = await jobs.enqueue(services.pool, "t", {}, services.clock.now(), dedupe_key="x")
    b = await jobs.enqueue(services.pool, "t", {}, services.clock.now(), dedupe_key="x")
    assert a is not None and b is None


async def test_enqueue_notifies_listeners(services: Services) -> None:
    got = asyncio.Event()
    conn = await asyncpg.connect(services.dsn)
    await conn.add_listener(jobs.CHANNEL, lambda *_: got.set())
    try:
        await jobs.enqueue(services.pool, "t", {}, services.clock.now())
        await asyncio.wait_for(got.wait(), timeout=10)
    finally:
        await conn.close()


async def test_run_forever_wakes_on_notify_and_stops(services: Services) -> None:
    done = asyncio.Event()

    async def handle(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            await batch.done(job)
        done.set()

    worker = worker_for(services, {"t": handle})
    worker.poll_interval = 3600  # only the notification can wake it in time
    stop = asyncio.Event()
    async with worker:
        task = asyncio.create_task(worker.run_forever(stop))
        await asyncio.sleep(0)
        await jobs.enqueue(services.pool, "t", {}, services.clock.now())
        await asyncio.wait_for(done.wait(), timeout=20)
        stop.set()
        await asyncio.wait_for(task, timeout=20)


def test_backoff_grows_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    values = [jobs.backoff(n, rng) for n in range(1, 20)]
    assert values[0] <= jobs.BACKOFF_BASE
    assert values[5] > values[0]
    assert max(values) <= jobs.BACKOFF_CAP
