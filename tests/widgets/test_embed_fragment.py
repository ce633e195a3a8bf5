"""The SEO fragment: a product's reviews as HTML for the shop's own page, with its JSON-LD, in the markup
and style of embed.js's review list (which takes it over)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import httpx
import pytest

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import add_review
from tests.widgets.storefront import Storefront, storefront
from widgets import scripts

URL = "/widgets/v1/demo-shop/products/SKU-1/reviews.html"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Storefront:
    return await storefront(services, merchant[0])


class Tags(HTMLParser):
    """Checks that every element is closed in order, and keeps the text and the classes."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: list[str] = []
        self.classes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.classes.update((dict(attrs).get("class") or "").split())
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, (tag, self.open)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    tags.close()
    assert tags.open == []
    return tags


async def test_the_fragment_is_the_review_list_in_a_declarative_shadow_root(client: httpx.AsyncClient,
                                                                              shop: Storefront):
    r = await client.get(URL)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    html = r.text
    assert html.startswith('<div data-attest-widget="reviews" data-merchant="demo-shop" data-product="SKU-1" '
                           'data-lang="en" data-attest-fragment>')
    assert '<template shadowrootmode="open">' in html
    tags = parsed(html)
    # The classes the script's handlers and style sheet know.
    assert {"w", "h", "sum", "avg", "st", "hist", "tools", "go", "status", "list", "r", "top", "t", "b", "rep", "m",
            "tag", "ok", "more", "foot"} <= tags.classes
    text = " ".join(tags.text)
    for words in ("Customer reviews", "5 reviews", "Showing 5 of 5 reviews", "✓ Verified buyer", "Imported review",
                  "Written in German", "Written in Polish", "Reply from Demo Shop", "Thank you, Anna!",
                  "Held on wet rock.", "May 1, 2024", "All reviews of Demo Shop", "How reviews are verified"):
        assert words in text, words
    assert 'href="http://testserver/shops/demo-shop/products/SKU-1?stars=5"' in html
    assert 'href="http://testserver/verification/demo-shop"' in html
    for hidden in ("HIDDEN-", "LEAKED-", "secret-", "Merino", "Fast delivery"):
        assert hidden not in html


async def test_its_only_style_is_the_hashed_block_of_the_widgets_own_sheet(client: httpx.AsyncClient,
                                                                            shop: Storefront):
    r = await client.get(URL)
    style = re.search(r"<style>(.*?)</style>", r.text, re.S)
    assert style is not None and ' style="' not in r.text
    built = scripts.build()
    assert style.group(1).startswith(built.base_css) and built.reviews_css in style.group(1)
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode() + "'"
    assert r.headers["x-attest-style-hash"] == digest
    csp = r.headers["content-security-policy"]
    assert f"style-src {digest}" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-robots-tag"] == "noindex"  # the shop's page that includes it is what gets indexed


async def test_the_products_json_ld_rides_along(client: httpx.AsyncClient, services: Services, shop: Storefront):
    await add_review(services, shop.merchant.id, 5, product_id="SKU-1", body="</script><script>alert(2)</script>")
    html = (await client.get(URL)).text
    scripts_found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts_found) == 1 and html.count("<script") == 1  # the review's own text opened no element
    doc = json.loads(scripts_found[0])
    assert doc["@type"] == "Product" and doc["name"] == "Trail shoes" and doc["productID"] == "SKU-1"
    assert doc["aggregateRating"]["reviewCount"] == 6
    assert "</script><script>alert(2)</script>" in [x["reviewBody"] for x in doc["review"]]


async def test_review_text_is_escaped(client: httpx.AsyncClient, shop: Storefront):
    html = (await client.get(URL)).text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; &#39;single&#39;" in html


@pytest.mark.slow
async def test_in_the_visitors_language_with_theirs_first(client: httpx.AsyncClient, shop: Storefront):
    r = await client.get(URL + "?lang=pl")
    assert r.headers["content-language"] == "pl"
    tags = parsed(r.text)
    text = " ".join(tags.text)
    assert "Opinie klientów" in text and "Język: niemiecki" in text and "Język: angielski" in text
    assert "Język: polski" not in text
    first = re.search(r'<li class="r">.*?<h3 class="t">(.*?)</h3>', r.text, re.S)
    assert first is not None and first.group(1) == "Dobre buty"
    de = (await client.get(URL + "?lang=de")).text
    assert "Verfasst auf Polnisch" in de and "Bewertungen von Demo Shop" in de


@pytest.mark.slow
async def test_more_pages_are_a_link_and_a_product_without_reviews_is_empty(client: httpx.AsyncClient,
                                                                           shop: Storefront):
    two = (await client.get(URL + "?per_page=2")).text
    assert re.search(r'<a class="more" href="[^"]*\?page=2">', two) and "Showing 2 of 5 reviews" in two
    assert 'data-per="2"' in two
    five = (await client.get(URL)).text
    assert re.search(r'<a class="more" href="[^"]*" hidden>', five)
    empty = await client.get("/widgets/v1/demo-shop/products/NEW-PRODUCT/reviews.html")
    assert empty.status_code == 200 and "No reviews yet" in empty.text and "ld+json" not in empty.text
    parsed(empty.text)


async def test_product_ids_with_slashes_and_bad_requests(client: httpx.AsyncClient, services: Services,
                                                         shop: Storefront):
    await add_review(services, shop.merchant.id, 4, product_id="shoes/trail", title="Slashed")
    assert "Slashed" in (await client.get("/widgets/v1/demo-shop/products/shoes/trail/reviews.html")).text
    assert (await client.get("/widgets/v1/no-shop/products/SKU-1/reviews.html")).status_code == 404
    for query in ("per_page=0", "per_page=51", "per_page=x", "lang=xx"):
        r = await client.get(f"{URL}?{query}")
        assert r.status_code in (200, 422), query
        if query != "lang=xx":  # an unknown language falls back to the shop's, as on every page
            assert r.json()["error"]["fields"] == {"per_page": r.json()["error"]["fields"]["per_page"]}
    long = await client.get(f"/widgets/v1/demo-shop/products/{'x' * 201}/reviews.html")
    assert long.status_code == 422 and long.json()["error"]["fields"] == {"product": "at most 200 characters"}


async def test_the_iframe_page_pages_through_every_review(client: httpx.AsyncClient, services: Services,
                                                          shop: Storefront):
    for i in range(12):
        await add_review(services, shop.merchant.id, 4, product_id="MANY", title=f"Review {i}")
    first = (await client.get("/widgets/v1/demo-shop/widget.html?product=MANY&lang=de")).text
    assert first.count('class="review"') == 10 and "Seite 1 von 2" in first
    assert 'href="/widgets/v1/demo-shop/widget.html?product=MANY&amp;lang=de&amp;page=2"' in first
    second = (await client.get("/widgets/v1/demo-shop/widget.html?product=MANY&lang=de&page=2")).text
    assert second.count('class="review"') == 2 and "Seite 2 von 2" in second
    assert 'href="/widgets/v1/demo-shop/widget.html?product=MANY&amp;lang=de" rel="prev"' in second
    assert (await client.get("/widgets/v1/demo-shop/widget.html?page=0")).status_code == 422
