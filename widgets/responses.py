"""Response helpers shared by every widget route: open CORS, short public caching, ETags."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

CORS = {"Access-Control-Allow-Origin": "*"}
SHORT_CACHE = 60
LONG_CACHE = 3600
# Browsers and CDNs may keep showing a widget this long past max-age while they revalidate in the
# background; revalidating is a cheap 304, and a shop page never waits for it.
STALE_WHILE_REVALIDATE = {SHORT_CACHE: 600, LONG_CACHE: 86400}

JSON = "application/json"
JSON_LD = "application/ld+json; charset=utf-8"
SVG = "image/svg+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
JS = "application/javascript; charset=utf-8"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def cache_control(max_age: int) -> str:
    swr = STALE_WHILE_REVALIDATE.get(max_age, max_age)
    return f"public, max-age={max_age}, stale-while-revalidate={swr}"


class Prepared(Response):
    """A response whose header lines were encoded once, when its answer was rendered: a widget is
    sent thousands of times for each time it is rendered."""

    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = list(raw_headers)  # a copy: middleware may add to it


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A 200 answer, ready to send as often as asked: body, headers and ETag computed once."""

    body: bytes
    media_type: str
    etag: str
    headers: dict[str, str]
    raw_ok: list[tuple[bytes, bytes]]
    raw_not_modified: list[tuple[bytes, bytes]]

    @classmethod
    def of(cls, body: bytes | str, media_type: str, *, max_age: int = SHORT_CACHE,
           headers: dict[str, str] | None = None) -> Rendered:
        raw = body.encode() if isinstance(body, str) else body
        etag = etag_of(raw)
        all_headers = {**CORS, "Cache-Control": cache_control(max_age), "ETag": etag, **(headers or {})}
        ok = {**all_headers, "Content-Length": str(len(raw)), "Content-Type": media_type}
        return cls(raw, media_type, etag, all_headers, _raw(ok), _raw(all_headers))


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (or any)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def header(request: Request, name: bytes) -> str | None:
    """One request header, read straight from the ASGI scope: what every cached answer asks, without
    building the request's whole header map."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def send(request: Request, rendered: Rendered) -> Response:
    """The answer, or 304 without a body when the client already has this version."""
    if matches(header(request, b"if-none-match"), rendered.etag):
        return Prepared(304, b"", rendered.raw_not_modified)
    return Prepared(200, rendered.body, rendered.raw_ok)


def cached(request: Request, body: bytes | str, media_type: str, *, max_age: int = SHORT_CACHE,
           headers: dict[str, str] | None = None) -> Response:
    """A public, cacheable answer; 304 without a body when the client already has this version."""
    return send(request, Rendered.of(body, media_type, max_age=max_age, headers=headers))


@dataclass(frozen=True, slots=True)
class Static:
    """A file's answer as it is and, when that is smaller, gzipped once at start-up."""

    plain: Rendered
    gzipped: Rendered | None

    @classmethod
    def of(cls, body: bytes, media_type: str, *, max_age: int = LONG_CACHE) -> Static:
        vary = {"Vary": "Accept-Encoding"}
        packed = gzip.compress(body, 9, mtime=0)
        if len(packed) >= len(body) * 0.9:
            return cls(Rendered.of(body, media_type, max_age=max_age), None)
        # Each encoding its own ETag: a cache holding the gzipped bytes must not be told they are the plain ones.
        return cls(Rendered.of(body, media_type, max_age=max_age, headers=vary),
                   Rendered.of(packed, media_type, max_age=max_age, headers={**vary, "Content-Encoding": "gzip"}))

    def pick(self, request: Request) -> Rendered:
        """The answer for this request's Accept-Encoding (the only header it varies on)."""
        if self.gzipped is not None and accepts_gzip(header(request, b"accept-encoding") or ""):
            return self.gzipped
        return self.plain


@functools.lru_cache(maxsize=64)
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110: "gzip;q=0" refuses it even after "*")."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        q = params.strip().removeprefix("q=")
        try:
            weights[coding.strip()] = float(q) if q else 1.0
        except ValueError:
            weights[coding.strip()] = 0.0
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    body = dumps({"error": {"code": code, "message": message, "fields": fields or {}}})
    return Response(body, status_code=status, media_type=JSON, headers={**CORS, "Cache-Control": "no-store"})


def not_found(message: str = "No such shop.") -> Response:
    return error(404, "not_found", message)


async def preflight(request: Request) -> Response:
    """CORS preflight: anyone may read; only GET (and HEAD) exist here."""
    return Response(status_code=204, headers={
        **CORS,
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "*",
        "Access-Control-Max-Age": "86400",
    })
