"""What web and worker processes share: settings, clock, database, signer, hasher, mail transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from reviews.platform.clock import Clock
from reviews.platform.hashing import Hasher
from reviews.platform.settings import Settings
from reviews.platform.tokens import Signer


@dataclass
class Services:
    settings: Settings
    clock: Clock
    pool: asyncpg.Pool
    dsn: str
    signer: Signer = field(init=False)
    hasher: Hasher = field(init=False)
    # Set by tests or operators that want another transport (e.g. a misbehaving SMTP server).
    transport_override: Any = None
    _transport: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.signer = Signer(self.settings.secret_key, self.clock)
        self.hasher = Hasher(self.settings.secret_key)

    def transport(self) -> Any:
        """The process's one mail transport (it keeps an SMTP connection between batches)."""
        if self.transport_override is not None:
            return self.transport_override
        if self._transport is None:
            from mailer.dkim import load_dkim_config
            from mailer.transport import transport_from_settings

            s = self.settings
            # None unless selector, domain and key file are all set: half a configuration signs nothing.
            dkim = load_dkim_config(s.dkim_selector, s.dkim_domain, s.dkim_key_file)
            self._transport = transport_from_settings(s.smtp_url, s.outbox_dir, dkim)
        return self._transport

    async def close(self) -> None:
        """Says goodbye to the SMTP server, if a connection is open."""
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()

    def url(self, path: str) -> str:
        return self.settings.base_url + path
