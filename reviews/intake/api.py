"""The merchant API under /api/v1: bearer-key auth, JSON in and out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews.intake import events, orders
from reviews.invitations import store as invitations
from reviews.merchants import keys
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.errors import Unauthorized, ValidationError
from reviews.platform.http import read_json
from reviews.platform.services import Services


async def authenticate(request: Request) -> Merchant:
    svc: Services = request.app.state.services
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized()
    merchant = await keys.by_api_key(svc.pool, key.strip())
    if merchant is None:
        raise Unauthorized("The API key is not valid.")
    return merchant


async def post_order(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    event = events.parse_event(await read_json(request))
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
