"""Whether a website is one the shop registered: the one check behind the trust seal that cannot be
copied (`badge.json?host=` answers it; the HTML badge shows a warning instead of the rating when not).

A host is registered when it is one of the shop's `domains` (lowercase, IDNA-encoded host names, the
merchant setting) or a subdomain of one: `www.shop.example` under `shop.example`. Nothing else is:
not `localhost`, not an IP address, not `shop.example.evil.test`, unless listed as such.
"""

from __future__ import annotations

import re
from typing import Any

MAX_HOST = 253
# What `location.hostname` may be: a DNS name as browsers give it (ASCII, IDNA-encoded), an IPv4
# address, or a bracketed IPv6 address. Anything else is not a host a page can run on.
_HOST = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\]")


def normalise(raw: str) -> str | None:
    """The host as compared (lowercase, without a trailing dot), or None if it cannot be one."""
    host = raw.strip().lower().removesuffix(".")
    if not host or len(host) > MAX_HOST or not _HOST.fullmatch(host) or ".." in host:
        return None
    return host


def domains(settings: Any) -> list[str]:
    """The shop's registered domains, read defensively: the setting may be missing or malformed."""
    found = settings.get("domains") if isinstance(settings, dict) else None
    if not isinstance(found, list):
        return []
    return [d.strip().lower().removesuffix(".") for d in found if isinstance(d, str) and d.strip()]


def registered(host: str, registered_domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in registered_domains)
