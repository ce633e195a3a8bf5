"""Whether a website is one the shop registered: the one check behind the trust seal that cannot be
copied (`badge.json?host=` answers it; the HTML badge shows a warning instead of the rating when not).

A host is registered when it is one of the shop's `domains` (lowercase, IDNA-encoded host names, the
merchant setting) or a subdomain of one: `www.shop.example` under `shop.example`. Nothing else is:
not `localhost`, not an IP address, not `shop.example.evil.test`, unless listed as such.
"""

from __future__ import annotations

import re
from typing import Any

MAX_HOST = 254  # 253, and the root's dot
# What `location.hostname` may be: a DNS name as browsers give it (ASCII, IDNA-encoded; any case; the
# root's dot), an IPv4 address, or a bracketed IPv6 address. The OpenAPI document states the same.
_LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
PATTERN = f"^{_LABEL}(?:\\.{_LABEL})*\\.?$|^\\[[0-9A-Fa-f:.]+\\]$"
_HOST = re.compile(PATTERN)


def normalise(raw: str) -> str | None:
    """The host as compared (lowercase, without the root's dot), or None if it cannot be one."""
    if len(raw) > MAX_HOST or not _HOST.fullmatch(raw):
        return None
    return raw.lower().removesuffix(".")


def domains(settings: Any) -> list[str]:
    """The shop's registered domains, read defensively: the setting may be missing or malformed."""
    found = settings.get("domains") if isinstance(settings, dict) else None
    if not isinstance(found, list):
        return []
    return [d.strip().lower().removesuffix(".") for d in found if isinstance(d, str) and d.strip()]


def registered(host: str, registered_domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in registered_domains)
