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

from reviews.console import params
from reviews.console.errors import PageNotFound
from reviews.console.guards import posted, shop_page
from reviews.console.shops import Shop, render_shop
from reviews.console.web import Form, _, first, message_page
from reviews.privacy import buyer_data, exports

EMAIL_MAX = 320


async def _render(found: Shop, *, status_code: int = 200, email: str = "", error: str | None = None,
                  done: str | None = None, erased: dict[str, Any] | None = None, asked: int | None = None) -> Response:
    listed = await exports.listed(found.who.svc.pool, found.merchant.id)
    return render_shop("shop_privacy.html", found, section="privacy", status_code=status_code,
                       exports=listed, email=email, error=error, done=done, erased=erased,
                       asked=next((e for e in listed if e.id == asked), None))


@shop_page("owner")
async def privacy_page(request: Request, found: Shop) -> Response:
    done = request.query_params.get("done")
    return await _render(found, done=done if done in ("exported", "nothing") else None,
                         asked=params.whole(request.query_params.get("export"), 1, 2**62))


def _email(form: Form) -> str | None:
    email = first(form, "email").strip()
    local, at, domain = email.rpartition("@")
    return email if at and local and domain and len(email) <= EMAIL_MAX and email.isprintable() else None


async def _no_email(found: Shop, form: Form) -> Response:
    return await _render(found, status_code=422, email=first(form, "email")[:EMAIL_MAX],
                         error=_(found.who.locale, "Enter the buyer's email address."))


@shop_page("owner")
async def export(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    email = _email(form)
    if email is None:
        return await _no_email(found, form)
    svc, who = found.who.svc, found.who
    assert who.user is not None
    async with svc.pool.acquire() as conn:
        entry = await buyer_data.request_export(conn, svc, found.merchant, email=email, actor=who.user.email)
    done = "nothing" if entry.empty else "exported"
    return RedirectResponse(f"/console/m/{found.merchant.slug}/privacy?done={done}&export={entry.id}#exports",
                            status_code=303)


@shop_page("owner")
async def erase(request: Request, found: Shop) -> Response:
    """First the confirmation (what was found for the address), then, confirmed, the erasure."""
    form = await posted(request, found.who)
    email = _email(form)
    if email is None:
        return await _no_email(found, form)
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


@shop_page("owner")
async def download(request: Request, found: Shop) -> Response:
    """One export as the JSON file to hand to the buyer; the first download marks it delivered."""
    svc, who = found.who.svc, found.who
    assert who.user is not None
    async with svc.pool.acquire() as conn:
        got = await exports.download(conn, found.merchant.id, request.path_params["export_id"], by=who.user.email,
                                     now=svc.clock.now())
    if got is None:
        raise PageNotFound()
    if got.data is None:
        return message_page(who, 410, _(who.locale, "Erased"),
                            _(who.locale, "The buyer was erased since this export was made: its data is gone."))
    return Response(json.dumps(got.data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{got.filename}"',
                             "Cache-Control": "no-store"})
