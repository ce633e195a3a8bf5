"""Where an import's photos may be fetched from: the outgoing webhooks' SSRF guard, used through this
one function (`reviews.hooks.urlguard`)."""

from __future__ import annotations

import httpx

from reviews.hooks.urlguard import Refused, check_url, resolve


class Blocked(Exception):
    """The address is not one Attest fetches from (a private network, this machine, not http(s) ...)."""


async def checked(url: str, *, allow_private: bool) -> tuple[httpx.URL, str | None]:
    """The URL, and the checked address to connect to (None when the check is off, in tests)."""
    try:
        parsed = check_url(url, allow_private=allow_private)
        return parsed, await resolve(parsed, allow_private=allow_private)
    except Refused as exc:
        raise Blocked(str(exc)) from None
