"""Opening and closing what a process needs, from the environment."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from reviews.platform import db
from reviews.platform.clock import Clock
from reviews.platform.services import Services
from reviews.platform.settings import Settings


class SchemaNotReady(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def open_services(settings: Settings | None = None, *, migrate: bool = False,
                        clock: Clock | None = None) -> AsyncIterator[Services]:
    settings = settings or Settings.from_env()
    dsn = await db.resolve_database_url(settings)
    # The embedded database is ours alone: bring it up to date so a laptop needs no extra step.
    if migrate or not settings.database_url:
        conn = await db.connect(dsn)
        try:
            await db.migrate(conn)
        finally:
            await conn.close()
    pool = await db.create_pool(dsn)
    try:
        pending = await db.pending_migrations(pool)
        if pending:
            raise SchemaNotReady(f"the database needs migrations first ({', '.join(pending)}): run `attest migrate`")
        svc = Services(settings=settings, clock=clock or Clock(), pool=pool, dsn=dsn)
        try:
            yield svc
        finally:
            await svc.close()
    finally:
        await pool.close()
