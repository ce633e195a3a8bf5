"""What web and worker processes share: settings, clock, database, signer, hasher, mail transport."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from reviews.platform.clock import Clock
from reviews.platform.hashing import Hasher
from reviews.platform.settings import Settings
from reviews.platform.tokens import Signer


class MailTransport(Protocol):
    """What `mailer.transport` provides; the platform only keeps and closes it."""

    def session(self) -> AbstractAsyncContextManager[Any]: ...

    async def close(self) -> None: ...


@dataclass
class Services:
    settings: Settings
    clock: Clock
    pool: asyncpg.Pool
    dsn: str
    # Builds the mail transport from the settings; the entry points pass mailer's (`reviews.runtime`).
    transport_factory: Callable[[Settings], MailTransport] | None = None
    signer: Signer = field(init=False)
    hasher: Hasher = field(init=False)
    _transport: MailTransport | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.signer = Signer(self.settings.secret_key, self.clock)
        self.hasher = Hasher(self.settings.secret_key)

    def transport(self) -> MailTransport:
        """The process's one mail transport (it keeps an SMTP connection between batches), made on
        first use from the settings of that moment."""
        if self._transport is None:
            if self.transport_factory is None:
                raise RuntimeError("these services were opened without a mail transport")
            self._transport = self.transport_factory(self.settings)
        return self._transport

    async def close(self) -> None:
        """Says goodbye to the SMTP server, if a connection is open."""
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()

    def url(self, path: str) -> str:
        return self.settings.base_url + path
