"""Response helpers shared by every widget route: open CORS, short public caching, ETags."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

CORS = {"Access-Control-Allow-Origin": "*"}
SHORT_CACHE = 60
LONG_CACHE = 3600

JSON = "application/json"
JSON_LD = "application/ld+json; charset=utf-8"
SVG = "image/svg+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
JS = "application/javascript; charset=utf-8"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def cached(request: Request, body: bytes | str, media_type: str, *, max_age: int = SHORT_CACHE,
           headers: dict[str, str] | None = None) -> Response:
    """A public, cacheable answer; 304 without a body when the client already has this version."""
    raw = body.encode() if isinstance(body, str) else body
    etag = etag_of(raw)
    all_headers = {**CORS, "Cache-Control": f"public, max-age={max_age}", "ETag": etag, **(headers or {})}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=all_headers)
    return Response(raw, media_type=media_type, headers=all_headers)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_response(request: Request, data: Any, *, max_age: int = SHORT_CACHE) -> Response:
    return cached(request, dumps(data), JSON, max_age=max_age)


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
