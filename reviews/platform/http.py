"""HTTP helpers every route shares: reading bodies within a limit, the client's address, the
security headers on every response, and static files with their caching."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviews.platform.errors import ApiError, ValidationError
from reviews.platform.text import unstorable

MAX_BODY = 1024 * 1024
# The types of the files we serve, not guessed: the guess depends on the machine's mime.types and
# Python's version (application/javascript before 3.12; RFC 9239 says text/javascript).
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8"}


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The raw body, refused past the limit without reading it all into memory."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"The body must be at most {limit} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"The body must be at most {limit} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # as Request.body() keeps it, so that request.form() can still parse it
    return body


async def read_json(request: Request, limit: int = MAX_BODY) -> Any:
    body = await read_body(request, limit)
    try:
        return loads(body)
    except ValueError as exc:
        raise ValidationError({"": f"the body is not valid JSON: {exc}"}, "The body is not valid JSON.") from None


def loads(body: bytes) -> Any:
    """Strict JSON: ValueError for what json.loads lets through or dies on (NaN and Infinity, an
    integer of thousands of digits, nesting deep enough to exhaust the stack)."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class TrustedProxies:
    """The client's address and scheme from X-Forwarded-For and X-Forwarded-Proto, but only when the
    request comes from a proxy in ATTEST_TRUSTED_PROXIES (anyone can send those headers). The
    client is the rightmost address the trusted proxies did not add themselves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The settings never change while the app runs: read once, on the first request.
        self._trusted: tuple[IPv4Network | IPv6Network, ...] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            trusted = self._trusted
            if trusted is None:
                trusted = self._trusted = scope["app"].state.services.settings.trusted_proxies
            if trusted and _within(scope["client"][0], trusted):
                scope = _forwarded(scope, trusted)
        await self.app(scope, receive, send)


def _within(host: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _forwarded(scope: Scope, trusted: tuple[IPv4Network | IPv6Network, ...]) -> Scope:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    client = next((h for h in reversed(hops) if not _within(h, trusted)), None)
    scope = dict(scope)
    if client is not None:
        try:
            scope["client"] = (str(ip_address(client)), 0)
        except ValueError:
            pass  # not an address: keep the proxy's
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if proto in ("http", "https"):
        scope["scheme"] = proto
    return scope


# Every answer's security headers, as raw header pairs appended unless the route set its own; widget
# routes relax framing for their iframe page.
_SECURITY = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin"))
_NO_FRAMING = (*_SECURITY, (b"x-frame-options", b"DENY"))


def security_headers(path: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every answer at this path gets unless it has its own."""
    return _SECURITY if path.startswith("/widgets/") else _NO_FRAMING


class SecurityHeaders:
    """Conservative headers on every response; widget routes relax framing for their iframe page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers.extend(pair for pair in extra if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


Refusal = Callable[[Request, int], Awaitable[Response]]


class UnstorableUrls:
    """A path or query parameter that PostgreSQL cannot hold or match (a NUL, a lone surrogate) is
    refused here, where text enters, rather than route by route: 404 for a path (no such page can
    exist), 400 for a query. `refuse` renders the answer as the app renders its other errors."""

    def __init__(self, app: ASGIApp, refuse: Refusal) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            status = _unstorable_url(scope)
            if status is not None:
                response = await self.refuse(Request(scope, receive), status)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _unstorable_url(scope: Scope) -> int | None:
    if unstorable(scope["path"]):
        return 404
    raw = scope.get("query_string", b"")
    # Undecoded, the query's bytes are Latin-1 text, which PostgreSQL stores: only an escape can make
    # a NUL or a lone surrogate of it (most widget queries have no escape, and skip the parsing).
    if b"%" not in raw and b"\x00" not in raw:
        return None
    # As Starlette parses it for request.query_params, so that what is checked is what routes read.
    query = raw.decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if unstorable(name) or unstorable(value):
            return 400
    return None


class CachedStaticFiles(StaticFiles):
    """Starlette's StaticFiles, with a Cache-Control on every answer (304s included) so that
    browsers keep a file `max_age` seconds, then revalidate it by its ETag."""

    def __init__(self, *, directory: str | os.PathLike[str], max_age: int) -> None:
        super().__init__(directory=directory)
        self.cache_control = f"public, max-age={max_age}"

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result,
                                media_type=_MEDIA_TYPES.get(PurePath(full_path).suffix),
                                headers={"Cache-Control": self.cache_control})
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response
