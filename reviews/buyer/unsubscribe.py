"""Unsubscribe (RFC 8058): GET shows a confirm page, POST (one-click or the form) suppresses the address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reviews.buyer.pages import LOCALES_DIR, error_page, page_locale, render
from reviews.merchants.store import by_id
from reviews.platform import tokens
from reviews.platform.i18n import translations
from reviews.platform.services import Services

MAX_AGE = 400 * 86400


def _(locale: str, message: str) -> str:
    return translations(LOCALES_DIR, "pages", locale).gettext(message)


def _load(svc: Services, request: Request) -> dict | Response:  # type: ignore[type-arg]
    locale = page_locale(request)
    try:
        payload = svc.signer.load(tokens.UNSUBSCRIBE, request.path_params["token"], MAX_AGE)
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
    await svc.pool.execute(
        """INSERT INTO suppressions (merchant_id, address_hash, reason, created_at)
           VALUES ($1, $2, 'unsubscribed', $3) ON CONFLICT DO NOTHING""",
        None if everywhere else data["merchant_id"], data["address_hash"], svc.clock.now(),
    )
    # Whatever was already scheduled for this address is not sent either.
    await svc.pool.execute(
        """UPDATE invitations i SET state = 'cancelled', reason = 'unsubscribed', updated_at = $3
           FROM orders o WHERE o.id = i.order_id AND o.buyer_hash = $2 AND i.state = 'scheduled'
             AND ($1::bigint IS NULL OR i.merchant_id = $1)""",
        None if everywhere else data["merchant_id"], data["address_hash"], svc.clock.now(),
    )
    locale = page_locale(request, merchant.locale if merchant else None)
    return render("unsubscribe.html", locale, merchant=merchant, token=request.path_params["token"], done=True,
                  everywhere=everywhere)
