"""The app's front (`widgets.front`): a public answer asked for again is given without the app's
layers, byte for byte as the app gave it, only while its version check says it is current; and the
front's own rules, on a small ASGI app of its own."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from ipaddress import ip_network
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from reviews.app import create_app
from reviews.collection import store as reviews
from reviews.merchants.model import Merchant
from reviews.platform import db
from reviews.platform.services import Services
from tests.conftest import METRICS_HEADERS
from tests.helpers import add_review
from widgets import front
from widgets.responses import JSON, Rendered

SHOP = "/widgets/v1/demo-shop"
# What the app gives anew on every answer, front or not.
_OWN = {"date", "server"}


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    for rating in (5, 4):
        await add_review(services, merchant[0].id, rating, product_id="SKU-1", product_name="Trail shoes")
    return merchant[0]


def _front(client: httpx.AsyncClient) -> front.Front:
    layer: Any = client._transport.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, front.Front):
        layer = layer.app
    return layer


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert [(k, v) for k, v in a.headers.multi_items() if k not in _OWN] == \
           [(k, v) for k, v in b.headers.multi_items() if k not in _OWN]


@pytest.mark.parametrize(("path", "headers"), [
    (f"{SHOP}/summary.json", {}),
    (f"{SHOP}/reviews.json?product=SKU-1&sort=newest", {}),
    (f"{SHOP}/badge.svg", {}),
    (f"{SHOP}/products/SKU-1/reviews.html", {}),
    ("/widgets/v1/embed.js", {"accept-encoding": "gzip"}),
    ("/widgets/v1/embed.js", {"accept-encoding": "identity"}),
    ("/shops/demo-shop", {"accept-language": "pl"}),
])
async def test_an_answer_asked_again_comes_from_the_front_as_the_app_gave_it(
        client: httpx.AsyncClient, shop: Merchant, path: str, headers: dict[str, str]):
    first = await client.get(path, headers=headers)
    assert first.status_code == 200
    layer = _front(client)
    hits = layer.hits
    again = await client.get(path, headers=headers)
    assert layer.hits == hits + 1
    _same(first, again)
    assert again.headers["x-content-type-options"] == "nosniff"  # the app's middleware's headers are kept
    unchanged = await client.get(path, headers={**headers, "if-none-match": first.headers["etag"]})
    assert unchanged.status_code == 304 and not unchanged.content and layer.hits == hits + 2
    assert unchanged.headers["etag"] == first.headers["etag"]


async def test_a_head_request_and_a_stale_answer_go_through_the_app(client: httpx.AsyncClient, services: Services,
                                                                    shop: Merchant, dsn: str):
    path = f"{SHOP}/summary.json"
    assert (await client.get(path)).json()["count"] == 2
    layer = _front(client)
    hits = layer.hits
    assert (await client.head(path)).status_code == 200 and layer.hits == hits
    pending = await add_review(services, shop.id, 1, state="pending")
    conn = await db.connect(dsn)  # as another web process or the worker: the app hears nothing of it
    try:
        await reviews.publish(conn, pending, services.clock.now())
    finally:
        await conn.close()
    fresh = await client.get(path)
    assert fresh.json()["count"] == 3 and layer.hits == hits  # the check saw the change: rendered anew
    assert (await client.get(path)).json()["count"] == 3 and layer.hits == hits + 1


async def test_the_public_page_is_kept_per_language_asked(client: httpx.AsyncClient, shop: Merchant):
    polish = await client.get("/shops/demo-shop", headers={"accept-language": "pl"})
    german = await client.get("/shops/demo-shop", headers={"accept-language": "de-DE,de;q=0.9"})
    assert (polish.headers["content-language"], german.headers["content-language"]) == ("pl", "de")
    layer = _front(client)
    hits = layer.hits
    for _ in range(2):
        assert (await client.get("/shops/demo-shop", headers={"accept-language": "pl"})).text == polish.text
        assert (await client.get("/shops/demo-shop", headers={"accept-language": "de-DE,de;q=0.9"})).text == german.text
    assert layer.hits == hits + 4


async def test_the_fronts_answers_are_counted_under_their_route(client: httpx.AsyncClient, shop: Merchant):
    before = await _badge_requests(client)  # the metrics are the process's: other tests' requests count too
    for _ in range(3):
        assert (await client.get(f"{SHOP}/badge.json")).status_code == 200
    assert _front(client).hits >= 2
    assert await _badge_requests(client) == before + 3


async def test_behind_a_trusted_proxy_the_fronts_answers_keep_their_route(services: Services, shop: Merchant):
    # The proxies' layer copies the scope it rewrites: the route is named in the copy the endpoint saw.
    services.settings = replace(services.settings, trusted_proxies=(ip_network("203.0.113.0/24"),))  # type: ignore[misc]
    app = create_app(services)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            before = await _badge_requests(c)
            for _ in range(3):
                r = await c.get(f"{SHOP}/badge.json", headers={"x-forwarded-for": "198.51.100.4"})
                assert r.status_code == 200
            assert _front(c).hits == 2
            assert await _badge_requests(c) == before + 3


async def _badge_requests(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics", headers=METRICS_HEADERS)).text
    found = re.search(r'attest_http_requests_total\{method="GET",route="/widgets/v1/\{slug\}/badge.json",'
                      r'status="200"\} (\d+)', text)
    return float(found.group(1)) if found else 0.0


async def test_an_error_is_never_kept(client: httpx.AsyncClient, shop: Merchant):
    for _ in range(2):
        assert (await client.get("/widgets/v1/no-such-shop/summary.json")).status_code == 404
        assert (await client.get(f"{SHOP}/reviews.json?per_page=0")).status_code == 422
    assert _front(client).hits == 0


# --- the front's own rules -------------------------------------------------------------------------------------

class _App:
    """An app whose answer to any GET is offered to the front: "v<version>", with the version and the
    check of the test's choosing."""

    def __init__(self, *, current: Callable[[], Awaitable[object]] | None = None, vary: tuple[bytes, ...] = (),
                 headers: dict[str, str] | None = None) -> None:
        self.version = 1
        self.calls = 0
        self.current = current
        self.vary = vary
        self.headers = headers or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = f"v{self.version}:{scope['path']}".encode()
        rendered = Rendered.of(body, JSON, headers=self.headers)
        front.offer(scope, front.Offer.of(rendered, self.version, self.current, self.vary))
        await send({"type": "http.response.start", "status": 200, "headers": rendered.raw_ok})
        await send({"type": "http.response.body", "body": rendered.body})


def _client(layer: front.Front) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=layer), base_url="http://test")


async def test_an_answer_is_given_again_only_while_its_check_says_it_is_current():
    async def current() -> object:
        return app.version

    app = _App(current=current)
    async with _client(front.Front(app)) as c:
        assert [(await c.get("/a")).text for _ in range(3)] == ["v1:/a"] * 3 and app.calls == 1
        app.version = 2
        assert [(await c.get("/a")).text for _ in range(2)] == ["v2:/a"] * 2 and app.calls == 2
        await c.get("/a?x=1")
        assert app.calls == 3  # another query, another answer


async def test_a_failed_check_goes_through_the_app():
    async def current() -> object:
        raise ConnectionRefusedError("the database is away")

    app = _App(current=current)
    async with _client(front.Front(app)) as c:
        for _ in range(2):
            assert (await c.get("/a")).text == "v1:/a"
    assert app.calls == 2


async def test_answers_vary_on_the_headers_their_app_names():
    app = _App(vary=(b"accept-language",))
    layer = front.Front(app)
    async with _client(layer) as c:
        for language in ("pl", "de", "pl", "de", ""):
            await c.get("/a", headers={"accept-language": language} if language else {})
    assert app.calls == 3 and layer.hits == 2 and len(layer) == 3


async def test_the_kept_answers_are_bounded_by_count_and_bytes():
    app = _App()
    layer = front.Front(app, max_entries=2, max_bytes=16 * 12)
    async with _client(layer) as c:
        for path in ("/a", "/b", "/c", "/a"):
            await c.get(path)
        assert app.calls == 4 and len(layer) == 2  # /a was the oldest, gone when /c came
        await c.get("/" + "x" * 20)  # more than a sixteenth of the bytes: never kept
        assert len(layer) == 2
        for n in range(50):  # addresses asked once each: what is known of them stays bounded too
            await c.get(f"/a?n={n}")
        assert len(layer) == 2 and len(layer._varies) == 2


async def test_the_apps_own_headers_are_added_unless_the_answer_has_them_and_answers_are_metered():
    seen: list[tuple[str, int]] = []

    def meter(scope: Scope) -> front.Meter:
        return lambda status, seconds: seen.append((scope["path"], status))

    extra = ((b"x-frame-options", b"DENY"), (b"cache-control", b"no-store"))
    layer = front.Front(_App(), extra_headers=lambda path: extra, meter=meter)
    async with _client(layer) as c:
        first = await c.get("/a")
        again = await c.get("/a")
        revalidated = await c.get("/a", headers={"if-none-match": first.headers["etag"]})
    assert again.headers["x-frame-options"] == "DENY"
    assert again.headers["cache-control"].startswith("public")  # the answer's own, not the default's
    assert revalidated.status_code == 304 and seen == [("/a", 200), ("/a", 304)]

