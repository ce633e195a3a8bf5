"""Google's feeds: the product review feed (schema 2.4) at feed.xml and the merchant review feed
(seller ratings) at merchant-feed.xml, each checked against the XSD written from Google's reference
(tests/data), each streamed, each with the widgets' ETag and caching."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviews.app import create_app
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from tests.helpers import HOSTILE
from tests.widgets.feed_support import (
    BASE_URL,
    MR,
    SHOES,
    merchant_feed_schema,
    order,
    parse,
    product_feed_schema,
    review,
    settings_at,
)
from widgets import feed, queries, streaming

WRITTEN = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
IMPORTED = datetime(2024, 11, 2, 14, 3, 11, tzinfo=UTC)
FEED = "/widgets/v1/demo-shop/feed.xml"
MERCHANT_FEED = "/widgets/v1/demo-shop/merchant-feed.xml"


@pytest.fixture
def settings(tmp_path: Path, dsn: str) -> Settings:
    return settings_at(tmp_path, dsn)


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    """demo-shop: a verified review of shoes ordered to Germany, an imported one of socks never ordered,
    two reviews of the shop itself (one verified and edited, one imported), and what must never show."""
    m = merchant[0]
    async with services.pool.acquire() as conn:
        m = await merchants.update_settings(conn, m, {"domains": ["demo-shop.example", "www.demo-shop.example"]})
    a1 = await order(services, m, "A-1")
    await review(services, m, 5, written=WRITTEN, order_pk=a1)
    await review(services, m, 2, written=IMPORTED, product_id="SKU-2", product_name="Merino socks", method="imported",
                 locale="en", display_name="", title="Itchy", body="")
    await review(services, m, 4, written=WRITTEN + timedelta(hours=1), product_id=None, product_name=None,
                 order_pk=a1, title="Quick delivery", body="Two days to Freiburg.",
                 edited=WRITTEN + timedelta(days=3))
    await review(services, m, 3, written=IMPORTED, product_id=None, product_name=None, method="imported",
                 locale="fr", title="Service", body="Réponse rapide du service client.", display_name="Camille R.")
    for state in ("held", "pending", "rejected", "withdrawn"):
        await review(services, m, 1, written=WRITTEN, state=state, title=f"HIDDEN-{state}", body=f"HIDDEN-{state}")
        await review(services, m, 1, written=WRITTEN, product_id=None, state=state, title=f"HIDDEN-shop-{state}",
                     body="x")
    async with services.pool.acquire() as conn:
        other, _ = await merchants.create(conn, name="Other", slug="other-shop")
    await review(services, other, 1, written=WRITTEN, title="LEAKED", body="LEAKED")
    return m


def _reviews(root: Any) -> dict[str, Any]:
    return {r.findtext("products/product/product_ids/skus/sku"): r for r in root.findall("reviews/review")}


# --- the product review feed --------------------------------------------------------------------------------

async def test_the_product_feed_is_valid_2_4_and_says_what_each_review_is(client: httpx.AsyncClient,
                                                                           shop: Merchant) -> None:
    r = await client.get(FEED)
    assert r.status_code == 200 and r.headers["content-type"] == "application/xml; charset=utf-8"
    product_feed_schema().validate(r.content)
    root = parse(r.content)
    assert root.findtext("version") == "2.4"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation") == feed.SCHEMA
    assert root.findtext("aggregator/name") == "Attest" and root.findtext("publisher/name") == "Demo Shop"
    reviews = _reviews(root)
    assert set(reviews) == {"TLA-39-PET", "SKU-2"}  # product reviews only; nothing held, nobody else's
    assert "HIDDEN" not in r.text and "LEAKED" not in r.text

    verified = reviews["TLA-39-PET"]
    assert verified.findtext("is_verified_purchase") == "true"
    assert verified.findtext("is_incentivized_review") == "false"
    assert verified.findtext("review_timestamp") == "2025-03-14T09:30:00Z"  # when written, not published
    assert (verified.findtext("title"), verified.findtext("content")) == ("Great grip",
                                                                          "Held on wet rock all weekend.")
    assert verified.findtext("review_language") == "de" and verified.findtext("review_country") == "DE"
    assert verified.find("review_url").get("type") == "group"  # type: ignore[union-attr]
    assert verified.findtext("review_url") == f"{BASE_URL}/shops/demo-shop/products/SKU-1"
    assert verified.find("reviewer_images") is None  # no photos are public yet
    assert verified.findtext("reviewer/name") == "Lena H."
    assert verified.find("reviewer/name").get("is_anonymous") == "false"  # type: ignore[union-attr]
    product = verified.find("products/product")
    assert product is not None
    assert {(e.tag, e.text) for e in product.iter() if e.text and e.text.strip()} == {
        ("gtin", "4006381333931"), ("mpn", "TR-39"), ("sku", "TLA-39-PET"), ("brand", "Bergwerk"),
        ("product_name", "Trail running shoes"),  # the name its orders gave, not the review's
        ("product_url", "https://shop.example/p/1")}
    assert [e.tag for e in product.find("product_ids")] == ["gtins", "mpns", "skus", "brands"]  # type: ignore[union-attr]
    assert verified.findtext("ratings/overall") == "5"
    assert verified.findtext("is_spam") == "false"
    assert verified.findtext("collection_method") == "post_fulfillment"
    assert verified.findtext("transaction_id") == "A-1"

    imported = reviews["SKU-2"]
    assert imported.findtext("is_verified_purchase") == "false"
    assert imported.findtext("review_timestamp") == "2024-11-02T14:03:11Z"
    assert imported.findtext("content") == "Itchy" and imported.find("title") is None  # the title was its words
    assert imported.findtext("reviewer/name") == "Anonymous"
    assert imported.find("reviewer/name").get("is_anonymous") == "true"  # type: ignore[union-attr]
    assert imported.find("review_country") is None  # no order, so no country
    assert imported.find("collection_method") is None and imported.find("transaction_id") is None
    assert imported.findtext("products/product/product_name") == "Merino socks"
    assert imported.findtext("products/product/product_url") == f"{BASE_URL}/shops/demo-shop/products/SKU-2"


async def test_the_feed_escapes_markup_and_drops_what_xml_cannot_hold(client: httpx.AsyncClient,
                                                                      services: Services, shop: Merchant) -> None:
    a2 = await order(services, shop, "A-2&<2>", products=[{"id": "P/9?x=<1>", "name": HOSTILE, "sku": "]]>&"}])
    hostile = HOSTILE + " ]]> \x07\x1b\ufffe end"
    await review(services, shop, 4, written=WRITTEN, product_id="P/9?x=<1>", product_name=HOSTILE, order_pk=a2,
                 title=hostile, body=hostile, display_name=hostile)
    r = await client.get(FEED)
    product_feed_schema().validate(r.content)
    assert "<script>" not in r.text and "\x07" not in r.text
    found = _reviews(parse(r.content))["]]>&"]
    clean = HOSTILE + " ]]>  end"
    assert found.findtext("title") == clean and found.findtext("content") == clean
    assert found.findtext("reviewer/name") == clean
    assert found.findtext("products/product/product_name") == HOSTILE
    assert found.findtext("transaction_id") == "A-2&<2>"
    assert found.findtext("review_url") == f"{BASE_URL}/shops/demo-shop/products/P%2F9%3Fx%3D%3C1%3E"


async def test_a_shop_without_product_reviews_has_a_valid_empty_feed(client: httpx.AsyncClient,
                                                                     merchant: tuple[Merchant, str]) -> None:
    r = await client.get(FEED)
    product_feed_schema().validate(r.content)
    assert parse(r.content).find("reviews") is None  # the schema wants no <reviews> rather than an empty one


async def test_unknown_shops_have_no_feeds(client: httpx.AsyncClient, merchant: tuple[Merchant, str]) -> None:
    for path in ("feed.xml", "merchant-feed.xml"):
        r = await client.get(f"/widgets/v1/no-such-shop/{path}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_feeds_are_cached_until_a_review_or_an_order_changes(client: httpx.AsyncClient, services: Services,
                                                                   shop: Merchant) -> None:
    for path in (FEED, MERCHANT_FEED):
        r = await client.get(path)
        assert r.headers["cache-control"] == "public, max-age=3600, stale-while-revalidate=86400"
        assert r.headers["access-control-allow-origin"] == "*"
        tag = r.headers["etag"]
        again = await client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
        head = await client.head(path)
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tag
        assert head.headers["content-type"] == "application/xml; charset=utf-8"

    tag = (await client.get(FEED)).headers["etag"]
    # A new order names the product anew (a GTIN, another name): the feed says so at once.
    services.clock.advance(minutes=1)  # type: ignore[attr-defined]
    await order(services, shop, "A-3", products=[{**SHOES, "name": "Trail running shoes II", "gtin": "4006381333948"}])
    changed = await client.get(FEED, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert _reviews(parse(changed.content))["TLA-39-PET"].findtext("products/product/product_name") == \
        "Trail running shoes II"
    tag = changed.headers["etag"]
    await review(services, shop, 3, written=WRITTEN, title="New", body="Another one.")
    assert (await client.get(FEED, headers={"If-None-Match": tag})).status_code == 200


async def _asgi_get(app: Any, path: str) -> tuple[int, list[dict[str, Any]]]:
    """The app's answer as the ASGI messages it sends, to see a stream's chunks as a server would."""
    sent: list[dict[str, Any]] = []
    done = False

    async def receive() -> dict[str, Any]:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        raise AssertionError("the feed waited for the client")  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
             "method": "GET", "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"reviews.example.org")], "client": ("203.0.113.7", 5000),
             "server": ("reviews.example.org", 443)}
    await app(scope, receive, send)
    return sent[0]["status"], [m for m in sent if m["type"] == "http.response.body"]


@pytest.mark.slow
async def test_the_feed_is_streamed_in_bounded_chunks_from_a_cursor(services: Services, shop: Merchant,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    await services.pool.execute(
        """INSERT INTO reviews (merchant_id, product_id, product_name, method, rating, title, body, display_name,
                                locale, state, submitted_at, published_at)
           SELECT $1, 'SKU-' || (n % 50), 'Product ' || (n % 50), 'invited', 1 + n % 5, 'Title ' || n,
                  repeat('Solid and well made. ', 10) || n, 'Buyer ' || n, 'en', 'published',
                  $2::timestamptz - n * interval '1 minute', $2
           FROM generate_series(1, 3000) AS n""", shop.id, WRITTEN)
    fetched: list[int] = []
    real_stream = queries.stream

    def counting(pool: Any, query: str, merchant_id: int, prefetch: int = queries.FEED_FETCH) -> Any:
        fetched.append(prefetch)
        return real_stream(pool, query, merchant_id, prefetch)

    monkeypatch.setattr(queries, "stream", counting)
    app = create_app(services)
    async with app.router.lifespan_context(app):
        status, bodies = await _asgi_get(app, FEED)
    assert status == 200 and fetched == [queries.FEED_FETCH]
    chunks = [m["body"] for m in bodies if m["body"]]
    assert len(chunks) >= 10  # about 1 MB in 64 KB chunks, sent as they are written
    assert all(m.get("more_body") for m in bodies[:-1]) and not bodies[-1].get("more_body")
    assert max(map(len, chunks)) < streaming.CHUNK + 8 * 1024  # one chunk and at most one review more
    document = b"".join(chunks)
    product_feed_schema().validate(document)
    assert len(parse(document).findall("reviews/review")) == 3002  # never capped


async def test_too_many_feeds_at_once_is_a_503_with_retry_after(client: httpx.AsyncClient, shop: Merchant) -> None:
    route = next(r for r in client._transport.app.routes  # type: ignore[attr-defined]
                 if getattr(r, "path", "") == "/widgets/v1/{slug}/feed.xml")
    streams = route.endpoint.__closure__[0].cell_contents.args[0].streams
    streams.running = streams.limit
    try:
        r = await client.get(FEED)
        assert r.status_code == 503 and r.headers["retry-after"] == str(streaming.RETRY_AFTER)
        assert r.json()["error"]["code"] == "busy"
        assert (await client.get(FEED, headers={"If-None-Match": "*"})).status_code == 304  # no stream needed
    finally:
        streams.running = 0
    assert (await client.get(FEED)).status_code == 200


@pytest.mark.slow
async def test_a_feed_of_100k_reviews_costs_constant_memory(services: Services, shop: Merchant) -> None:
    await services.pool.execute(
        """INSERT INTO reviews (merchant_id, product_id, product_name, method, rating, title, body, display_name,
                                locale, state, submitted_at, published_at)
           SELECT $1, 'SKU-' || (n % 500), 'Product ' || (n % 500), 'invited', 1 + n % 5, 'Title ' || n,
                  repeat('Solid and well made, would buy again. ', 8) || n, 'Buyer ' || n, 'en', 'published',
                  $2::timestamptz - n * interval '1 minute', $2
           FROM generate_series(1, 100000) AS n""", shop.id, WRITTEN)
    info = feed.Shop(name="Demo Shop", slug="demo-shop", base_url=BASE_URL)
    size = reviews = 0
    tracemalloc.start()
    try:
        async for chunk in streaming.chunked(feed.document(
                queries.stream(services.pool, queries.PRODUCT_FEED, shop.id), info)):
            size += len(chunk)
            reviews += chunk.count(b"<review>")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reviews == 100_002
    print(f"\n100k-review feed: {size / 1e6:.1f} MB streamed, peak Python memory {peak / 1e6:.1f} MB")
    assert size > 60_000_000 and peak < 12_000_000  # a few batches of rows, never the document


# --- the merchant review feed --------------------------------------------------------------------------------

async def test_the_merchant_feed_is_valid_and_holds_the_shops_own_reviews(client: httpx.AsyncClient,
                                                                          shop: Merchant) -> None:
    r = await client.get(MERCHANT_FEED)
    assert r.status_code == 200 and r.headers["content-type"] == "application/xml; charset=utf-8"
    merchant_feed_schema().validate(r.content)
    root = parse(r.content)
    assert root.tag == f"{MR}feed"
    merchant = root.find(f"{MR}merchants/{MR}merchant")
    assert merchant is not None and merchant.get("id") == "demo-shop"
    assert merchant.findtext(f"{MR}name") == "Demo Shop"
    assert merchant.findtext(f"{MR}merchant_url") == "https://demo-shop.example/"
    assert merchant.findtext(f"{MR}rating_url") == f"{BASE_URL}/shops/demo-shop"
    reviews = {x.findtext(f"{MR}title"): x for x in root.findall(f"{MR}reviews/{MR}review")}
    assert set(reviews) == {"Quick delivery", "Service"}  # the shop's reviews, no product's, nothing held
    assert "HIDDEN" not in r.text and "LEAKED" not in r.text

    verified = reviews["Quick delivery"]
    assert verified.get("mid") == "demo-shop"
    assert verified.findtext(f"{MR}reviewer_name") == "Lena H."
    assert verified.findtext(f"{MR}create_timestamp") == "2025-03-14T10:30:00Z"
    assert verified.findtext(f"{MR}last_update_timestamp") == "2025-03-17T09:30:00Z"  # its edit
    assert verified.findtext(f"{MR}country_code") == "DE"
    assert verified.findtext(f"{MR}content") == "Two days to Freiburg."
    overall = verified.find(f"{MR}ratings/{MR}overall")
    assert overall is not None and (overall.get("min"), overall.get("max"), overall.text) == ("1", "5", "4")
    assert verified.findtext(f"{MR}collection_method") == "after_fulfillment"

    imported = reviews["Service"]
    assert imported.findtext(f"{MR}create_timestamp") == "2024-11-02T14:03:11Z"
    assert imported.find(f"{MR}country_code") is None and imported.find(f"{MR}collection_method") is None


async def test_the_merchant_feed_escapes_and_needs_a_registered_website(client: httpx.AsyncClient,
                                                                        services: Services, shop: Merchant) -> None:
    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, shop, {"name": HOSTILE})
    await review(services, shop, 5, written=WRITTEN, product_id=None, product_name=None, title=HOSTILE,
                 body=HOSTILE + "\x0b", display_name=HOSTILE)
    r = await client.get(MERCHANT_FEED)
    merchant_feed_schema().validate(r.content)
    assert "<script>" not in r.text
    root = parse(r.content)
    assert root.findtext(f"{MR}merchants/{MR}merchant/{MR}name") == HOSTILE
    assert any(x.findtext(f"{MR}content") == HOSTILE for x in root.iter(f"{MR}review"))

    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, shop, {"domains": []})
    r = await client.get(MERCHANT_FEED)
    assert r.status_code == 404
    assert "registered no website domain" in r.json()["error"]["message"]


async def test_a_shop_without_reviews_of_itself_has_a_valid_merchant_feed(client: httpx.AsyncClient,
                                                                          services: Services,
                                                                          merchant: tuple[Merchant, str]) -> None:
    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, merchant[0], {"domains": ["xn--bcher-kva.example"]})
    r = await client.get(MERCHANT_FEED)
    merchant_feed_schema().validate(r.content)
    root = parse(r.content)
    assert root.find(f"{MR}reviews") is None
    assert root.findtext(f"{MR}merchants/{MR}merchant/{MR}merchant_url") == "https://xn--bcher-kva.example/"
