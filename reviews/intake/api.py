"""The merchant API under /api/v1: bearer-key auth, JSON in and out."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews.intake import orders
from reviews.invitations import scheduling as invitations
from reviews.merchants import store as merchants
from reviews.merchants.store import Merchant
from reviews.platform.errors import ApiError, Unauthorized, ValidationError
from reviews.platform.services import Services

MAX_BODY = 1024 * 1024


async def authenticate(request: Request) -> Merchant:
    svc: Services = request.app.state.services
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized()
    merchant = await merchants.by_api_key(svc.pool, key.strip())
    if merchant is None:
        raise Unauthorized("The API key is not valid.")
    return merchant


async def read_json(request: Request, limit: int = MAX_BODY) -> Any:
    body = await read_body(request, limit)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError({"": f"the body is not valid JSON: {exc}"}, "The body is not valid JSON.") from None


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
    return b"".join(chunks)


async def post_order(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    event = orders.parse_event(await read_json(request))
    async with svc.pool.acquire() as conn:
        answer, replayed = await orders.ingest(conn, merchant, event, now=svc.clock.now(), hasher=svc.hasher)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(answer, status_code=200, headers=headers)


async def get_merchant(request: Request) -> JSONResponse:
    merchant = await authenticate(request)
    return JSONResponse({"slug": merchant.slug, "name": merchant.name, "locale": merchant.locale,
                         "settings": merchant.public_settings()})


async def patch_settings(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError({"": "the body must be a JSON object of settings"})
    async with svc.pool.acquire() as conn:
        merchant = await merchants.update_settings(conn, merchant, body)
    return JSONResponse({"settings": merchant.public_settings()})


async def get_stats(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    # The same shape as `attest stats <slug>`.
    return JSONResponse({"merchant": merchant.slug, "invitations": await invitations.funnel(svc.pool, merchant.id)})
