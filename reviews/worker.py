"""The worker process: every job kind it runs, wired to its handler, and its loop."""

from __future__ import annotations

import asyncio
import json
import signal

from reviews.accounts import links
from reviews.collection import reply_notices, retention
from reviews.hooks import delivery
from reviews.insights import digests
from reviews.insights import recompute as insights
from reviews.invitations import sending
from reviews.media import imports as photo_imports
from reviews.media import sweeping as photo_sweeping
from reviews.moderation import notices, photo_notices, release
from reviews.platform import jobs
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from reviews.runtime import open_services
from reviews.screening import photo_copies, scanning


def all_tasks(svc: Services) -> dict[str, jobs.Task]:
    return {**sending.tasks(svc), **scanning.tasks(svc), **notices.tasks(svc), **retention.tasks(svc),
            **reply_notices.tasks(svc), **delivery.tasks(svc), **links.tasks(svc), **insights.tasks(svc),
            **photo_imports.tasks(svc), **photo_copies.tasks(svc), **photo_sweeping.tasks(svc),
            **digests.tasks(svc), **photo_notices.tasks(svc), **release.tasks(svc)}


def make_worker(svc: Services) -> jobs.Worker:
    return jobs.Worker(pool=svc.pool, dsn=svc.dsn, tasks=all_tasks(svc), clock=svc.clock)


async def run(settings: Settings, *, drain: bool) -> int:
    """`attest worker`: run jobs until SIGINT or SIGTERM, or (drain) until none is due."""
    async with open_services(settings) as svc:
        worker = make_worker(svc)
        async with worker:
            if drain:
                ran = await worker.drain()
                print(json.dumps({"jobs_run": ran}))
                return 0
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await worker.run_forever(stop)
    return 0
