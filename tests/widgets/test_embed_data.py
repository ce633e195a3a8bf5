"""reviews.json as the review list and the carousel read it: filters, sorts, pooled languages, paging,
the written date, and everything a widget shows in one answer."""

from __future__ import annotations

import re

import httpx
import pytest

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import HOSTILE, add_review
from tests.widgets.storefront import Storefront, storefront

URL = "/widgets/v1/demo-shop/reviews.json"


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Storefront:
    return await storefront(services, merchant[0])


async def _titles(client: httpx.AsyncClient, query: str) -> list[str]:
    r = await client.get(f"{URL}?{query}")
    assert r.status_code == 200, r.text
    return [x["title"] for x in r.json()["reviews"]]


async def test_newest_first_by_when_the_author_wrote_it(client: httpx.AsyncClient, shop: Storefront):
    # The German import was published with the others but written in 2024: it comes last.
    titles = await _titles(client, "product=SKU-1")
    assert titles[-1] == "Alte Bewertung" and titles[0] == HOSTILE
    assert titles == await _titles(client, "product=SKU-1&sort=newest")


async def test_sort_by_rating_then_newest(client: httpx.AsyncClient, services: Services, shop: Storefront):
    await add_review(services, shop.merchant.id, 5, product_id="SKU-1", title="Newest five")
    assert await _titles(client, "product=SKU-1&sort=highest") == [
        "Newest five", "Great grip", "Dobre buty", "Alte Bewertung", HOSTILE, "Fell apart"]
    lowest = await _titles(client, "product=SKU-1&sort=lowest")
    assert lowest[:2] == ["Fell apart", HOSTILE] and lowest[-2:] == ["Newest five", "Great grip"]


async def test_filters_by_stars_reply_and_language(client: httpx.AsyncClient, shop: Storefront):
    r = (await client.get(f"{URL}?stars=5")).json()
    assert [x["title"] for x in r["reviews"]] == ["Fast delivery", "Great grip"] and r["total"] == 2
    assert await _titles(client, "with_reply=true") == ["Great grip"]
    assert await _titles(client, "with_reply=true&stars=4") == []
    assert await _titles(client, "language=pl") == ["Dobre buty"]
    assert await _titles(client, "language=de&product=SKU-2") == []


async def test_languages_pooled_with_the_visitors_first(client: httpx.AsyncClient, shop: Storefront):
    everything = await _titles(client, "product=SKU-1")
    polish_first = await _titles(client, "product=SKU-1&lang=pl")
    assert polish_first[0] == "Dobre buty" and sorted(polish_first) == sorted(everything)
    assert polish_first[1:] == [t for t in everything if t != "Dobre buty"]  # the rest in the same order
    german = await _titles(client, "product=SKU-1&lang=de-AT&sort=lowest")
    assert german[0] == "Alte Bewertung" and german[1] == "Fell apart"


async def test_each_review_says_what_a_widget_shows(client: httpx.AsyncClient, shop: Storefront):
    data = (await client.get(f"{URL}?product=SKU-1&per_page=50")).json()
    by_title = {x["title"]: x for x in data["reviews"]}
    imported, replied, polish, edited = (by_title[t] for t in ("Alte Bewertung", "Great grip", "Dobre buty",
                                                                 "Fell apart"))
    assert imported["written_at"] == "2024-05-01T09:30:00Z" and imported["published_at"].startswith("2026-")
    assert (imported["method"], imported["verified"], imported["language"]) == ("imported", False, "de")
    assert (replied["method"], replied["verified"], replied["language"]) == ("invited", True, "en")
    assert replied["reply"]["body"] == "Thank you, Anna!" and re.fullmatch(r"\d{4}-.*Z", replied["reply"]["replied_at"])
    assert polish["language"] == "pl" and polish["reply"] is None and polish["edited_at"] is None
    assert edited["edited_at"] is not None and edited["edited"] is True
    for secret in ("secret-author-hash", "secret-ip-hash", "HIDDEN-", "LEAKED-", "ext-"):
        assert secret not in str(data)


async def test_a_language_code_that_is_not_one_is_none(client: httpx.AsyncClient, services: Services,
                                                       shop: Storefront):
    for locale in ("xx_YY-long-junk-!", "", "1234", "Deutsch"):
        await add_review(services, shop.merchant.id, 3, product_id="JUNK", title=locale or "empty", locale=locale)
    data = (await client.get(f"{URL}?product=JUNK")).json()
    assert {x["title"]: x["language"] for x in data["reviews"]} == {
        "xx_YY-long-junk-!": "xx", "empty": None, "1234": None, "Deutsch": None}


async def test_one_answer_holds_the_summary_and_the_shop(client: httpx.AsyncClient, shop: Storefront):
    data = (await client.get(f"{URL}?product=SKU-1&stars=1")).json()
    # The summary is the product's whole, not the filtered part: the histogram stays as it was.
    assert data["summary"] == {"average": 3.0, "count": 5, "distribution": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}}
    assert data["shop"] == {"name": "Demo Shop", "accent": "#1f6feb"}
    assert (data["total"], data["pages"], len(data["reviews"])) == (1, 1, 1)


async def test_paging_with_filters(client: httpx.AsyncClient, shop: Storefront):
    pages = [(await client.get(f"{URL}?product=SKU-1&sort=highest&per_page=2&page={n}")).json() for n in (1, 2, 3, 4)]
    assert [len(p["reviews"]) for p in pages] == [2, 2, 1, 0]
    assert {p["total"] for p in pages} == {5} and {p["pages"] for p in pages} == {3}
    assert len({x["id"] for p in pages for x in p["reviews"]}) == 5
