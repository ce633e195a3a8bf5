"""A shop's outgoing webhooks (owner), in the developers' section: its endpoints, each with its
events, state and delivery log; creating one (its signing secret is shown once), rotating the
secret (the previous one signs too for 24 hours), deleting, sending a test event and sending one
delivery again. The records and the rules are `reviews.hooks`; this module only shows them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.console.errors import PageNotFound
from reviews.console.guards import posted, shop_page
from reviews.console.shops import Shop, render_shop
from reviews.console.web import _
from reviews.hooks import deliveries, endpoints, events, urlguard

DONE = ("tested", "redelivered", "deleted")


def _event_labels(locale: str) -> dict[str, str]:
    return {
        events.REVIEW_PUBLISHED: _(locale, "a review is published"),
        events.REVIEW_UPDATED: _(locale, "a published review is edited, held or rejected"),
        events.REVIEW_WITHDRAWN: _(locale, "a review is withdrawn or erased"),
        events.REVIEW_REPLIED: _(locale, "the shop replies to a review"),
    }


def _url_problem(locale: str, code: str) -> str:
    words = {
        "length": _(locale, "Enter the address of your endpoint (at most 2000 characters)."),
        "not_url": _(locale, "This is not a web address."),
        "scheme": _(locale, "The address must start with https:// (or http://)."),
        "credentials": _(locale, "The address must not hold a user name or password."),
        "fragment": _(locale, "The address must not have a # part."),
        "private": _(locale, "This address points at this server or a private network, which Attest does not "
                             "send to."),
        "limit": _(locale, "A shop has at most 10 endpoints: delete one first."),
    }
    return words.get(code, _(locale, "This address cannot receive webhooks."))


def _path(found: Shop, endpoint_id: int | None = None, done: str | None = None) -> str:
    path = f"/console/m/{found.merchant.slug}/developers/webhooks"
    if endpoint_id is not None:
        path += f"/{endpoint_id}"
    return path + (f"?done={done}" if done else "")


async def _list(found: Shop, *, status_code: int = 200, errors: dict[str, str] | None = None, url: str = "",
                chosen: list[str] | None = None, done: str | None = None) -> Response:
    return render_shop("webhooks.html", found, section="developers", status_code=status_code,
                       endpoints=await endpoints.endpoints(found.who.svc.pool, found.merchant.id),
                       event_types=events.EVENT_TYPES, event_labels=_event_labels(found.who.locale),
                       errors=errors or {}, url=url, chosen=chosen if chosen is not None else list(events.EVENT_TYPES),
                       done=done, max_endpoints=endpoints.MAX_ENDPOINTS)


async def _endpoint(request: Request, found: Shop) -> endpoints.Endpoint:
    """The endpoint in the path, when it is this shop's."""
    endpoint_id: int = request.path_params["endpoint_id"]
    endpoint = await endpoints.endpoint(found.who.svc.pool, found.merchant.id, endpoint_id) if endpoint_id else None
    if endpoint is None:
        raise PageNotFound()
    return endpoint


@shop_page("owner")
async def list_page(request: Request, found: Shop) -> Response:
    done = request.query_params.get("done")
    return await _list(found, done=done if done in DONE else None)


@shop_page("owner")
async def create(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    assert found.who.user is not None
    svc, locale = found.who.svc, found.who.locale
    url = (form.get("url") or [""])[0].strip()[:urlguard.URL_MAX + 1]
    chosen = [e for e in form.get("events", []) if e in events.EVENT_TYPES]
    try:
        async with svc.pool.acquire() as conn:
            endpoint, secret = await endpoints.create(
                conn, found.merchant.id, url, form.get("events", []), now=svc.clock.now(),
                actor=found.who.user.email, allow_private=svc.settings.webhooks_allow_private)
    except endpoints.EndpointInvalid as exc:
        errors = {}
        if "url" in exc.codes:
            errors["url"] = _url_problem(locale, exc.codes["url"])
        if "events" in exc.codes:
            errors["events"] = _(locale, "Choose at least one event.")
        return await _list(found, status_code=422, errors=errors, url=url, chosen=chosen)
    return render_shop("webhooks_secret.html", found, section="developers", endpoint=endpoint, secret=secret,
                       rotated=False, overlap_until=None)


@shop_page("owner")
async def endpoint_page(request: Request, found: Shop) -> Response:
    pool = found.who.svc.pool
    endpoint = await _endpoint(request, found)
    done = request.query_params.get("done")
    now = found.who.svc.clock.now()
    return render_shop("webhooks_endpoint.html", found, section="developers", endpoint=endpoint,
                       deliveries=await deliveries.deliveries(pool, found.merchant.id, endpoint.id),
                       event_labels=_event_labels(found.who.locale), done=done if done in DONE else None,
                       overlap=endpoint.previous_until if endpoint.previous_until and endpoint.previous_until > now
                       else None, log_limit=deliveries.LOG_LIMIT)


@shop_page("owner")
async def rotate(request: Request, found: Shop) -> Response:
    await posted(request, found.who)
    endpoint = await _endpoint(request, found)
    assert found.who.user is not None
    svc = found.who.svc
    now = svc.clock.now()
    async with svc.pool.acquire() as conn:
        secret = await endpoints.rotate(conn, found.merchant.id, endpoint.id, now=now, actor=found.who.user.email)
    if secret is None:
        raise PageNotFound()
    return render_shop("webhooks_secret.html", found, section="developers", endpoint=endpoint, secret=secret,
                       rotated=True, overlap_until=now + endpoints.ROTATION_OVERLAP)


@shop_page("owner")
async def delete(request: Request, found: Shop) -> Response:
    """Asks first (a page with the confirming button), then deletes the endpoint and its log."""
    form = await posted(request, found.who)
    endpoint = await _endpoint(request, found)
    assert found.who.user is not None
    if (form.get("confirmed") or [""])[0] != "1":
        return render_shop("webhooks_delete.html", found, section="developers", endpoint=endpoint)
    svc = found.who.svc
    async with svc.pool.acquire() as conn:
        await endpoints.delete(conn, found.merchant.id, endpoint.id, now=svc.clock.now(), actor=found.who.user.email)
    return RedirectResponse(_path(found, done="deleted"), status_code=303)


@shop_page("owner")
async def send_test(request: Request, found: Shop) -> Response:
    await posted(request, found.who)
    endpoint = await _endpoint(request, found)
    svc = found.who.svc
    async with svc.pool.acquire() as conn:
        await deliveries.send_test(conn, found.merchant.id, found.merchant.slug, endpoint.id, now=svc.clock.now())
    return RedirectResponse(_path(found, endpoint.id, "tested"), status_code=303)


@shop_page("owner")
async def redeliver(request: Request, found: Shop) -> Response:
    await posted(request, found.who)
    endpoint = await _endpoint(request, found)
    delivery_id: int = request.path_params["delivery_id"]
    svc = found.who.svc
    async with svc.pool.acquire() as conn:
        sent = await deliveries.redeliver(conn, found.merchant.id, endpoint.id, delivery_id, now=svc.clock.now())
    if not sent:
        raise PageNotFound()
    return RedirectResponse(_path(found, endpoint.id, "redelivered"), status_code=303)


