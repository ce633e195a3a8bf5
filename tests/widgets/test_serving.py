"""How widgets are served: the per-process answer cache and its versions, precompressed embed.js,
unknown paths, product ids with "/", and the metrics' route labels."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from reviews.app import create_app
from reviews.collection import store as reviews
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import db
from reviews.platform.services import Services
from tests.conftest import METRICS_HEADERS
from tests.helpers import add_review
from widgets import queries, responses
from widgets.cache import Answers, Versions

SUMMARY = "/widgets/v1/demo-shop/summary.json"


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    for rating in (5, 4):
        await add_review(services, merchant[0].id, rating, product_id="SKU-1", product_name="Trail shoes")
    return merchant[0]


@pytest.fixture
async def elsewhere(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, as another web process or the worker would have: nothing in the app hears of it."""
    conn = await db.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def summaries(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """Which merchants the summary was computed for, in order: a cached answer adds nothing."""
    calls: list[int | None] = []
    real = queries.summary

    async def counting(pool: asyncpg.Pool, merchant_id: int, product_id: str | None) -> dict[str, Any]:
        calls.append(merchant_id)
        return await real(pool, merchant_id, product_id)

    monkeypatch.setattr(queries, "summary", counting)
    return calls


# --- the answer cache ------------------------------------------------------------------------------------------

async def test_an_answer_is_rendered_once_while_its_shop_is_unchanged(client: httpx.AsyncClient, shop: Merchant,
                                                                      summaries: list[int | None]):
    first = await client.get(SUMMARY)
    again = await client.get(SUMMARY)
    assert first.json() == again.json() and first.json()["count"] == 2
    assert again.headers["etag"] == first.headers["etag"]
    assert summaries == [shop.id]
    product = await client.get(SUMMARY + "?product=SKU-1")
    assert product.json()["count"] == 2 and summaries == [shop.id, shop.id]  # another URL, another answer


@pytest.mark.parametrize("change", ["publish", "withdraw", "hold", "edit_in_place", "rename_shop"])
async def test_a_change_from_another_process_shows_on_the_next_request(
        client: httpx.AsyncClient, services: Services, shop: Merchant, elsewhere: asyncpg.Connection,
        summaries: list[int | None], change: str):
    pending = await add_review(services, shop.id, 1, state="pending")
    published = await add_review(services, shop.id, 3)
    badge = (await client.get("/widgets/v1/demo-shop/badge.svg")).text
    before = await client.get(SUMMARY)
    assert before.json()["count"] == 3
    assert (await client.get(SUMMARY, headers={"If-None-Match": before.headers["etag"]})).status_code == 304
    rendered = len(summaries)
    assert rendered == 1  # the summary's (the badge counts its own figures); the 304 came from the cache
    now = services.clock.now()
    if change == "publish":
        await reviews.publish(elsewhere, pending, now)
    elif change == "withdraw":
        await reviews.withdraw(elsewhere, published, now)
    elif change == "hold":
        await reviews.hold(elsewhere, published, now)
    elif change == "edit_in_place":
        # A published review whose shown text changes without leaving "published" (an erasure's
        # display name, a moderator's fix): the row's new version must be enough.
        await elsewhere.execute("UPDATE reviews SET title = 'Changed' WHERE id = $1", published)
    else:
        m = await merchants.by_slug(elsewhere, "demo-shop")
        assert m is not None
        await elsewhere.execute("UPDATE merchants SET name = 'Renamed Shop' WHERE id = $1", m.id)
    # No sleep and no poll: the very next request sees it.
    after = await client.get(SUMMARY, headers={"If-None-Match": before.headers["etag"]})
    assert len(summaries) == rendered + 1  # rendered again, once
    if change in ("edit_in_place", "rename_shop"):
        assert after.status_code == 304  # the same numbers, the same bytes: still the client's version
        reviews_json = (await client.get("/widgets/v1/demo-shop/reviews.json")).json()
        new_badge = (await client.get("/widgets/v1/demo-shop/badge.svg")).text
        assert ("Changed" in [r["title"] for r in reviews_json["reviews"]]) == (change == "edit_in_place")
        assert ("Renamed Shop" in new_badge) == (new_badge != badge) == (change == "rename_shop")
    else:
        assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
        assert after.json()["count"] == {"publish": 4, "withdraw": 2, "hold": 2}[change]


async def test_requests_arriving_together_share_one_version_check(services: Services, shop: Merchant):
    app = create_app(services)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            versions = _versions(app)
            answers = await asyncio.gather(*(c.get(SUMMARY) for _ in range(20)))
            assert {r.json()["count"] for r in answers} == {2}
            assert 1 <= versions.checks <= 2  # one query per batch, not one per request
            checks = versions.checks
            await c.get(SUMMARY)
            assert versions.checks == checks + 1  # a later request never reuses an earlier check


def _versions(app: Any) -> Versions:
    route = next(r for r in app.routes if getattr(r, "path", "") == "/widgets/v1/{slug}/summary.json")
    # The route's endpoint is routes._get's wrapper around partial(summary_json, widgets).
    widgets = route.endpoint.__closure__[0].cell_contents.args[0]
    return widgets.cache.versions  # type: ignore[no-any-return]


class _Pool:
    """Where the query is a stand-in, the connection it is handed does not matter."""

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[None]:
        yield None


async def test_a_failed_check_fails_its_requests_and_the_next_check_is_fresh():
    calls: list[list[str]] = []

    async def shops(pool: Any, slugs: list[str]) -> dict[str, queries.Shop]:
        calls.append(slugs)
        if len(calls) == 1:
            raise ConnectionError("database away")
        return {}

    versions, pool = Versions(shops), _Pool()
    failed = await asyncio.gather(versions.of(pool, "a"), versions.of(pool, "b"), return_exceptions=True)  # type: ignore[arg-type]
    assert all(isinstance(f, ConnectionError) for f in failed)
    assert await versions.of(pool, "a") is None  # type: ignore[arg-type]
    assert calls == [["a", "b"], ["a"]]


async def test_a_request_that_gives_up_does_not_cancel_the_check_of_the_others():
    release = asyncio.Event()

    async def shops(pool: Any, slugs: list[str]) -> dict[str, queries.Shop]:
        await release.wait()
        return {s: queries.Shop({"slug": s}, "v1") for s in slugs}  # type: ignore[arg-type]

    versions, pool = Versions(shops), _Pool()
    leaving = asyncio.create_task(versions.of(pool, "a"))  # type: ignore[arg-type]
    staying = asyncio.create_task(versions.of(pool, "a"))  # type: ignore[arg-type]
    await asyncio.sleep(0)  # both have joined the batch
    leaving.cancel()
    release.set()
    found = await staying
    assert found is not None and found.version == "v1" and leaving.cancelled()


def test_answers_are_bounded_and_keyed_by_version():
    answers: Answers[str] = Answers(max_entries=2)
    one = responses.Rendered.of("1", responses.JSON)
    answers.put(("/a", b""), "v1", one)
    assert answers.get(("/a", b""), "v1") is one and answers.get(("/a", b""), "v2") is None
    answers.put(("/b", b""), "v1", one)
    answers.put(("/c", b""), "v1", one)
    assert len(answers) == 2 and answers.get(("/a", b""), "v1") is None


# --- HTTP caching and embed.js ---------------------------------------------------------------------------------

async def test_embed_js_is_served_gzipped_to_who_accepts_it(client: httpx.AsyncClient, merchant: Any):
    plain = await client.get("/widgets/v1/embed.js", headers={"Accept-Encoding": "identity"})
    packed = await client.get("/widgets/v1/embed.js", headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
    refused = await client.get("/widgets/v1/embed.js", headers={"Accept-Encoding": "*, gzip;q=0"})
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content == refused.content  # httpx undid the gzip
    assert int(packed.headers["content-length"]) <= 2600 < len(plain.content)
    for r in (plain, packed):
        assert r.headers["vary"] == "Accept-Encoding"
        assert r.headers["cache-control"] == "public, max-age=3600, stale-while-revalidate=86400"
    assert packed.headers["etag"] != plain.headers["etag"]
    again = await client.get("/widgets/v1/embed.js", headers={"Accept-Encoding": "gzip",
                                                               "If-None-Match": packed.headers["etag"]})
    assert again.status_code == 304 and again.headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize("header, gzip_ok", [
    ("gzip", True), ("gzip, deflate, br", True), ("GZIP;q=0.5", True), ("*", True), ("", False),
    ("identity", False), ("gzip;q=0", False), ("*, gzip;q=0", False), ("gzip;q=0.0, *", False), ("gzip;q=x", False),
])
def test_accept_encoding(header: str, gzip_ok: bool):
    assert responses.accepts_gzip(header) is gzip_ok


def test_precompressed_bytes_are_gzip_of_the_file():
    static = responses.Static.of(b"console.log('attest');" * 100, responses.JS)
    assert static.gzipped is not None and gzip.decompress(static.gzipped.body) == static.plain.body
    tiny = responses.Static.of(b"{}", responses.JSON)
    assert tiny.gzipped is None  # nothing to gain: one representation, no Vary
    assert "Vary" not in tiny.plain.headers


# --- paths -----------------------------------------------------------------------------------------------------

async def test_an_unknown_widget_path_is_a_json_404(client: httpx.AsyncClient, shop: Merchant):
    for path in ("/widgets/v1/nope", "/widgets/v1/demo-shop/nope.json", "/widgets/v1/demo-shop/products/X"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"
    assert (await client.post(SUMMARY)).status_code == 405  # a real widget, the wrong method
    preflight = await client.options(SUMMARY, headers={"Origin": "https://shop.example",
                                                       "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("product", ["a/b", "shoes/trail/42", "..", "50% off?#"])
async def test_a_product_id_with_a_slash_has_its_stars(client: httpx.AsyncClient, services: Services,
                                                       shop: Merchant, product: str):
    await add_review(services, shop.id, 2, product_id=product)
    by_query = await client.get("/widgets/v1/demo-shop/summary.json", params={"product": product})
    assert by_query.json()["count"] == 1 and by_query.json()["average"] == 2
    if product != "..":  # a path segment ".." is resolved by every client before it is sent
        r = await client.get("/widgets/v1/demo-shop/products/" + quote(product, safe="") + "/summary.json")
        assert r.status_code == 200 and r.json() == by_query.json()


async def test_embed_js_asks_for_a_product_in_the_query(client: httpx.AsyncClient, merchant: Any):
    # The widgets' requests: a product id never goes into an API path, where "/" and ".." would change it.
    for family in ("reviews", "carousel", "badge"):
        js = (await client.get(f"/widgets/v1/js/{family}.js")).text
        assert "/summary.json" not in js and "/reviews.html" not in js
        assert "product=" in js
    # The star snippet, the loader's own: the products in the query of one ratings.json.
    stars = (await client.get("/widgets/v1/embed.js")).text
    assert "/summary.json" not in stars and "product=" not in stars
    assert re.search(r'"/ratings\.json\?products="\+\w+\.slice\((\w+),\1\+100\)\.map\(\w+\)\.join\(","\)', stars)


# --- metrics -----------------------------------------------------------------------------------------------------

async def test_metrics_label_widget_requests_with_their_route(client: httpx.AsyncClient, shop: Merchant):
    await client.get(SUMMARY)
    await client.get("/widgets/v1/demo-shop/products/SKU-1/summary.json")
    await client.get("/widgets/v1/embed.js")
    await client.get("/widgets/v1/no/such/thing")
    await client.get("/healthz")
    text = (await client.get("/metrics", headers=METRICS_HEADERS)).text
    for route in ("/widgets/v1/{slug}/summary.json", "/widgets/v1/{slug}/products/{product_id:path}/summary.json",
                  "/widgets/v1/embed.js", "/healthz"):
        assert f'attest_http_requests_total{{method="GET",route="{route}",status="200"}}' in text, route
    assert 'attest_http_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert 'route="/widgets/v1"' not in text and "demo-shop" not in text


async def test_a_shop_named_like_the_scripts_folders_keeps_its_endpoints(client: httpx.AsyncClient, services: Services):
    # The scripts' and strings' routes come first; a shop whose slug is "js" or "i18n" still gets its own.
    async with services.pool.acquire() as conn:
        for slug in ("js", "i18n"):
            shop, _ = await merchants.create(conn, name=f"Shop {slug}", slug=slug)
            await add_review(services, shop.id, 4, product_id="SKU-1")
    for slug in ("js", "i18n"):
        assert (await client.get(f"/widgets/v1/{slug}/summary.json")).json()["count"] == 1
        assert (await client.get(f"/widgets/v1/{slug}/reviews.json")).json()["total"] == 1
    assert (await client.get("/widgets/v1/i18n/de.json")).json()
    assert (await client.get("/widgets/v1/i18n/xx.json")).status_code == 404
    assert (await client.get("/widgets/v1/js/reviews.js")).headers["content-type"].startswith("application/javascript")
