"""The worker's side of a decision's grace period: when it is over, the `RELEASE_JOB` sends on what
waited (the shop's webhook, the author's notice), unless the moderator undid the decision first
(then the job is gone, or finds nothing to release). See `reviews.moderation.decisions`."""

from __future__ import annotations

from reviews.moderation import decisions
from reviews.platform import jobs
from reviews.platform.services import Services

BATCH_SIZE = 50


def tasks(svc: Services) -> dict[str, jobs.Task]:
    async def handler(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            async with svc.pool.acquire() as conn, conn.transaction():
                await decisions.release(conn, int(job.payload["decision_id"]), svc.clock.now())
                await batch.done(job, conn)

    return {decisions.RELEASE_JOB: jobs.Task(handler, BATCH_SIZE)}
