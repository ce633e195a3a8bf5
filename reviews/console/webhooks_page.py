"""A shop's outgoing webhooks (owner), in the developers' section: its endpoints, each with its
events, state and delivery log; creating one (its signing secret is shown once), rotating the
secret (the previous one signs too for 24 hours), deleting, sending a test event and sending one
delivery again. The records and the rules are `reviews.hooks`; this module only shows them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reviews.console.shops import Shop, render_shop, shop, shop_post
from reviews.console.web import _, not_found
from reviews.hooks import deliveries, endpoints, events, urlguard

BASE = "/console/m/{slug}/developers/webhooks"
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


def _id(request: Request, name: str) -> int | None:
    raw = str(request.path_params.get(name, ""))
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


async def _list(found: Shop, *, status_code: int = 200, errors: dict[str, str] | None = None, url: str = "",
                chosen: list[str] | None = None, done: str | None = None) -> Response:
    return render_shop("webhooks.html", found, section="developers", status_code=status_code,
                       endpoints=await endpoints.endpoints(found.who.svc.pool, found.merchant.id),
                       event_types=events.EVENT_TYPES, event_labels=_event_labels(found.who.locale),
                       errors=errors or {}, url=url, chosen=chosen if chosen is not None else list(events.EVENT_TYPES),
                       done=done, max_endpoints=endpoints.MAX_ENDPOINTS)


async def list_page(request: Request) -> Response:
    found = await shop(request, "owner")
    if isinstance(found, Response):
        return found
    done = request.query_params.get("done")
    return await _list(found, done=done if done in DONE else None)


async def create(request: Request) -> Response:
    posted = await shop_post(request, "owner")
    if isinstance(posted, Response):
        return posted
    found, form = posted
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


async def endpoint_page(request: Request) -> Response:
    found = await shop(request, "owner")
    if isinstance(found, Response):
        return found
    endpoint_id = _id(request, "endpoint_id")
    pool = found.who.svc.pool
    endpoint = await endpoints.endpoint(pool, found.merchant.id, endpoint_id) if endpoint_id else None
    if endpoint is None:
        return not_found(found.who)
    done = request.query_params.get("done")
    now = found.who.svc.clock.now()
    return render_shop("webhooks_endpoint.html", found, section="developers", endpoint=endpoint,
                       deliveries=await deliveries.deliveries(pool, found.merchant.id, endpoint.id),
                       event_labels=_event_labels(found.who.locale), done=done if done in DONE else None,
                       overlap=endpoint.previous_until if endpoint.previous_until and endpoint.previous_until > now
                       else None, log_limit=deliveries.LOG_LIMIT)


async def _posted_endpoint(request: Request) -> tuple[Shop, dict[str, list[str]], endpoints.Endpoint] | Response:
    posted = await shop_post(request, "owner")
    if isinstance(posted, Response):
        return posted
    found, form = posted
    endpoint_id = _id(request, "endpoint_id")
    endpoint = await endpoints.endpoint(found.who.svc.pool, found.merchant.id, endpoint_id) if endpoint_id else None
    if endpoint is None:
        return not_found(found.who)
    return found, form, endpoint


async def rotate(request: Request) -> Response:
    posted = await _posted_endpoint(request)
    if isinstance(posted, Response):
        return posted
    found, _form, endpoint = posted
    assert found.who.user is not None
    svc = found.who.svc
    now = svc.clock.now()
    async with svc.pool.acquire() as conn:
        secret = await endpoints.rotate(conn, found.merchant.id, endpoint.id, now=now, actor=found.who.user.email)
    if secret is None:
        return not_found(found.who)
    return render_shop("webhooks_secret.html", found, section="developers", endpoint=endpoint, secret=secret,
                       rotated=True, overlap_until=now + endpoints.ROTATION_OVERLAP)


async def delete(request: Request) -> Response:
    """Asks first (a page with the confirming button), then deletes the endpoint and its log."""
    posted = await _posted_endpoint(request)
    if isinstance(posted, Response):
        return posted
    found, form, endpoint = posted
    assert found.who.user is not None
    if (form.get("confirmed") or [""])[0] != "1":
        return render_shop("webhooks_delete.html", found, section="developers", endpoint=endpoint)
    svc = found.who.svc
    async with svc.pool.acquire() as conn:
        await endpoints.delete(conn, found.merchant.id, endpoint.id, now=svc.clock.now(), actor=found.who.user.email)
    return RedirectResponse(_path(found, done="deleted"), status_code=303)


async def send_test(request: Request) -> Response:
    posted = await _posted_endpoint(request)
    if isinstance(posted, Response):
        return posted
    found, _form, endpoint = posted
    svc = found.who.svc
    async with svc.pool.acquire() as conn:
        await deliveries.send_test(conn, found.merchant.id, found.merchant.slug, endpoint.id, now=svc.clock.now())
    return RedirectResponse(_path(found, endpoint.id, "tested"), status_code=303)


async def redeliver(request: Request) -> Response:
    posted = await _posted_endpoint(request)
    if isinstance(posted, Response):
        return posted
    found, _form, endpoint = posted
    delivery_id = _id(request, "delivery_id")
    svc = found.who.svc
    async with svc.pool.acquire() as conn:
        sent = delivery_id is not None and await deliveries.redeliver(conn, found.merchant.id, endpoint.id,
                                                                      delivery_id, now=svc.clock.now())
    if not sent:
        return not_found(found.who)
    return RedirectResponse(_path(found, endpoint.id, "redelivered"), status_code=303)


def routes() -> list[Route]:
    return [
        Route(BASE, list_page, methods=["GET"]),
        Route(BASE, create, methods=["POST"]),
        Route(BASE + "/{endpoint_id}", endpoint_page, methods=["GET"]),
        Route(BASE + "/{endpoint_id}/rotate", rotate, methods=["POST"]),
        Route(BASE + "/{endpoint_id}/delete", delete, methods=["POST"]),
        Route(BASE + "/{endpoint_id}/test", send_test, methods=["POST"]),
        Route(BASE + "/{endpoint_id}/deliveries/{delivery_id}/redeliver", redeliver, methods=["POST"]),
    ]
