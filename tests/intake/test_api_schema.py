"""The API against its own /openapi.json: schemathesis generates requests from the document, valid
and invalid, and checks the answers. No 5xx; each answer's status, content type, headers and body
are the ones documented; a request the schema allows is accepted, one it forbids is refused."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from starlette.applications import Starlette

from reviews.app import create_app
from reviews.merchants import settings as merchant_settings
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import bodies
from reviews.platform.clock import Clock
from reviews.platform.settings import Settings
from reviews.runtime import open_services
from tests.helpers import auth, order_event

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

# Not `ignored_auth`: its probes send wrong keys with each case, and after 20 of them from one address
# the key-guessing limit answers 429, as it should, which that check counts as a failure. The 401s
# and the limit have their own tests (test_orders_api.py, test_hostile_input.py).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, positive_data_acceptance, negative_data_rejection, missing_required_header,
          unsupported_method]
# Per operation and mode: enough to find what is wrong in a few seconds, and the same cases each run.
MAX_EXAMPLES = 40

App = tuple[Starlette, dict[str, str]]


@contextlib.contextmanager
def _app_of_its_own(settings: Settings) -> Iterator[App]:
    """The app, and the headers of a real key of a real merchant, both made in the app's lifespan.

    schemathesis drives an ASGI app from an event loop in a thread of its own, while the suite's
    `services` fixture holds an asyncpg pool bound to pytest-asyncio's loop, and a pool only works
    in the loop that made it. So this app opens its own services in its lifespan, which schemathesis
    runs in its loop, on the test's own database (`settings`). A real clock: the generated dates are
    checked against today.
    """
    headers: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, clock=Clock()) as svc:
            app.state.services = svc
            async with svc.pool.acquire() as conn:
                _, key = await merchants.create(conn, name="Schema Shop", slug="schema-shop",
                                                settings={"invite_delay_days": 0})
            headers.update(auth(key))
            yield

    app = create_app()
    app.router.lifespan_context = lifespan
    try:
        yield app, headers
    finally:
        asgi.shutdown_lifespans()  # closes the pool before the test's database is dropped


def _schema(app: Starlette, *phases: str) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.phases.update(phases=list(phases))
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
    return schema


@pytest.fixture
def api_app(settings: Settings) -> Iterator[App]:
    with _app_of_its_own(settings) as app:
        yield app


@pytest.fixture
def generated(api_app: App) -> Any:
    return _schema(api_app[0], "examples", "fuzzing")


@pytest.fixture
def boundaries(api_app: App) -> Any:
    # The coverage phase: each keyword's edges (lengths, bounds, every enum value, each type swapped,
    # each required field left out) and the methods no route has. Thorough and slow: its long strings
    # are drawn a character at a time.
    return _schema(api_app[0], "coverage")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's fixture-loaded schemas read and write pytest's private `Node._nodeid`,
    # which pytest 9 no longer has; giving them one is all they need.
    request.node._nodeid = request.node.nodeid


def _within_what_no_schema_can_say(case: schemathesis.Case) -> None:
    """Bring a valid body within the rules JSON Schema cannot state, which the schema's descriptions
    name and other tests check: a product id once per order, an event at most 60 days ahead, a send
    window that starts before it ends. Invalid bodies are sent as generated."""
    body = case.body
    if case.meta is None or not case.meta.generation.mode.is_positive or not isinstance(body, dict):
        return
    if case.path == "/api/v1/orders":
        seen: set[str] = set()
        for i, product in enumerate(body.get("products") or []):
            while str(product["id"]).strip() in seen:
                product["id"] = f"{product['id']}-{i}"[-200:]
            seen.add(str(product["id"]).strip())
        # The pattern takes a lower-case z too, which fromisoformat does not.
        when = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", body["occurred_at"].strip()))
        if when.replace(tzinfo=when.tzinfo or UTC) > datetime.now(UTC) + timedelta(days=59):
            body["occurred_at"] = datetime.now(UTC).isoformat()
    if case.path == "/api/v1/merchant/settings":
        window = (body.get("send_window") or "").strip()
        if len(window) == 11 and window[:5] >= window[6:]:
            body["send_window"] = "09:00-20:00"


def _call(case: schemathesis.Case, headers: dict[str, str]) -> None:
    _within_what_no_schema_can_say(case)
    case.call_and_validate(headers=headers, checks=CHECKS)


schema = schemathesis.pytest.from_fixture("generated")
edges = schemathesis.pytest.from_fixture("boundaries")


@schema.parametrize()
def test_the_api_does_what_its_schema_says(case: schemathesis.Case, api_app: App) -> None:
    _call(case, api_app[1])


@pytest.mark.slow
@edges.parametrize()
def test_the_api_does_what_its_schema_says_at_the_edges(case: schemathesis.Case, api_app: App) -> None:
    _call(case, api_app[1])


# What schemathesis found first: the hand-written schema said a string order_id, while the API also
# took a number, and allowed an empty one, which the API refused.

async def test_an_order_id_may_be_a_number_but_never_empty(client: httpx.AsyncClient,
                                                          merchant: tuple[Merchant, str]) -> None:
    _, key = merchant
    r = await client.post("/api/v1/orders", json=order_event(1001), headers=auth(key))  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    assert r.json()["order_id"] == "1001"
    for empty in ("", "   "):
        r = await client.post("/api/v1/orders", json=order_event(empty), headers=auth(key))
        assert r.status_code == 422
        assert r.json()["error"]["fields"] == {"order_id": "is required"}

    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    order_id = schemas["OrderEventBody"]["properties"]["order_id"]
    assert set(order_id["type"]) == {"string", "integer"}
    assert order_id["minLength"] == 1 and order_id["minimum"] == 0
    assert "order_id" in schemas["OrderEventBody"]["required"]


async def test_the_settings_schema_names_every_setting(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    patch = schemas["SettingsPatch"]
    assert set(patch["properties"]) == {*merchant_settings.DEFAULT_SETTINGS, *merchant_settings.IDENTITY}
    assert patch["additionalProperties"] is False


async def test_a_settings_patch_takes_json_types_and_names_each_refusal(
        client: httpx.AsyncClient, merchant: tuple[Merchant, str]) -> None:
    _, key = merchant
    r = await client.patch("/api/v1/merchant/settings", headers=auth(key), json={
        "invite_delay_days": "3", "require_consent": "yes", "sender_name": 5, "logo_url": "https://x\x00",
        "colour": "#fff"})
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == {
        "invite_delay_days": "must be a whole number of days", "require_consent": "must be true or false",
        "sender_name": "must be a string", "logo_url": "must not contain NUL characters",
        "colour": "unknown setting"}
    r = await client.patch("/api/v1/merchant/settings", headers=auth(key),
                           json={"invite_delay_days": 3.0, "sender_name": None, "send_window": " 09:00-20:00 "})
    assert r.status_code == 200, r.text
    settings = r.json()["settings"]
    assert (settings["invite_delay_days"], settings["sender_name"], settings["send_window"]) == (3, None,
                                                                                                 "09:00-20:00")


def test_the_schemas_blanks_are_the_ones_the_api_trims() -> None:
    spelled = re.compile(f"[{bodies.SPACE}]")
    assert {c for c in map(chr, range(sys.maxunicode + 1)) if spelled.fullmatch(c)} == {
        c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
