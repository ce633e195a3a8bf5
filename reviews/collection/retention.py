"""Retention: rejected and withdrawn reviews are kept, unpublished, for the configured period
(ATTEST_RETENTION_DAYS, at least a year as ISO 20488 asks), then deleted. Each purge is audited.

A rejection or withdrawal schedules a look at the review a year on (`store.schedule_purge`); the
job then deletes it if it is still unpublished and untouched for the whole period, or looks again
when it would be. A review published again in between is left alone.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from reviews.collection import store
from reviews.platform import audit, jobs
from reviews.platform.services import Services

log = logging.getLogger("attest.retention")


def tasks(svc: Services) -> dict[str, jobs.Task]:
    period = timedelta(days=max(svc.settings.retention_days, store.RETENTION_FLOOR.days))

    async def handler(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            review_id = int(job.payload["review_id"])
            now = svc.clock.now()
            async with svc.pool.acquire() as conn, conn.transaction():
                found = await store.purge_state(conn, review_id)
                if found is not None and found[0] in ("rejected", "withdrawn"):
                    state, touched = found
                    if touched + period > now:
                        await batch.done(job, conn)
                        await store.schedule_purge(conn, review_id, touched + period)
                        continue
                    if await store.purge(conn, review_id, now - period):
                        await audit.record(conn, actor="retention", action="retention.purge", table="reviews",
                                           row_id=review_id, before={"state": state,
                                                                     "unpublished_since": touched.isoformat()},
                                           now=now)
                        log.info("review purged", extra={"review": review_id, "state": state})
                await batch.done(job, conn)

    return {store.PURGE_JOB: jobs.Task(handler, 50)}
