"""A shop's API keys (owner): create one with a name (the key is shown this once; only its hash is
kept), list them with their prefix, creation and last use, revoke one (POST /api/v1/orders then
refuses it). Audited. The outgoing webhooks have their page beside it (`webhooks`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.console.errors import PageNotFound
from reviews.console.guards import posted, shop_page
from reviews.console.shops import Shop, render_shop
from reviews.console.web import _, first
from reviews.merchants import keys
from reviews.platform import audit


async def _render(found: Shop, *, status_code: int = 200, created: str | None = None, created_name: str = "",
                  error: str | None = None, name: str = "", done: str | None = None) -> Response:
    svc = found.who.svc
    return render_shop("shop_developers.html", found, section="developers", status_code=status_code,
                       keys=await keys.listed(svc.pool, found.merchant.id), created=created, created_name=created_name,
                       error=error, name=name, done=done, api_url=svc.url("/api/v1/orders"),
                       docs_url=svc.url("/openapi.json"), name_max=keys.NAME_MAX)


@shop_page("owner")
async def developers_page(request: Request, found: Shop) -> Response:
    return await _render(found, done="revoked" if request.query_params.get("done") == "revoked" else None)


@shop_page("owner")
async def create_key(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    svc, who = found.who.svc, found.who
    assert who.user is not None
    name = " ".join(first(form, "name").split())
    if not name or len(name) > keys.NAME_MAX or not name.isprintable():
        return await _render(found, status_code=422, name=name[:keys.NAME_MAX],
                             error=_(who.locale, "Give the key a name of 1 to 100 characters, such as the "
                                                 "system that will use it."))
    now = svc.clock.now()
    async with svc.pool.acquire() as conn, conn.transaction():
        entry, key = await keys.issue(conn, found.merchant.id, name, now)
        await audit.record(conn, actor=who.user.email, action="api_key.created", table="api_keys", row_id=entry.id,
                           after={"name": entry.name, "prefix": entry.prefix, "merchant": found.merchant.slug},
                           now=now)
    # Shown on this answer only (not stored, not in a URL; the page is not cached).
    return await _render(found, created=key, created_name=entry.name or "")


@shop_page("owner")
async def revoke_key(request: Request, found: Shop) -> Response:
    await posted(request, found.who)
    svc, who = found.who.svc, found.who
    assert who.user is not None
    now = svc.clock.now()
    async with svc.pool.acquire() as conn, conn.transaction():
        revoked = await keys.revoke(conn, found.merchant.id, request.path_params["key_id"], now)
        if revoked is not None:
            await audit.record(conn, actor=who.user.email, action="api_key.revoked", table="api_keys",
                               row_id=revoked.id, after={"name": revoked.name, "prefix": revoked.prefix,
                                                         "merchant": found.merchant.slug}, now=now)
    if revoked is None:
        raise PageNotFound()
    return RedirectResponse(f"/console/m/{found.merchant.slug}/developers?done=revoked", status_code=303)
