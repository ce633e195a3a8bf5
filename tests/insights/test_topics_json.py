"""topics.json: its shape, the visitor's language, its 404s, and that a recomputation shows at once
through the widgets' cache."""

from __future__ import annotations

import httpx
import pytest

from embedding.model import MULTILINGUAL_MODEL, Embedder, get_embedder
from reviews.insights import recompute
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.insights.corpus import PRODUCT, PUBLISHED, Text, add, seed

URL = f"/widgets/v1/demo-shop/products/{PRODUCT}/topics.json"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(MULTILINGUAL_MODEL)


@pytest.fixture
async def computed(services: Services, merchant: tuple[Merchant, str], embedder: Embedder) -> Merchant:
    await seed(services, merchant[0].id)
    await recompute.recompute(services.pool, embedder, merchant[0].id, PRODUCT, services.clock.now())
    return merchant[0]


async def test_the_answer_has_its_documented_shape(client: httpx.AsyncClient, computed: Merchant) -> None:
    r = await client.get(URL, params={"lang": "en"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["access-control-allow-origin"] == "*" and "etag" in r.headers
    body = r.json()
    assert set(body) == {"product_id", "lang", "computed_at", "reviews", "topics"}
    assert body["product_id"] == PRODUCT and body["lang"] == "en" and body["computed_at"]
    topic = body["topics"][0]
    assert set(topic) == {"id", "label", "reviews", "stars", "languages", "quotes"}
    assert set(topic["label"]) == {"text", "lang", "review_id", "in_visitor_language", "language_name"}
    assert set(topic["stars"]) == {"4-5", "3", "1-2"}
    assert sum(topic["languages"].values()) == topic["reviews"]
    assert all(set(q) == {"review_id", "text", "lang", "rating"} for q in topic["quotes"])
    # Most mentioned first.
    assert [t["reviews"] for t in body["topics"]] == sorted((t["reviews"] for t in body["topics"]), reverse=True)
    # The same URL again: the same bytes, and a 304 for the client that has them.
    again = await client.get(URL, params={"lang": "en"}, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


async def test_labels_and_quotes_come_in_the_visitors_language_first(
        client: httpx.AsyncClient, computed: Merchant) -> None:
    for lang in ("es", "de", "pl"):
        body = (await client.get(URL, params={"lang": lang})).json()
        assert body["lang"] == lang
        for topic in body["topics"]:
            if lang in topic["languages"]:
                assert topic["label"]["lang"] == lang and topic["label"]["in_visitor_language"]
                assert topic["quotes"][0]["lang"] == lang


async def test_a_label_in_another_language_says_which(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    for i, text in enumerate(("Szybka dostawa, polecam.", "Bardzo szybka dostawa.", "Dostawa była szybka.")):
        await add(services, m.id, Text("pl", 5, text), n=i)
    await recompute.recompute(services.pool, embedder, m.id, PRODUCT, services.clock.now())
    body = (await client.get(URL, params={"lang": "es"})).json()
    label = body["topics"][0]["label"]
    assert label["lang"] == "pl" and not label["in_visitor_language"]
    assert label["language_name"] == "polaco"  # in the visitor's language: "mentioned in Polish"


async def test_good_and_bad_are_both_quoted_where_both_exist(client: httpx.AsyncClient, computed: Merchant) -> None:
    body = (await client.get(URL, params={"lang": "en"})).json()
    for topic in body["topics"]:
        if topic["stars"]["4-5"] and topic["stars"]["1-2"]:
            ratings = [q["rating"] for q in topic["quotes"]]
            assert any(r >= 4 for r in ratings) and any(r <= 2 for r in ratings)


async def test_unknown_shops_and_products_without_reviews_are_404(
        client: httpx.AsyncClient, merchant: tuple[Merchant, str]) -> None:
    for url in ("/widgets/v1/no-such-shop/topics.json", f"/widgets/v1/no-such-shop/products/{PRODUCT}/topics.json",
                URL, "/widgets/v1/demo-shop/topics.json"):
        r = await client.get(url)
        assert r.status_code == 404, url
        assert r.json()["error"]["code"] == "not_found"


async def test_reviews_not_yet_grouped_answer_an_empty_list(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str]) -> None:
    await add(services, merchant[0].id, PUBLISHED[0], n=1)
    body = (await client.get(URL)).json()
    assert body["topics"] == [] and body["computed_at"] is None and body["lang"] == "en"


async def test_an_unsupported_language_is_refused(client: httpx.AsyncClient, computed: Merchant) -> None:
    r = await client.get(URL, params={"lang": "xx"})
    assert r.status_code == 422 and "lang" in r.json()["error"]["fields"]


async def test_a_recomputation_shows_on_the_next_request(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    await seed(services, m.id)
    empty = (await client.get(URL)).json()  # cached at this version of the shop
    assert empty["topics"] == []
    await recompute.recompute(services.pool, embedder, m.id, PRODUCT, services.clock.now())
    assert (await client.get(URL)).json()["topics"]


async def test_the_openapi_document_describes_both_routes_as_answered(
        client: httpx.AsyncClient, computed: Merchant) -> None:
    doc = (await client.get("/openapi.json")).json()
    for path in ("/widgets/v1/{slug}/topics.json", "/widgets/v1/{slug}/products/{product_id}/topics.json"):
        answers = doc["paths"][path]["get"]["responses"]
        assert {"200", "404", "422"} <= set(answers)
    schemas = doc["components"]["schemas"]
    body = (await client.get(URL, params={"lang": "it"})).json()
    assert set(schemas["Topics"]["required"]) == set(body)
    topic = body["topics"][0]
    assert set(schemas["Topic"]["required"]) == set(topic)
    assert set(schemas["Topic"]["properties"]["label"]["required"]) == set(topic["label"])
    assert set(schemas["Topic"]["properties"]["stars"]["required"]) == set(topic["stars"])
    assert set(schemas["TopicQuote"]["required"]) == set(topic["quotes"][0])
    # The shop form with ?product= answers the same as the product's own path.
    same = (await client.get("/widgets/v1/demo-shop/topics.json", params={"lang": "it", "product": PRODUCT})).json()
    assert same == body


async def test_a_topics_reviews_come_with_the_spans_that_mention_it(
        services: Services, client: httpx.AsyncClient, computed: Merchant) -> None:
    """What a chip filters the list to (the one listing's topic filter, for the widget and the public
    product page): the topic's published reviews, each with the words to highlight."""
    from widgets.listing import ReviewFilter, published_reviews

    topic = (await client.get(URL, params={"lang": "en"})).json()["topics"][0]
    rows, total = await published_reviews(services.pool, computed.id, ReviewFilter(topic_id=topic["id"]), limit=50)
    assert total == topic["reviews"] == len(rows)
    for row in rows:
        assert row["mentions"]
        for span in row["mentions"]:
            text = row["title"] if span["field"] == "title" else row["body"]
            assert 0 <= span["start"] < span["end"] <= len(text)
    assert {q["review_id"] for q in topic["quotes"]} <= {r["id"] for r in rows}
    # Another shop's id gets nothing.
    other_shop = await published_reviews(services.pool, computed.id + 1, ReviewFilter(topic_id=topic["id"]), limit=5)
    assert other_shop == ([], 0)
