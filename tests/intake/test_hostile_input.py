"""What an attacker or a broken client sends: each gets the right 4xx with its reason, nothing is
stored, never a 500 (issue 14's probes)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from reviews.invitations.sending import build_message
from reviews.merchants.model import Merchant
from reviews.merchants.store import by_id
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.helpers import auth, form_of, invite, order_event

Fixture = tuple[Merchant, str]


async def stored(services: Services) -> tuple[int, int]:
    return (await services.pool.fetchval("SELECT count(*) FROM orders"),
            await services.pool.fetchval("SELECT count(*) FROM invitations"))


@pytest.mark.parametrize("address", ["a..b@example.com", "a,b@example.com", "(a)@example.com", "x@example.com.",
                                     "x>,<victim@evil.example", "anna@localhost"])
async def test_addresses_that_can_never_be_mailed_are_refused(client: httpx.AsyncClient, merchant: Fixture,
                                                              services: Services, address: str) -> None:
    _, key = merchant
    r = await client.post("/api/v1/orders", json=order_event(email=address), headers=auth(key))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"]["customer.email"].startswith("is not an address we can mail: ")
    assert await stored(services) == (0, 0)


async def test_international_addresses_go_out_when_they_can(client: httpx.AsyncClient, merchant: Fixture,
                                                            services: Services) -> None:
    _, key = merchant
    for n, address in enumerate(["ünïcode@example.com", "用户@例子.广告", "anna@bücher.de"]):
        r = await client.post("/api/v1/orders", json=order_event(f"I-{n}", email=address), headers=auth(key))
        assert r.status_code == 200 and r.json()["invitation"]["state"] == "scheduled", r.text
    assert await make_worker(services).drain() == 3
    states = await services.pool.fetch("SELECT state, reason FROM invitations ORDER BY id")
    assert [(s["state"], s["reason"]) for s in states] == [("sent", None)] * 3  # into the outbox
    row = await services.pool.fetchrow(
        "SELECT i.*, o.id AS oid FROM invitations i JOIN orders o ON o.id = i.order_id WHERE o.external_id = 'I-2'")
    order = await services.pool.fetchrow("SELECT * FROM orders WHERE id = $1", row["oid"])
    shop = await by_id(services.pool, row["merchant_id"])
    assert shop is not None
    message = await build_message(services, services.pool, shop, row, order, "invitation")
    assert message.addresses["to"][0].addr_spec == "anna@xn--bcher-kva.de"  # IDNA: no SMTPUTF8 needed
    assert not message.smtputf8


async def test_without_smtputf8_a_non_ascii_local_part_is_refused_with_the_reason(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    services.settings = replace(services.settings, smtputf8=False)  # type: ignore[misc]
    _, key = merchant
    r = await client.post("/api/v1/orders", json=order_event(email="ünïcode@example.com"), headers=auth(key))
    assert r.status_code == 422
    assert "before the @-sign are not supported" in r.json()["error"]["fields"]["customer.email"]
    ok = await client.post("/api/v1/orders", json=order_event("B", email="anna@bücher.de"), headers=auth(key))
    assert ok.status_code == 200


async def test_a_reply_to_that_would_inject_a_recipient_is_refused(client: httpx.AsyncClient, merchant: Fixture,
                                                                   services: Services) -> None:
    _, key = merchant
    r = await client.patch("/api/v1/merchant/settings", json={"reply_to": "x>,<victim@evil.example"},
                           headers=auth(key))
    assert r.status_code == 422 and "reply_to" in r.json()["error"]["fields"]
    settings: dict[str, Any] = await services.pool.fetchval("SELECT settings FROM merchants")
    assert "reply_to" not in settings


async def test_an_address_stored_before_it_was_checked_is_skipped_not_retried(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    _, key = merchant
    assert (await client.post("/api/v1/orders", json=order_event(), headers=auth(key))).status_code == 200
    await services.pool.execute("UPDATE orders SET buyer_email = 'a..b@example.com'")
    await make_worker(services).drain()
    row = await services.pool.fetchrow("SELECT state, reason FROM invitations")
    assert (row["state"], row["reason"]) == ("skipped", "invalid_address")
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE state <> 'done'") == 0


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(("path", "value", "field"), [
    ("order_id", "A\x001", "order_id"),
    ("customer.name", "Anna\x00", "customer.name"),
    ("products.0.name", "Shoes\ud800", "products.0.name"),
    ("order_id", float("nan"), "order_id"),
    ("order_id", float("inf"), "order_id"),
    ("order_id", 1.5, "order_id"),
    ("occurred_at", "9999-12-31T23:59:59-05:00", "occurred_at"),
    ("occurred_at", "0001-01-01T00:00:00+05:00", "occurred_at"),
    ("occurred_at", "2100-01-01T00:00:00Z", "occurred_at"),
    ("customer.timezone", "Mars/Olympus_Mons", "customer.timezone"),
])
async def test_values_that_cannot_be_stored_are_field_errors(client: httpx.AsyncClient, merchant: Fixture,
                                                             services: Services, path: str, value: Any,
                                                             field: str) -> None:
    body = json.dumps(_with(order_event(), path, value), allow_nan=True)
    r = await client.post("/api/v1/orders", content=body, headers={**auth(merchant[1]),
                                                                   "content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["fields"] or "" in r.json()["error"]["fields"]
    assert await stored(services) == (0, 0)


@pytest.mark.parametrize("body", [
    '{"order_id": ' + "9" * 5000 + "}",
    '{"order_id": 1e400, "status": "placed"}',
    "[" * 1000 + "]" * 1000,
    '{"order_id": NaN}',
])
async def test_json_that_json_loads_chokes_on_is_a_422(client: httpx.AsyncClient, merchant: Fixture,
                                                       services: Services, body: str) -> None:
    r = await client.post("/api/v1/orders", content=body, headers={**auth(merchant[1]),
                                                                   "content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid"
    assert await stored(services) == (0, 0)


async def test_guessing_api_keys_is_refused_after_a_few(client: httpx.AsyncClient, merchant: Fixture) -> None:
    answers = [(await client.get("/api/v1/merchant", headers=auth(f"atk_wrong{n}"))).status_code for n in range(25)]
    assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}
    refused = await client.get("/api/v1/merchant", headers=auth("atk_wrong"))
    assert int(refused.headers["retry-after"]) > 0
    # The shop's own key still works from the same address.
    assert (await client.get("/api/v1/merchant", headers=auth(merchant[1]))).status_code == 200


async def test_a_page_answering_405_names_the_methods_allowed(client: httpx.AsyncClient) -> None:
    r = await client.put("/verification")
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    assert "text/html" in r.headers["content-type"]


async def test_a_review_form_over_the_limit_is_a_413_page(client: httpx.AsyncClient, merchant: Fixture,
                                                          services: Services) -> None:

    path = await invite(client, services, merchant[1])
    form = await form_of(client, path)
    r = await client.post(path, data={**form.fields, "rating_0": "5", "body_0": "x" * 1_100_000})
    assert r.status_code == 413 and "too large" in r.text
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0
