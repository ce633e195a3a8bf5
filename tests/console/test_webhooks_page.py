"""Issue 12, the developers' webhooks page (/console/m/{slug}/developers/webhooks): owners only, the
signing secret shown once, CSRF on every form, rotation, test events, the delivery log and its
"send again" button, deleting after a confirmation."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks import Webhook

from reviews.accounts import manage as accounts
from reviews.hooks import endpoints
from reviews.hooks import events as hook_events
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.helpers import FormParser
from tests.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

__all__ = ["receiver"]  # the fixture, used by name

Fixture = tuple[Merchant, str]
PASSWORD = "correct horse battery staple"
PAGE = "/console/m/demo-shop/developers/webhooks"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture
def svc(services: Services, clock: FrozenClock) -> Services:
    services.settings = replace(services.settings, webhooks_allow_private=True)
    clock.set(datetime.now(UTC).replace(microsecond=0))
    return services


async def _sign_in(client: httpx.AsyncClient, services: Services, email: str, role: str,
                   merchant: str | None = "demo-shop") -> None:
    client.cookies.clear()
    _user, link = await accounts.invite(services, email, role, merchant, actor="test",
                                      all_merchants=role == "moderator" and merchant is None)
    path = link.removeprefix(services.settings.base_url)
    page = await client.get(path)
    parser = FormParser()
    parser.feed(page.text)
    r = await client.post(path, data={**parser.fields, "password": PASSWORD})
    assert r.status_code == 303, r.text


def _form(html: str, action: str) -> dict[str, str]:
    start = html.index(f'action="{action}"')
    parser = FormParser()
    parser.feed(html[html.rindex("<form", 0, start):html.index("</form>", start)])
    return dict(parser.fields)


async def _create(client: httpx.AsyncClient, url: str, events: list[str] | None = None) -> httpx.Response:
    page = await client.get(PAGE)
    assert page.status_code == 200
    csrf = _form(page.text, PAGE)["csrf"]
    return await client.post(PAGE, data={"csrf": csrf, "url": url, "events": events or list(hook_events.EVENT_TYPES)})


async def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver) -> None:
    await _sign_in(client, svc, "owner@example.com", "owner")
    page = await client.get(PAGE)
    assert "No endpoint yet." in page.text and 'href="/openapi.json"' in page.text
    r = await _create(client, receiver.url(), ["review.published", "review.withdrawn"])
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    [secret] = SECRET.findall(r.text)
    assert "it is not shown again" in r.text
    endpoint_id = await svc.pool.fetchval("SELECT id FROM webhook_endpoints")
    assert await svc.pool.fetchval("SELECT events FROM webhook_endpoints") == ["review.published", "review.withdrawn"]

    # Never again: neither the list nor the endpoint's page shows it.
    listing = await client.get(PAGE)
    assert receiver.url() in listing.text and "active" in listing.text
    assert secret not in listing.text and "whsec_" not in listing.text
    detail = await client.get(f"{PAGE}/{endpoint_id}")
    assert detail.status_code == 200 and "whsec_" not in detail.text
    assert "Nothing was sent yet." in detail.text

    # The test event button; the log shows what the endpoint answered.
    r = await client.post(f"{PAGE}/{endpoint_id}/test", data=_form(detail.text, f"{PAGE}/{endpoint_id}/test"))
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}/{endpoint_id}?done=tested"
    async with make_worker(svc) as worker:
        await worker.drain()
    event = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert event["type"] == "webhook.test"
    detail = await client.get(f"{PAGE}/{endpoint_id}?done=tested")
    assert "A test event is on its way" in detail.text
    row = re.search(r'<tr data-delivery="(\d+)">(.*?)</tr>', detail.text, re.S)
    assert row is not None
    assert "webhook.test" in row.group(2) and "HTTP 200" in row.group(2) and " ms" in row.group(2)
    assert "delivered" in row.group(2)

    # Send it again from the log.
    action = f"{PAGE}/{endpoint_id}/deliveries/{row.group(1)}/redeliver"
    r = await client.post(action, data=_form(detail.text, action))
    assert r.status_code == 303 and r.headers["location"].endswith("?done=redelivered")
    async with make_worker(svc) as worker:
        await worker.drain()
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]


async def test_rotating_shows_the_new_secret_once_and_both_sign_for_a_day(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver) -> None:
    await _sign_in(client, svc, "owner@example.com", "owner")
    [old] = SECRET.findall((await _create(client, receiver.url())).text)
    endpoint_id = await svc.pool.fetchval("SELECT id FROM webhook_endpoints")
    detail = await client.get(f"{PAGE}/{endpoint_id}")
    action = f"{PAGE}/{endpoint_id}/rotate"
    r = await client.post(action, data=_form(detail.text, action))
    assert r.status_code == 200
    [new] = SECRET.findall(r.text)
    assert new != old and "both the new and the previous secret" in r.text
    detail = await client.get(f"{PAGE}/{endpoint_id}")
    assert "whsec_" not in detail.text and "The previous secret signs too until" in detail.text
    await client.post(f"{PAGE}/{endpoint_id}/test", data=_form(detail.text, f"{PAGE}/{endpoint_id}/test"))
    async with make_worker(svc) as worker:
        await worker.drain()
    for secret in (old, new):
        Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)


async def test_only_owners_may_see_or_change_webhooks(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture) -> None:
    async with svc.pool.acquire() as conn:
        endpoint, _secret = await endpoints.create(conn, merchant[0].id, "https://shop.example/h", ["review.published"],
                                               now=svc.clock.now(), actor="test", allow_private=False)
    posts = [PAGE, f"{PAGE}/{endpoint.id}/rotate", f"{PAGE}/{endpoint.id}/delete", f"{PAGE}/{endpoint.id}/test",
             f"{PAGE}/{endpoint.id}/deliveries/1/redeliver"]
    # Signed out: to the sign-in page.
    assert (await client.get(PAGE)).status_code == 303
    for role in ("agent", "viewer"):
        await _sign_in(client, svc, f"{role}@example.com", role)
        assert (await client.get(PAGE)).status_code == 403
        assert (await client.get(f"{PAGE}/{endpoint.id}")).status_code == 403
        home = await client.get("/console/account")  # "/console" sends a user of one shop to its inbox
        csrf = _form(home.text, "/console/sign-out")["csrf"]  # a valid token of their own session
        for path in posts:
            r = await client.post(path, data={"csrf": csrf, "url": "https://evil.example/",
                                              "events": "review.published"})
            assert r.status_code == 403, (role, path)
    assert await svc.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 1
    assert await svc.pool.fetchval("SELECT secret FROM webhook_endpoints") == _secret
    # Someone of another shop does not even learn that the shop exists.
    async with svc.pool.acquire() as conn:
        await merchants.create(conn, name="Other", slug="other-shop")
    await _sign_in(client, svc, "stranger@example.com", "owner", "other-shop")
    assert (await client.get(PAGE)).status_code == 404
    assert (await client.get(f"/console/m/other-shop/developers/webhooks/{endpoint.id}")).status_code == 404


async def test_every_form_needs_its_csrf_token(client: httpx.AsyncClient, svc: Services, merchant: Fixture) -> None:
    await _sign_in(client, svc, "owner@example.com", "owner")
    r = await client.post(PAGE, data={"url": "https://shop.example/h", "events": "review.published"})
    assert r.status_code == 400
    r = await client.post(PAGE, data={"csrf": "forged", "url": "https://shop.example/h", "events": "review.published"})
    assert r.status_code == 400
    assert await svc.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 0
    async with svc.pool.acquire() as conn:
        endpoint, _secret = await endpoints.create(conn, merchant[0].id, "https://shop.example/h", ["review.published"],
                                               now=svc.clock.now(), actor="test", allow_private=False)
    for path in ("rotate", "delete", "test"):
        assert (await client.post(f"{PAGE}/{endpoint.id}/{path}", data={"confirmed": "1"})).status_code == 400
    assert await svc.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 1
    assert await svc.pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 0


async def test_refused_addresses_and_missing_events_are_said_beside_their_fields(
        client: httpx.AsyncClient, services: Services, merchant: Fixture) -> None:
    await _sign_in(client, services, "owner@example.com", "owner")
    r = await _create(client, "http://127.0.0.1:9000/hook")
    assert r.status_code == 422 and "private network" in r.text
    assert 'value="http://127.0.0.1:9000/hook"' in r.text  # kept to mend
    r = await _create(client, "ftp://shop.example/<script>")
    assert r.status_code == 422 and "must start with https://" in r.text and "<script>" not in r.text
    page = await client.get(PAGE)
    r = await client.post(PAGE, data={"csrf": _form(page.text, PAGE)["csrf"], "url": "https://shop.example/h"})
    assert r.status_code == 422 and "Choose at least one event." in r.text
    assert await services.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 0


async def test_deleting_asks_first_then_goes_with_the_log(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture) -> None:
    await _sign_in(client, svc, "owner@example.com", "owner")
    await _create(client, "https://shop.example/hooks")
    endpoint_id = await svc.pool.fetchval("SELECT id FROM webhook_endpoints")
    detail = await client.get(f"{PAGE}/{endpoint_id}")
    action = f"{PAGE}/{endpoint_id}/delete"
    ask = await client.post(action, data=_form(detail.text, action))
    assert ask.status_code == 200 and "will receive no more events" in ask.text
    assert await svc.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 1
    r = await client.post(action, data=_form(ask.text, action))
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=deleted"
    assert await svc.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 0
    assert (await client.get(f"{PAGE}/{endpoint_id}")).status_code == 404
    audit = [r["action"] for r in await svc.pool.fetch(
        "SELECT action FROM audit_log WHERE table_name = 'webhook_endpoints' ORDER BY id")]
    assert audit == ["webhooks.endpoint_created", "webhooks.endpoint_deleted"]
    assert "owner@example.com" in [r["actor"] for r in await svc.pool.fetch("SELECT actor FROM audit_log")]


async def test_the_page_escapes_and_reads_at_a_phone_width(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture) -> None:
    await _sign_in(client, svc, "owner@example.com", "owner")
    await _create(client, 'https://shop.example/h?q="><script>alert(1)</script>')
    page = await client.get(PAGE)
    assert "<script>alert(1)</script>" not in page.text
    assert 'name="viewport"' in page.text and 'class="scroll"' in page.text  # the table scrolls in its box
    assert 'aria-current="page"' in page.text.split("Developers")[0].rsplit("<li>", 1)[1]
