"""The photo jobs that delete: uploads staged on a form nobody sent (`store.SWEEP_JOB`, a day on), and
refused photos once the retention period is over (`store.PURGE_JOB`: ATTEST_RETENTION_DAYS, as for
rejected reviews; a photo approved meanwhile stays)."""

from __future__ import annotations

import logging
from datetime import timedelta

from reviews.media import store
from reviews.platform import jobs
from reviews.platform.services import Services

log = logging.getLogger("attest.photos")


def retention(svc: Services) -> timedelta:
    return timedelta(days=svc.settings.retention_days)


def tasks(svc: Services) -> dict[str, jobs.Task]:
    async def sweep(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            invitation_id = int(job.payload["invitation_id"])
            async with svc.pool.acquire() as conn, conn.transaction():
                again = await store.sweep_staged(conn, invitation_id, svc.clock.now())
                await batch.done(job, conn)
                if again is not None:  # uploads staged since: their turn comes later
                    await jobs.enqueue(conn, store.SWEEP_JOB, {"invitation_id": invitation_id}, again,
                                       dedupe_key=f"photos-sweep:{invitation_id}")

    async def purge(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            photo_id = int(job.payload["photo_id"])
            now = svc.clock.now()
            async with svc.pool.acquire() as conn, conn.transaction():
                photo = await store.get(conn, photo_id)
                await batch.done(job, conn)
                if photo is None or photo.state != "rejected" or photo.decided_at is None:
                    continue  # deleted, or shown after all
                due = photo.decided_at + retention(svc)
                if due > now:  # refused again since this look was planned
                    await store.schedule_purge(conn, photo_id, due)
                elif await store.purge_refused(conn, photo_id, now - retention(svc)):
                    log.info("refused photo purged", extra={"photo": photo_id})

    return {store.SWEEP_JOB: jobs.Task(sweep, 20), store.PURGE_JOB: jobs.Task(purge, 50)}
