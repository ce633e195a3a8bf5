"""A shop's GDPR tool (owner): export one buyer's data (Art. 15/20) or erase it (Art. 17), found by
their email address, with the same functions as Shopify's privacy topics and `attest privacy`
(`reviews.privacy.buyer_data`); erasure asks for a confirmation first. Both are audited there.
The exports are listed with when each was asked for and whether it was downloaded.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.console.shops import Shop, render_shop, shop, shop_post
from reviews.console.web import _, first, message_page, not_found
from reviews.privacy import buyer_data, exports

EMAIL_MAX = 320


async def _render(found: Shop, *, status_code: int = 200, email: str = "", error: str | None = None,
                  done: str | None = None, erased: dict[str, Any] | None = None) -> Response:
    return render_shop("shop_privacy.html", found, section="privacy", status_code=status_code,
                       exports=await exports.listed(found.who.svc.pool, found.merchant.id), email=email, error=error,
                       done=done, erased=erased)


async def privacy_page(request: Request) -> Response:
    found = await shop(request, "owner")
    if isinstance(found, Response):
        return found
    return await _render(found, done="exported" if request.query_params.get("done") == "exported" else None)


def _email(form: dict[str, list[str]]) -> str | None:
    email = first(form, "email").strip()
    local, at, domain = email.rpartition("@")
    return email if at and local and domain and len(email) <= EMAIL_MAX and email.isprintable() else None


async def _buyer_post(request: Request) -> tuple[Shop, dict[str, list[str]], str] | Response:
    """What both buyer forms check first: an owner, the form and its token, an address."""
    posted = await shop_post(request, "owner")
    if isinstance(posted, Response):
        return posted
    found, form = posted
    email = _email(form)
    if email is None:
        return await _render(found, status_code=422, email=first(form, "email")[:EMAIL_MAX],
                             error=_(found.who.locale, "Enter the buyer's email address."))
    return found, form, email


async def export(request: Request) -> Response:
    posted = await _buyer_post(request)
    if isinstance(posted, Response):
        return posted
    found, _form, email = posted
    svc, who = found.who.svc, found.who
    assert who.user is not None
    async with svc.pool.acquire() as conn:
        await buyer_data.request_export(conn, svc, found.merchant, email=email, actor=who.user.email)
    return RedirectResponse(f"/console/m/{found.merchant.slug}/privacy?done=exported#exports", status_code=303)


async def erase(request: Request) -> Response:
    """First the confirmation (what was found for the address), then, confirmed, the erasure."""
    posted = await _buyer_post(request)
    if isinstance(posted, Response):
        return posted
    found, form, email = posted
    svc, who = found.who.svc, found.who
    assert who.user is not None
    async with svc.pool.acquire() as conn:
        if first(form, "confirmed") != "yes":
            data = await buyer_data.export(conn, found.merchant.id, email, hasher=svc.hasher)
            return render_shop("shop_privacy_confirm.html", found, section="privacy", email=email,
                               orders=len(data["orders"]), reviews=len(data["reviews"]))
        result = await buyer_data.erase_buyer(conn, found.merchant.id, email, hasher=svc.hasher,
                                              now=svc.clock.now(), actor=who.user.email)
    return await _render(found, erased=result)


async def download(request: Request) -> Response:
    """One export as the JSON file to hand to the buyer; the first download marks it delivered."""
    found = await shop(request, "owner")
    if isinstance(found, Response):
        return found
    svc, who = found.who.svc, found.who
    assert who.user is not None
    raw = str(request.path_params.get("export_id", ""))
    if not raw.isdigit() or len(raw) > 18:
        return not_found(who)
    async with svc.pool.acquire() as conn:
        got = await exports.download(conn, found.merchant.id, int(raw), by=who.user.email, now=svc.clock.now())
    if got is None:
        return not_found(who)
    if got.data is None:
        return message_page(who, 410, _(who.locale, "Erased"),
                            _(who.locale, "The buyer was erased since this export was made: its data is gone."))
    return Response(json.dumps(got.data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{got.filename}"',
                             "Cache-Control": "no-store"})
