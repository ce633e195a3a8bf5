"""Two workers whose scans flag each other's reviews at the same moment: both finish, neither
deadlocks. The scale-out test met this as a scan job run twice ("deadlock detected" in
`flags.save`): one scan had stored its review's bands (a key-share lock on the review, through the
foreign key) while the other, holding a new flag on that review, asked to lock it for update."""

from __future__ import annotations

import asyncio

import asyncpg

from embedding import shingles
from embedding.detect import Flag
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.screening import flags as flag_store
from tests.helpers import add_review
from tests.processes import eventually


async def _waiting(pool: asyncpg.Pool, pid: int) -> bool:
    return bool(await pool.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid))


async def test_two_scans_flagging_each_others_reviews_both_finish(services: Services, merchant: tuple[Merchant, str],
                                                                   dsn: str) -> None:
    shop, _ = merchant
    a = await add_review(services, shop.id, 5, state="pending", body="Best kettle I ever owned, boils in a minute.")
    b = await add_review(services, shop.id, 5, state="pending", body="Best kettle I have ever owned, boils fast.")
    now = services.clock.now()
    # Each scan flags its own review and the other's, as a campaign's two members.
    pair = [Flag(a, "campaign", 0.9, {"related": [b]}), Flag(b, "campaign", 0.9, {"related": [a]})]
    first, second = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    tasks: list[asyncio.Task[None]] = []
    try:
        await first.execute("BEGIN")
        await second.execute("BEGIN")
        # The scan of `a` stores its bands first; the scan of `b` gets to its flags first.
        await shingles.save(first, a, now, [1, 2, 3])
        tasks.append(asyncio.create_task(flag_store.save(second, pair, now)))
        pid = second.get_server_pid()
        await eventually(lambda: tasks[0].done() or _waiting(services.pool, pid), 10,
                         "the second scan to wait or finish")
        tasks.append(asyncio.create_task(flag_store.save(first, pair, now)))
        # A deadlock is found within PostgreSQL's deadlock_timeout (1 s): one of the two would fail.
        await asyncio.wait_for(tasks[0], 30)
        await second.execute("COMMIT")
        await asyncio.wait_for(tasks[1], 30)
        await first.execute("COMMIT")
    finally:
        for task in tasks:
            task.cancel()
        first.terminate()
        second.terminate()
    states = dict(await services.pool.fetch("SELECT id, state FROM reviews WHERE id = ANY($1::bigint[])", [a, b]))
    assert states == {a: "held", b: "held"}
    assert await services.pool.fetchval("SELECT count(*) FROM flags WHERE kind = 'campaign'") == 2
