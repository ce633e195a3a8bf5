import json

import httpx

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.conftest import METRICS_HEADERS
from tests.helpers import auth, order_event

Fixture = tuple[Merchant, str]


async def count(services: Services, table: str) -> int:
    return await services.pool.fetchval(f"SELECT count(*) FROM {table}")


async def test_fulfilled_order_with_consent_schedules_one_invitation(client: httpx.AsyncClient, merchant: Fixture,
                                                                     services: Services) -> None:
    _, key = merchant
    r = await client.post("/api/v1/orders", json=order_event(), headers=auth(key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["invitation"]["state"] == "scheduled"
    # Delay 0: due at the event time, or now if that has passed.
    assert body["invitation"]["send_at"].startswith("2026-01-05T10:00")
    assert await count(services, "invitations") == 1
    assert await count(services, "order_items") == 2
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'send_invitation'") == 1


async def test_invite_delay_is_counted_from_fulfilment(client: httpx.AsyncClient, services: Services) -> None:
    from reviews.merchants import store as merchants

    async with services.pool.acquire() as conn:
        _, key = await merchants.create(conn, name="Slow Shop", settings={"invite_delay_days": 7})
    r = await client.post("/api/v1/orders", json=order_event(occurred_at="2026-01-05T09:30:00Z"), headers=auth(key))
    assert r.json()["invitation"]["send_at"] == "2026-01-12T09:30:00+00:00"


async def test_repeated_event_changes_nothing_and_gets_the_same_answer(client: httpx.AsyncClient,
                                                                       merchant: Fixture, services: Services) -> None:
    _, key = merchant
    first = await client.post("/api/v1/orders", json=order_event(), headers=auth(key))
    snapshot = [await count(services, t) for t in ("orders", "order_events", "invitations", "jobs")]
    services.clock.advance(hours=3)
    again = await client.post("/api/v1/orders", json=order_event(), headers=auth(key))
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert [await count(services, t) for t in ("orders", "order_events", "invitations", "jobs")] == snapshot


async def test_cancel_before_sending_cancels_the_invitation(client: httpx.AsyncClient, merchant: Fixture,
                                                           services: Services) -> None:
    _, key = merchant
    await client.post("/api/v1/orders", json=order_event(), headers=auth(key))
    r = await client.post("/api/v1/orders", json=order_event(status="refunded", products=[]), headers=auth(key))
    assert r.status_code == 200
    assert r.json()["invitation"] == {"state": "cancelled", "reason": "order_refunded", "send_at": r.json()[
        "invitation"]["send_at"]}
    assert r.json()["order_status"] == "refunded"


async def test_no_consent_is_recorded_but_never_invited(client: httpx.AsyncClient, merchant: Fixture) -> None:
    _, key = merchant
    r = await client.post("/api/v1/orders", json=order_event(consent=False), headers=auth(key))
    assert r.json()["invitation"]["state"] == "skipped"
    assert r.json()["invitation"]["reason"] == "no_consent"
    r = await client.post("/api/v1/orders", json=order_event("A-2", consent=None), headers=auth(key))
    assert r.json()["invitation"]["reason"] == "consent_unknown"


async def test_placed_event_does_not_invite(client: httpx.AsyncClient, merchant: Fixture) -> None:
    _, key = merchant
    r = await client.post("/api/v1/orders", json=order_event(status="placed"), headers=auth(key))
    assert r.status_code == 200
    assert r.json()["invitation"] is None


async def test_missing_or_wrong_key_is_401_and_stores_nothing(client: httpx.AsyncClient, merchant: Fixture,
                                                             services: Services) -> None:
    r = await client.post("/api/v1/orders", json=order_event())
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    r = await client.post("/api/v1/orders", json=order_event(), headers=auth("atk_not-a-real-key"))
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message", "fields"}
    assert await count(services, "orders") == 0


async def test_bad_body_is_422_with_every_field_error(client: httpx.AsyncClient, merchant: Fixture,
                                                     services: Services) -> None:
    _, key = merchant
    bad = order_event(status="shipped", occurred_at="yesterday", email="not-an-email")
    bad["consent"] = "yes"
    bad["products"] = [{"id": "X"}, {"name": "no id"}, {"id": "Y", "name": "y", "url": "javascript:alert(1)"}]
    r = await client.post("/api/v1/orders", json=bad, headers=auth(key))
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    assert set(fields) >= {"status", "occurred_at", "customer.email", "consent", "products.0.name",
                           "products.1.id", "products.2.url"}
    assert await count(services, "orders") == 0


async def test_invalid_json_is_422(client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    _, key = merchant
    r = await client.post("/api/v1/orders", content=b"{not json", headers={**auth(key),
                                                                            "content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"
    r = await client.post("/api/v1/orders", json=[1, 2], headers=auth(key))
    assert r.status_code == 422


async def test_body_over_one_megabyte_is_413(client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    _, key = merchant
    event = order_event()
    event["products"][0]["name"] = "x" * (1024 * 1024)
    r = await client.post("/api/v1/orders", content=json.dumps(event).encode(),
                          headers={**auth(key), "content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert await count(services, "orders") == 0


async def test_keys_are_stored_hashed(merchant: Fixture, services: Services) -> None:
    _, key = merchant
    rows = await services.pool.fetch("SELECT key_hash, prefix FROM api_keys")
    assert len(rows) == 1
    assert key not in rows[0]["key_hash"]
    assert key.startswith(rows[0]["prefix"])


async def test_one_merchant_cannot_touch_another_merchants_order(client: httpx.AsyncClient, merchant: Fixture,
                                                                 services: Services) -> None:
    from reviews.merchants import store as merchants

    _, key = merchant
    async with services.pool.acquire() as conn:
        _, other_key = await merchants.create(conn, name="Other Shop")
    await client.post("/api/v1/orders", json=order_event(), headers=auth(key))
    # The same external order id from another shop is another order, not a cancellation of ours.
    r = await client.post("/api/v1/orders", json=order_event(status="cancelled", products=[]), headers=auth(other_key))
    assert r.status_code == 200
    states = await services.pool.fetch("SELECT state FROM invitations")
    assert [s["state"] for s in states] == ["scheduled"]


async def test_healthz_checks_the_database(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


async def test_unknown_api_path_is_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/orders" in doc["paths"]


async def test_metrics_count_requests_by_route_and_report_the_queue(client: httpx.AsyncClient, merchant: Fixture,
                                                                    services: Services) -> None:
    _, key = merchant
    await client.post("/api/v1/orders", json=order_event(), headers=auth(key))
    services.clock.advance(minutes=5)
    r = await client.get("/metrics", headers=METRICS_HEADERS)
    assert r.status_code == 200
    text = r.text
    assert 'attest_http_requests_total{method="POST",route="/api/v1/orders",status="200"}' in text
    assert 'attest_jobs{kind="send_invitation",state="queued"} 1.0' in text
    assert "attest_jobs_oldest_due_seconds 300.0" in text
    assert 'attest_invitations{state="scheduled"} 1.0' in text
