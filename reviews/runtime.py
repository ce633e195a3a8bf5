"""Opening and closing what a process needs, from the environment: the one place that hands the
platform the parts it must not import itself (mailer's transport, the vector search's settings)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from embedding.store import SESSION_SETTINGS
from mailer.dkim import load_dkim_config
from mailer.transport import transport_from_settings
from reviews.platform import db
from reviews.platform.clock import Clock
from reviews.platform.services import MailTransport, Services
from reviews.platform.settings import Settings


class SchemaNotReady(RuntimeError):
    pass


def mail_transport(settings: Settings) -> MailTransport:
    """SMTP when ATTEST_SMTP_URL is set, else the outbox folder; DKIM-signed when configured."""
    # None unless selector, domain and key file are all set: half a configuration signs nothing.
    dkim = load_dkim_config(settings.dkim_selector, settings.dkim_domain, settings.dkim_key_file)
    return transport_from_settings(settings.smtp_url, settings.outbox_dir, dkim)


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """The pool, with the session settings duplicate checks rely on."""
    return await db.create_pool(dsn, min_size=min_size, max_size=max_size, server_settings=SESSION_SETTINGS)


def services(settings: Settings, clock: Clock, pool: asyncpg.Pool, dsn: str) -> Services:
    return Services(settings=settings, clock=clock, pool=pool, dsn=dsn, transport_factory=mail_transport)


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
    pool = await create_pool(dsn)
    try:
        pending = await db.pending_migrations(pool)
        if pending:
            raise SchemaNotReady(f"the database needs migrations first ({', '.join(pending)}): run `attest migrate`")
        svc = services(settings, clock or Clock(), pool, dsn)
        try:
            yield svc
        finally:
            await svc.close()
    finally:
        await pool.close()
