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
PORT_MAX = 65535


class Refused(ValueError):
    """The endpoint's address is not one Attest sends to; `code` says why, for the console's words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Unresolved(Refused):
    """The endpoint's host name has no address (yet)."""


# IPv6 prefixes that carry an IPv4 address a router or tunnel delivers to: judged by that address.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo):
    Python's `is_global` judges the IPv6 form, which is "global" for most of them whatever they carry."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    packed = int(ip)
    if any(ip in net for net in _NAT64) or (packed >> 32 == 0 and packed > 1):  # NAT64; ::a.b.c.d (not :: or ::1)
        return ipaddress.IPv4Address(packed & 0xFFFF_FFFF)
    return None


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not (inner.is_global and not inner.is_multicast):
            return False
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """An endpoint's URL as typed by its owner, refused unless it is http(s) to a named or public
    host (the machine itself and private networks only with ATTEST_WEBHOOKS_ALLOW_PRIVATE)."""
    url = url.strip()
    if not url or len(url) > URL_MAX:
        raise Refused("length", f"must be 1 to {URL_MAX} characters")
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decoding an IDNA A-label may fail only here (`xn--zz`: IDNAError, a ValueError)
        port = parsed.port
    except (httpx.InvalidURL, ValueError):
        raise Refused("not_url", "is not a URL") from None
    if port is not None and not 0 < port <= PORT_MAX:
        raise Refused("not_url", f"has a port outside 1-{PORT_MAX}")
    if parsed.scheme not in ("http", "https"):
        raise Refused("scheme", "must start with https:// (or http://)")
    if not host:
        raise Refused("not_url", "has no host")
    if parsed.userinfo:
        raise Refused("credentials", "must not hold a user name or password")
    if parsed.fragment:
        raise Refused("fragment", "must not have a #fragment")
    if not allow_private:
        host = host.lower().rstrip(".")
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
