"""Unsubscribe (RFC 8058): GET shows a confirm page, POST (one-click or the form) suppresses the address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reviews.buyer.pages import _, error_page, page_locale, render
from reviews.invitations import links, suppressions
from reviews.merchants.store import by_id
from reviews.platform import tokens
from reviews.platform.services import Services


def _load(svc: Services, request: Request) -> dict | Response:  # type: ignore[type-arg]
    locale = page_locale(request)
    try:
        payload = svc.signer.load(tokens.UNSUBSCRIBE, request.path_params["token"], links.UNSUBSCRIBE_MAX_AGE)
        return {"merchant_id": int(payload["m"]), "address_hash": str(payload["h"])}
    except tokens.TokenExpired:
        return error_page(locale, 410, _(locale, "This link has expired"),
                          _(locale, "Reply to the email and ask the shop to stop sending review requests."))
    except (tokens.TokenInvalid, KeyError, TypeError, ValueError):
        return error_page(locale, 400, _(locale, "This link is not valid"),
                          _(locale, "Please open the link exactly as it appears in the email."))


async def confirm_page(request: Request) -> Response:
    svc: Services = request.app.state.services
    data = _load(svc, request)
    if isinstance(data, Response):
        return data
    merchant = await by_id(svc.pool, data["merchant_id"])
    locale = page_locale(request, merchant.locale if merchant else None)
    return render("unsubscribe.html", locale, merchant=merchant, token=request.path_params["token"], done=False)


async def unsubscribe(request: Request) -> Response:
    svc: Services = request.app.state.services
    data = _load(svc, request)
    if isinstance(data, Response):
        return data
    form = await request.form()
    everywhere = form.get("scope") == "all"
    merchant = await by_id(svc.pool, data["merchant_id"])
    async with svc.pool.acquire() as conn:
        await suppressions.unsubscribe(conn, None if everywhere else data["merchant_id"], data["address_hash"],
                                       svc.clock.now())
    locale = page_locale(request, merchant.locale if merchant else None)
    return render("unsubscribe.html", locale, merchant=merchant, token=request.path_params["token"], done=True,
                  everywhere=everywhere)
