"""Every job kind the worker runs, and its handler."""

from __future__ import annotations

from reviews.invitations import sending
from reviews.platform import jobs
from reviews.platform.services import Services
from reviews.screening import scanning


def all_tasks(svc: Services) -> dict[str, jobs.Task]:
    return {**sending.tasks(svc), **scanning.tasks(svc)}


def make_worker(svc: Services) -> jobs.Worker:
    return jobs.Worker(pool=svc.pool, dsn=svc.dsn, tasks=all_tasks(svc), clock=svc.clock)
