"""Where outgoing webhooks may go (SSRF): an endpoint's URL is checked when its owner saves it
(`check_url`) and its host name again at every attempt (`resolve`), so a name that moved to a
private network is not followed there. The machine itself and private networks are refused unless
ATTEST_WEBHOOKS_ALLOW_PRIVATE is set."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

URL_MAX = 2000


class Refused(ValueError):
    """The endpoint's address is not one Attest sends to; `code` says why, for the console's words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Unresolved(Refused):
    """The endpoint's host name has no address (yet)."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """An endpoint's URL as typed by its owner, refused unless it is http(s) to a named or public
    host (the machine itself and private networks only with ATTEST_WEBHOOKS_ALLOW_PRIVATE)."""
    url = url.strip()
    if not url or len(url) > URL_MAX:
        raise Refused("length", f"must be 1 to {URL_MAX} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise Refused("not_url", "is not a URL") from None
    if parsed.scheme not in ("http", "https"):
        raise Refused("scheme", "must start with https:// (or http://)")
    if not parsed.host:
        raise Refused("not_url", "has no host")
    if parsed.userinfo:
        raise Refused("credentials", "must not hold a user name or password")
    if parsed.fragment:
        raise Refused("fragment", "must not have a #fragment")
    if not allow_private:
        host = parsed.host.lower().rstrip(".")
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".home.arpa")):
            raise Refused("private", "points at this machine or a private network")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not _public(str(literal)):
            raise Refused("private", "points at this machine or a private network")
    return parsed


async def resolve(url: httpx.URL, *, allow_private: bool) -> str | None:
    """The address to connect to, checked at the time of sending (a name may have moved since the
    endpoint was saved): every address the name has must be public. None when the check is off."""
    if allow_private:
        return None
    host = url.raw_host.decode("ascii")
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except OSError as exc:
            raise Unresolved("unresolved", f"could not resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Unresolved("unresolved", f"{host} has no address")
    if not all(_public(a) for a in addresses):
        raise Refused("private", "points at this machine or a private network")
    return addresses[0]
