"""Outgoing webhooks against a real HTTP server on loopback: a signed review.published that the
standardwebhooks library verifies, retries on the worker's clock until the endpoint is marked
failing and its owner emailed once, secret rotation, redelivery, the events of each change (in
its transaction), and the address rules."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from reviews.accounts import manage as accounts
from reviews.collection import replies
from reviews.collection import store as reviews
from reviews.hooks import deliveries, endpoints, signing, urlguard
from reviews.hooks import delivery as hook_delivery
from reviews.hooks import events as hook_events
from reviews.merchants.model import Merchant
from reviews.platform.clock import FrozenClock
from reviews.platform.errors import ValidationError
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.helpers import add_review, form_of, invite
from tests.webhook_receiver import Received, Receiver, receiver

__all__ = ["receiver"]  # the fixture, used by name

Fixture = tuple[Merchant, str]


@pytest.fixture
def svc(services: Services, clock: FrozenClock) -> Services:
    """Loopback endpoints allowed (ATTEST_WEBHOOKS_ALLOW_PRIVATE), and the clock at the real time:
    the library's verify() accepts a webhook-timestamp within five minutes of now."""
    services.settings = replace(services.settings, webhooks_allow_private=True)
    clock.set(datetime.now(UTC).replace(microsecond=0))
    return services


async def _endpoint(svc: Services, merchant: Merchant, url: str,
                    events: tuple[str, ...] = hook_events.EVENT_TYPES) -> tuple[endpoints.Endpoint, str]:
    async with svc.pool.acquire() as conn:
        return await endpoints.create(conn, merchant.id, url, list(events), now=svc.clock.now(), actor="test",
                                  allow_private=True)


async def _drain(svc: Services) -> int:
    async with make_worker(svc) as worker:
        return await worker.drain()


async def _publish(svc: Services, merchant: Merchant, **kwargs: Any) -> int:
    review_id = await add_review(svc, merchant.id, 5, state="pending", **kwargs)
    async with svc.pool.acquire() as conn, conn.transaction():
        await reviews.publish(conn, review_id, svc.clock.now())
    return review_id


def _verified(secret: str, request: Received) -> Any:
    return Webhook(secret).verify(request.body, request.headers)


def _signed_by(secret: str, request: Received) -> bool:
    """The signature check without the library's five-minute window (for times the test moved to)."""
    at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(request.headers["webhook-id"], at, request.body.decode())
    return expected in request.headers["webhook-signature"].split(" ")


def _outbox(svc: Services) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(svc.settings.outbox_dir.glob("*.eml"))]


@pytest.mark.slow
async def test_a_buyers_review_reaches_the_endpoint_signed_and_verifiable(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver) -> None:
    endpoint, secret = await _endpoint(svc, merchant[0], receiver.url(), (hook_events.REVIEW_PUBLISHED,))
    assert secret.startswith("whsec_") and len(secret) > 40
    assert await svc.pool.fetchval("SELECT secret FROM webhook_endpoints") == secret  # kept to sign with

    # The whole path: an order, the buyer's form, the scan that publishes, the worker that posts.
    path = await invite(client, svc, merchant[1], occurred_at=svc.clock.now().isoformat(),
                        email="anna.kowalska@example.com")
    form = await form_of(client, path)
    r = await client.post(path, data={**form.fields, "rating_0": "5", "title_0": "Comfortable",
                                      "body_0": "Light, comfortable and they grip well on wet rock."})
    assert r.status_code == 200
    await _drain(svc)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", "/hooks/attest")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["webhook-signature"].startswith("v1,")
    event = _verified(secret, request)
    review = await svc.pool.fetchrow("SELECT * FROM reviews WHERE product_id = 'SKU-1'")
    assert review is not None
    assert event["type"] == "review.published"
    assert datetime.fromisoformat(event["timestamp"]) == svc.clock.now()
    data = event["data"]
    assert data["id"] == review["id"] and data["merchant"] == "demo-shop" and data["product_id"] == "SKU-1"
    assert (data["rating"], data["title"], data["body"]) == (5, "Comfortable",
                                                             "Light, comfortable and they grip well on wet rock.")
    assert data["display_name"] == "Anna K." and data["state"] == "published" and data["verified"] is True
    assert data["submitted_at"] and data["published_at"] and data["reply"] is None
    # Never the buyer's address nor their hashes.
    raw = request.body.decode()
    assert "anna.kowalska" not in raw and "Kowalska" not in raw
    for secret_value in (review["ip_hash"], review["author_hash"]):
        assert secret_value is None or secret_value not in raw
    # A wrong secret does not verify.
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(request.body, request.headers)

    delivery = (await deliveries.deliveries(svc.pool, merchant[0].id, endpoint.id))[0]
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.last_ms is not None and delivery.msg_id == request.headers["webhook-id"]


@pytest.mark.slow
async def test_retries_back_off_then_the_endpoint_fails_and_its_owner_is_emailed_once(
        svc: Services, merchant: Fixture, receiver: Receiver, clock: FrozenClock) -> None:
    shop = merchant[0]
    await accounts.invite(svc, "owner@example.com", "owner", shop.slug, actor="test")
    await accounts.invite(svc, "agent@example.com", "agent", shop.slug, actor="test")
    endpoint, _secret = await _endpoint(svc, shop, receiver.url())
    receiver.status = 500
    await _publish(svc, shop)
    await _drain(svc)
    assert len(receiver.requests) == 1
    [delivery] = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500: it broke"
    assert delivery.next_attempt_at == clock.now() + timedelta(minutes=1)

    clock.advance(seconds=59)
    await _drain(svc)
    assert len(receiver.requests) == 1  # not before its time
    waits = [timedelta(seconds=1), *deliveries.RETRY_SCHEDULE[1:]]
    for n, wait in enumerate(waits, start=2):
        clock.advance(wait)
        await _drain(svc)
        assert len(receiver.requests) == n
    # Every attempt is the same message: the same id and body, a fresh timestamp.
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert len({r.headers["webhook-timestamp"] for r in receiver.requests}) == len(receiver.requests)
    assert sum(deliveries.RETRY_SCHEDULE, timedelta()) > timedelta(hours=20)  # about a day

    [delivery] = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)
    failing = await endpoints.endpoint(svc.pool, shop.id, endpoint.id)
    assert failing is not None and failing.state == "failing" and failing.failing_since == clock.now()
    assert await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE state = 'dead'") == 0
    notices = [m for m in _outbox(svc) if "failing" in str(m["Subject"])]
    assert [m["To"] for m in notices] == ["owner@example.com"]  # owners only
    text = notices[0].get_body().get_content()  # type: ignore[union-attr]
    assert receiver.url() in text and "HTTP 500" in text
    assert f"http://testserver/console/m/demo-shop/developers/webhooks/{endpoint.id}" in text

    # A second event that runs out too: still failing, nobody is emailed again.
    await _publish(svc, shop)
    for wait in (timedelta(0), *deliveries.RETRY_SCHEDULE):
        clock.advance(wait)
        await _drain(svc)
    assert len([m for m in _outbox(svc) if "failing" in str(m["Subject"])]) == 1

    # It works again: the next delivery makes it active, and a later failure would tell again.
    receiver.status = 204
    await _publish(svc, shop)
    await _drain(svc)
    again = await endpoints.endpoint(svc.pool, shop.id, endpoint.id)
    assert again is not None and (again.state, again.failing_since) == ("active", None)
    assert await svc.pool.fetchval("SELECT failure_notified_at FROM webhook_endpoints") is None


async def test_after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new_one(
        svc: Services, merchant: Fixture, receiver: Receiver, clock: FrozenClock) -> None:
    shop = merchant[0]
    endpoint, old = await _endpoint(svc, shop, receiver.url())
    async with svc.pool.acquire() as conn:
        new = await endpoints.rotate(conn, shop.id, endpoint.id, now=clock.now(), actor="test")
        assert new is not None and new != old and new.startswith("whsec_")
        await deliveries.send_test(conn, shop.id, shop.slug, endpoint.id, now=clock.now())
    await _drain(svc)
    during = receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert _verified(old, during)["type"] == "webhook.test"
    assert _verified(new, during)["data"]["merchant"] == "demo-shop"

    clock.advance(hours=23, minutes=59)
    await _publish(svc, shop)
    await _drain(svc)
    assert _signed_by(old, receiver.requests[-1]) and _signed_by(new, receiver.requests[-1])

    clock.advance(minutes=1)
    await _publish(svc, shop)
    await _drain(svc)
    after = receiver.requests[-1]
    assert after.headers["webhook-signature"].count("v1,") == 1
    assert _signed_by(new, after) and not _signed_by(old, after)
    assert await svc.pool.fetchval("SELECT previous_secret FROM webhook_endpoints") is None  # forgotten


async def test_a_delivery_is_sent_again_on_request_with_the_same_id(
        svc: Services, merchant: Fixture, receiver: Receiver, clock: FrozenClock) -> None:
    shop = merchant[0]
    endpoint, secret = await _endpoint(svc, shop, receiver.url())
    receiver.status = 503
    await _publish(svc, shop)
    await _drain(svc)
    [delivery] = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert delivery.state == "pending"

    # The endpoint is mended; the owner does not wait for the next retry.
    receiver.status = 200
    async with svc.pool.acquire() as conn:
        assert await deliveries.redeliver(conn, shop.id, endpoint.id, delivery.id, now=clock.now())
        assert not await deliveries.redeliver(conn, shop.id + 1, endpoint.id, delivery.id, now=clock.now())
    await _drain(svc)
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    assert _verified(secret, second)["type"] == "review.published"
    [delivery] = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    # The retry that was waiting finds it delivered and sends nothing.
    clock.advance(minutes=2)
    await _drain(svc)
    assert len(receiver.requests) == 2

    # A delivered one can be sent again too; a failed redelivery does not undo "delivered".
    receiver.status = 500
    async with svc.pool.acquire() as conn:
        assert await deliveries.redeliver(conn, shop.id, endpoint.id, delivery.id, now=clock.now())
    await _drain(svc)
    [delivery] = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert len(receiver.requests) == 3 and (delivery.state, delivery.attempts, delivery.last_status) == (
        "delivered", 3, 500)
    assert await svc.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'queued'",
                                   deliveries.DELIVER_JOB) == 0


@pytest.mark.slow
async def test_each_change_emits_its_event_in_its_own_transaction(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver) -> None:
    shop = merchant[0]
    await _endpoint(svc, shop, receiver.url())
    other = await _endpoint(svc, shop, receiver.url("/only-withdrawn"), (hook_events.REVIEW_WITHDRAWN,))

    # A change rolled back sends nothing.
    review_id = await add_review(svc, shop.id, 4, state="pending")
    with pytest.raises(RuntimeError):
        async with svc.pool.acquire() as conn, conn.transaction():
            await reviews.publish(conn, review_id, svc.clock.now())
            raise RuntimeError("rolled back")
    assert await svc.pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 0

    now = svc.clock.now()
    async with svc.pool.acquire() as conn:
        async with conn.transaction():
            await reviews.publish(conn, review_id, now)
            await reviews.publish(conn, review_id, now)  # already published: no second event
        async with conn.transaction():
            await reviews.hold(conn, review_id, now)  # a public review taken down
        async with conn.transaction():
            before = await reviews.lock_for_decision(conn, review_id)
            assert before is not None
            await reviews.publish_decided(conn, review_id, now)
        await replies.save(conn, merchant_id=shop.id, review_id=review_id, text="Thank you, Anna!",
                           author="owner@example.com", user_id=None, now=now)
        async with conn.transaction():
            await reviews.withdraw(conn, review_id, now)
    await _drain(svc)
    mine = [json.loads(r.body) for r in receiver.requests if r.path == "/hooks/attest"]
    assert [(e["type"], e["data"]["state"]) for e in mine] == [
        ("review.published", "published"), ("review.updated", "held"), ("review.published", "published"),
        ("review.replied", "published"), ("review.withdrawn", "withdrawn")]
    assert mine[3]["data"]["reply"]["body"] == "Thank you, Anna!"
    assert mine[4]["data"]["reply"]["body"] == "Thank you, Anna!"  # every event carries the reply
    only = [json.loads(r.body)["type"] for r in receiver.requests if r.path == "/only-withdrawn"]
    assert only == ["review.withdrawn"]  # subscriptions are kept
    assert other[0].events == ["review.withdrawn"]

    # The buyer's edit of a published review, through their link.
    receiver.requests.clear()
    path = await invite(client, svc, merchant[1], occurred_at=svc.clock.now().isoformat(), order_id="B-2")
    form = await form_of(client, path)
    await client.post(path, data={**form.fields, "rating_0": "2", "body_0": "The soles came apart after a week."})
    await _drain(svc)
    form = await form_of(client, path)
    await client.post(path, data={**form.fields, "rating_0": "4", "body_0": "The shop replaced them, fine now."})
    await _drain(svc)
    events = [(e["type"], e["data"]["state"], e["data"]["rating"])
              for e in (json.loads(r.body) for r in receiver.requests if r.path == "/hooks/attest")]
    assert events == [("review.published", "published", 2), ("review.updated", "pending", 4),
                      ("review.published", "published", 4)]


async def test_an_erased_buyer_is_forgotten_by_the_log_too(
        svc: Services, merchant: Fixture, receiver: Receiver, clock: FrozenClock) -> None:
    shop = merchant[0]
    endpoint, _secret = await _endpoint(svc, shop, receiver.url())
    receiver.status = 500
    review_id = await _publish(svc, shop, title="Anna's shoes", body="Anna Kowalska from Kraków loves them.")
    await _drain(svc)
    async with svc.pool.acquire() as conn, conn.transaction():
        await reviews.erase(conn, [review_id], svc.clock.now())
    rows = await svc.pool.fetch("SELECT event_type, state, body FROM webhook_deliveries ORDER BY id")
    assert [(r["event_type"], r["state"], r["body"] is None) for r in rows] == [
        ("review.published", "erased", True), ("review.withdrawn", "pending", False)]
    withdrawn = json.loads(rows[1]["body"])["data"]
    assert (withdrawn["title"], withdrawn["body"], withdrawn["display_name"]) == ("", "", "")
    assert "Kowalska" not in rows[1]["body"]
    receiver.status = 200
    clock.advance(minutes=1)
    await _drain(svc)
    assert [json.loads(r.body)["type"] for r in receiver.requests[1:]] == ["review.withdrawn"]
    log = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert [d.state for d in log] == ["delivered", "erased"]
    async with svc.pool.acquire() as conn:
        assert not await deliveries.redeliver(conn, shop.id, endpoint.id, log[1].id, now=svc.clock.now())


@pytest.mark.parametrize("url", [
    "ftp://shop.example/hook", "javascript:alert(1)", "shop.example/hook", "http://localhost:8000/hook",
    "http://127.0.0.1/hook", "http://[::1]/hook", "http://10.1.2.3/hook", "http://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://100.64.0.1/", "https://user:secret@shop.example/hook", "http://printer.local/",
    "https://shop.example/" + "a" * 2000,
    # IPv6 forms that carry a private IPv4 address: IPv4-compatible, NAT64 (both prefixes), 6to4, Teredo
    "http://[::127.0.0.1]/", "http://[::10.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[64:ff9b:1::a00:1]/",
    "http://[2002:7f00:1::]/", "http://[2002:c0a8:0001::1]/", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
    # impossible ports, and a host that is no valid IDNA name
    "http://93.184.215.14:70000/h", "http://93.184.215.14:0/h", "https://xn--zz.example/",
])
def test_addresses_that_are_not_public_http_are_refused(url: str) -> None:
    with pytest.raises(urlguard.Refused):
        urlguard.check_url(url, allow_private=False)


def test_public_addresses_are_accepted_and_private_ones_with_the_setting() -> None:
    assert str(urlguard.check_url(" https://shop.example/hooks/attest?x=1 ", allow_private=False)) == \
        "https://shop.example/hooks/attest?x=1"
    assert str(urlguard.check_url("http://93.184.215.14:8080/h", allow_private=False)) == "http://93.184.215.14:8080/h"
    assert str(urlguard.check_url("http://127.0.0.1:9/h", allow_private=True)) == "http://127.0.0.1:9/h"
    # IPv6 that carries a public IPv4 address (NAT64 of 93.184.215.14), and plain global IPv6
    assert urlguard.check_url("http://[64:ff9b::5db8:d70e]/h", allow_private=False).host == "64:ff9b::5db8:d70e"
    assert urlguard.check_url("https://[2606:4700::1111]:65535/h", allow_private=False).port == 65535
    with pytest.raises(urlguard.Refused):
        urlguard.check_url("ftp://127.0.0.1/h", allow_private=True)


async def test_creating_checks_the_address_events_and_limit(svc: Services, merchant: Fixture) -> None:
    shop = merchant[0]
    async with svc.pool.acquire() as conn:
        with pytest.raises(endpoints.EndpointInvalid) as refused:
            await endpoints.create(conn, shop.id, "http://127.0.0.1:9/h", ["review.published"], now=svc.clock.now(),
                               actor="test", allow_private=False)
        assert refused.value.codes == {"url": "private"}
        with pytest.raises(endpoints.EndpointInvalid) as bad_idna:  # once an IDNAError and a 500
            await endpoints.create(conn, shop.id, "https://xn--zz.example/", ["review.published"],
                                   now=svc.clock.now(), actor="test", allow_private=False)
        assert bad_idna.value.codes == {"url": "not_url"}
        with pytest.raises(ValidationError) as no_events:
            await endpoints.create(conn, shop.id, "https://shop.example/h", ["review.deleted"], now=svc.clock.now(),
                               actor="test", allow_private=False)
        assert set(no_events.value.fields) == {"events"}
        for n in range(endpoints.MAX_ENDPOINTS):
            await endpoints.create(conn, shop.id, f"https://shop.example/h{n}", ["review.published"],
                               now=svc.clock.now(), actor="test", allow_private=False)
        with pytest.raises(endpoints.EndpointInvalid) as limit:
            await endpoints.create(conn, shop.id, "https://shop.example/more", ["review.published"],
                               now=svc.clock.now(), actor="test", allow_private=False)
        assert limit.value.codes == {"url": "limit"}
    actions = await svc.pool.fetch("SELECT action FROM audit_log WHERE table_name = 'webhook_endpoints'")
    assert len(actions) == endpoints.MAX_ENDPOINTS


async def test_at_sending_time_a_private_address_is_refused_and_redirects_are_not_followed(
        svc: Services, merchant: Fixture, receiver: Receiver) -> None:
    shop = merchant[0]
    endpoint, _secret = await _endpoint(svc, shop, receiver.url())
    svc.settings = replace(svc.settings, webhooks_allow_private=False)
    await _publish(svc, shop)
    await _drain(svc)
    assert receiver.requests == []
    [delivery] = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert delivery.last_status is None and delivery.last_error is not None
    assert delivery.last_error.startswith("address refused")

    svc.settings = replace(svc.settings, webhooks_allow_private=True)
    receiver.status, receiver.extra_headers = 302, {"Location": "http://169.254.169.254/"}
    async with svc.pool.acquire() as conn:
        await deliveries.redeliver(conn, shop.id, endpoint.id, delivery.id, now=svc.clock.now())
    await _drain(svc)
    assert len(receiver.requests) == 1  # the redirect was not followed
    [delivery] = await deliveries.deliveries(svc.pool, shop.id, endpoint.id)
    assert delivery.last_status == 302 and delivery.state == "pending"


async def test_a_slow_endpoint_times_out(svc: Services, merchant: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(1)
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(hook_delivery, "TIMEOUT", httpx.Timeout(0.3))
    try:
        endpoint, _secret = await _endpoint(svc, merchant[0], f"http://127.0.0.1:{port}/slow")
        await _publish(svc, merchant[0])
        await _drain(svc)
    finally:
        server.close()
    [delivery] = await deliveries.deliveries(svc.pool, merchant[0].id, endpoint.id)
    assert delivery.state == "pending" and delivery.last_status is None
    assert delivery.last_error and "Timeout" in delivery.last_error


async def test_the_openapi_document_describes_every_event(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert set(document["webhooks"]) == {*hook_events.EVENT_TYPES, hook_events.TEST_EVENT}
    published = document["webhooks"]["review.published"]["post"]
    assert {p["name"] for p in published["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    ref = published["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["properties"]["type"]["const"] == "review.published"
    data = document["components"]["schemas"]["ReviewEventData"]["properties"]
    assert {"id", "merchant", "product_id", "rating", "title", "body", "display_name", "submitted_at",
            "published_at", "state", "verified", "reply"} <= set(data)
    assert not {"email", "author_email", "ip_hash", "author_hash"} & set(data)
