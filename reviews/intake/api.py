"""The merchant API under /api/v1: bearer-key auth, JSON in and out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews.intake import events, orders
from reviews.invitations import store as invitations
from reviews.merchants import keys
from reviews.merchants import settings as merchant_settings
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.errors import ApiError, Unauthorized
from reviews.platform.http import client_ip, read_json
from reviews.platform.ratelimit import Limit, RateLimiter
from reviews.platform.services import Services

# Wrong keys a client may try in five minutes before it is refused for the rest of the window.
KEY_FAILURES = Limit("api-key-failures", 20, 300)


async def authenticate(request: Request) -> Merchant:
    svc: Services = request.app.state.services
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized()
    merchant = await keys.by_api_key(svc.pool, key.strip(), now=svc.clock.now())  # records its last use
    if merchant is None:
        # Only failures count: a shop's own traffic is never slowed by someone guessing beside it.
        decision = await RateLimiter(svc.settings.secret_key).hit(
            svc.pool, [(KEY_FAILURES, client_ip(request) or "unknown")], svc.clock.now())
        if not decision.allowed:
            raise ApiError(429, "too_many_attempts", "Too many wrong API keys from this address; try again later.",
                           headers={"Retry-After": str(decision.retry_after)})
        raise Unauthorized("The API key is not valid.")
    return merchant


async def post_order(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    event = events.parse_event(await read_json(request), smtputf8=svc.settings.smtputf8)
    async with svc.pool.acquire() as conn:
        answer, replayed = await orders.ingest(conn, merchant, event, now=svc.clock.now(), hasher=svc.hasher)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(answer, status_code=200, headers=headers)


async def get_merchant(request: Request) -> JSONResponse:
    merchant = await authenticate(request)
    return JSONResponse(merchant.public())


async def patch_settings(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    changes = merchant_settings.parse_patch(await read_json(request))
    async with svc.pool.acquire() as conn:
        merchant = await merchants.update_settings(conn, merchant, changes)
    return JSONResponse(merchant.public())


async def get_stats(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    # The same shape as `attest stats <slug>`.
    return JSONResponse({"merchant": merchant.slug, "invitations": await invitations.funnel(svc.pool, merchant.id)})
