"""What web and worker processes share: settings, clock, database, signer, hasher, mail transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from reviews.clock import Clock
from reviews.privacy import Hasher
from reviews.settings import Settings
from reviews.tokens import Signer


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

    def __post_init__(self) -> None:
        self.signer = Signer(self.settings.secret_key, self.clock)
        self.hasher = Hasher(self.settings.secret_key)

    def transport(self) -> Any:
        if self.transport_override is not None:
            return self.transport_override
        from mailer.dkim import load_dkim_config
        from mailer.transport import transport_from_settings

        s = self.settings
        # None unless selector, domain and key file are all set: half a configuration signs nothing.
        dkim = load_dkim_config(s.dkim_selector, s.dkim_domain, s.dkim_key_file)
        return transport_from_settings(s.smtp_url, s.outbox_dir, dkim)

    def url(self, path: str) -> str:
        return self.settings.base_url + path
