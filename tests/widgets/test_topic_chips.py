"""What buyers mention, where shoppers see it (issue 25): reviews.json's `topic` filter with the spans to
highlight and a product's topics beside its list, and the chips of the public product page (links that
filter the list, the mention marked, the counts and star split as topics.json has them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import add_review
from tests.widgets.topic_support import Said, save_topics

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

PRODUCT = "SKU-1"
JSON = "/widgets/v1/demo-shop/reviews.json"
PAGE = f"/shops/demo-shop/products/{PRODUCT}"


@dataclass
class Shop:
    merchant: Merchant
    ids: dict[str, int]
    battery: int
    strap: int


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Shop:
    """Trail watch reviews: the battery mentioned by three (two 4-5★ in English, one 1★ in Polish), the
    strap by three (one 5★, one 2★, the Polish 1★); a review that mentions neither."""
    m = merchant[0]

    async def add(key: str, rating: int, title: str, body: str, locale: str = "en") -> tuple[str, int]:
        return key, await add_review(services, m.id, rating, product_id=PRODUCT, product_name="Trail watch",
                                     title=title, body=body, locale=locale, display_name=key)

    ids = dict([
        await add("anna", 5, "Love it", "The battery lasts two days. Strap is comfy."),
        await add("ben", 4, "Battery champion", "Great battery life, charges fast."),
        await add("ola", 1, "Słabo", "Bateria słaba. Pasek pękł.", "pl"),
        await add("carl", 2, "Meh", "Strap broke after a week."),
        await add("dana", 5, "Nice", "Bright screen."),
    ])
    battery, strap = await save_topics(services, m.id, PRODUCT, [
        [Said(ids["anna"], "The battery lasts two days", label=True), Said(ids["ben"], "Great battery life"),
         Said(ids["ben"], "Battery champion", field="title"), Said(ids["ola"], "Bateria słaba", label=True)],
        [Said(ids["anna"], "Strap is comfy", label=True), Said(ids["carl"], "Strap broke after a week"),
         Said(ids["ola"], "Pasek pękł", label=True)],
    ])
    return Shop(m, ids, battery, strap)


def _marked(review: dict[str, object]) -> list[str]:
    out = []
    for m in review["mentions"]:  # type: ignore[attr-defined]
        out.append(str(review[m["field"]])[m["start"]:m["end"]])
    return out


async def test_reviews_json_filters_to_a_topic_with_the_words_to_mark(client: httpx.AsyncClient, shop: Shop) -> None:
    r = await client.get(JSON, params={"product": PRODUCT, "topic": str(shop.battery), "lang": "en"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3
    marked = {x["display_name"]: _marked(x) for x in body["reviews"]}
    # Each review's own words, verbatim, and only this topic's (Anna's strap is not marked here).
    assert marked == {"anna": ["The battery lasts two days"], "ben": ["Battery champion", "Great battery life"],
                      "ola": ["Bateria słaba"]}
    # The chip's count is the number of reviews the filter lists.
    chip = next(t for t in body["topics"] if t["id"] == shop.battery)
    assert chip["reviews"] == body["total"] and chip["stars"] == {"4-5": 2, "3": 0, "1-2": 1}
    # The topics beside the list are topics.json's.
    topics = (await client.get(f"/widgets/v1/demo-shop/products/{PRODUCT}/topics.json", params={"lang": "en"})).json()
    assert body["topics"] == topics["topics"]
    strap = (await client.get(JSON, params={"product": PRODUCT, "topic": str(shop.strap)})).json()
    assert {x["display_name"] for x in strap["reviews"]} == {"anna", "carl", "ola"}
    # Without a topic, no review carries mentions; the shop's list carries no product's topics.
    plain = (await client.get(JSON, params={"product": PRODUCT})).json()
    assert plain["total"] == 5 and all("mentions" not in x for x in plain["reviews"])
    assert "topics" not in (await client.get(JSON)).json()


async def test_a_topic_lists_only_published_reviews_of_its_shop(client: httpx.AsyncClient, services: Services,
                                                                shop: Shop) -> None:
    await services.pool.execute("UPDATE reviews SET state = 'withdrawn' WHERE id = $1", shop.ids["ben"])
    body = (await client.get(JSON, params={"product": PRODUCT, "topic": str(shop.battery)})).json()
    assert {x["display_name"] for x in body["reviews"]} == {"anna", "ola"} and body["total"] == 2
    # A topic id of nothing, or not this shop's, selects nothing; a malformed one is refused.
    assert (await client.get(JSON, params={"topic": str(shop.strap + 1000)})).json()["total"] == 0
    for bad in ("abc", "0", "-1", str(2**63)):
        r = await client.get(JSON, params={"topic": bad})
        assert r.status_code == 422 and "topic" in r.json()["error"]["fields"], bad


async def test_the_product_page_shows_the_chips_as_links(client: httpx.AsyncClient, shop: Shop) -> None:
    r = await client.get(PAGE, params={"lang": "en"})
    assert r.status_code == 200
    chips = re.search(r'<nav class="chips card".*?</nav>', r.text, re.S)
    assert chips and "What buyers mention" in chips.group(0)
    links = re.findall(r'<a href="([^"]+)"><span lang="(\w+)">([^<]+)</span>\s*<span class="n">([^<]+)</span>',
                       chips.group(0))
    assert links == [
        (f"{PAGE}?lang=en&amp;topic={shop.battery}", "en", "The battery lasts two days",
         "3 reviews · 2 of them 4-5★ · 1 of them 1-2★"),
        (f"{PAGE}?lang=en&amp;topic={shop.strap}", "en", "Strap is comfy",
         "3 reviews · 1 of them 4-5★ · 2 of them 1-2★")]
    # A chip's page: the reviews that mention it, the mention marked, the chip current, not indexed.
    page = await client.get(PAGE, params={"lang": "en", "topic": str(shop.battery)})
    assert page.status_code == 200 and page.text.count('<li class="review">') == 3
    # The visitor's language first (English), newest first within it.
    assert re.findall(r"<mark>([^<]+)</mark>", page.text) == ["Battery champion", "Great battery life",
                                                              "The battery lasts two days", "Bateria słaba"]
    assert 'aria-current="true"><span lang="en">The battery lasts two days' in page.text
    assert "noindex" in page.text and "“The battery lasts two days”" in page.text  # the filter in use
    assert (await client.get(PAGE, params={"topic": "x"})).status_code == 400


async def test_a_label_from_another_language_says_so(client: httpx.AsyncClient, shop: Shop) -> None:
    polish = (await client.get(PAGE, params={"lang": "pl"})).text
    assert '<span lang="pl">Bateria słaba</span>' in polish and '<span lang="pl">Pasek pękł</span>' in polish
    assert "Wspomniane w języku" not in polish
    spanish = (await client.get(PAGE, params={"lang": "es"})).text
    assert '<span lang="en">The battery lasts two days</span> <span class="muted">(Mencionado en inglés)</span>' \
        in spanish
    assert "3 reseñas · 2 de ellas con 4-5★" in spanish


async def test_the_seo_fragment_links_its_chips_to_the_public_page(client: httpx.AsyncClient, shop: Shop) -> None:
    r = await client.get(f"/widgets/v1/demo-shop/products/{PRODUCT}/reviews.html", params={"lang": "en"})
    assert r.status_code == 200
    chips = re.findall(r'<li><a href="([^"]+)"><b lang="(\w+)">([^<]+)</b> · ([^<]+)</a></li>', r.text)
    page = f"http://testserver{PAGE}"
    assert chips == [(f"{page}?topic={shop.battery}", "en", "The battery lasts two days",
                      "3 reviews · 2 of them 4-5★, 1 of them 1-2★"),
                     (f"{page}?topic={shop.strap}", "en", "Strap is comfy",
                      "3 reviews · 1 of them 4-5★, 2 of them 1-2★")]
