"""The public shop and product pages (/shops/{slug}): content, filters, sort, pages, pooled languages, the
transparency figures, the sitemap, JSON-LD, friendly 404s, escaping and hostile queries, against a real database."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from starlette.datastructures import QueryParams

from embedding.detect import Flag
from reviews.app import SHOP_PAGES
from reviews.collection import replies
from reviews.collection import store as reviews
from reviews.collection.reasons import REASONS
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.moderation import decisions
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES
from reviews.screening import flags
from tests.helpers import HOSTILE, add_review, ingest
from widgets import transparency
from widgets.pages import params, present

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "widgets"
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # the FrozenClock's start: "now" for the pages
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
Fixture = tuple[Merchant, str]


class Page(HTMLParser):
    """What a test reads of a page: its links, text, meta tags, canonical and JSON-LD."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.meta: dict[str, str] = {}
        self.link_rel: list[tuple[str, str, str]] = []  # (rel, hreflang, href)
        self.scripts: list[tuple[str, str]] = []  # (type, content)
        self.lang = ""
        self._script: str | None = None
        self._texts: list[str] = []
        self._skip = 0
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "a":
            self.links.append(a.get("href", ""))
        elif tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        elif tag == "link":
            self.link_rel.append((a.get("rel", ""), a.get("hreflang", ""), a.get("href", "")))
        elif tag == "script":
            self._script = a.get("type", "")
            self.scripts.append((self._script, ""))
        if tag in ("style", "script", "head"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head"):
            self._skip -= 1
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            kind, content = self.scripts[-1]
            self.scripts[-1] = (kind, content + data)
        elif not self._skip:
            self._texts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self._texts))

    @property
    def canonical(self) -> str:
        return next(href for rel, _, href in self.link_rel if rel == "canonical")

    def jsonld(self) -> list[dict[str, Any]]:
        return [json.loads(content) for kind, content in self.scripts if kind == "application/ld+json"]


async def get_page(client: httpx.AsyncClient, url: str, status: int = 200,
                   **headers: str) -> tuple[httpx.Response, Page]:
    r = await client.get(url, headers=headers)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    return r, Page(r.text)


def review_titles(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<h3 class="title"[^>]*>(.*?)</h3>', page)]


def article(page: str, title: str) -> str:
    """The markup of the review with this title."""
    at = page.index(html.escape(title, quote=False))
    return page[page.rindex("<article>", 0, at):page.index("</article>", at)]


async def other_shop(services: Services) -> Merchant:
    async with services.pool.acquire() as conn:
        m, _ = await merchants.create(conn, name="Other Shop", slug="other-shop", locale="de")
    return m


@pytest.fixture
async def shop(services: Services, merchant: Fixture) -> Merchant:
    """demo-shop: six published reviews (one imported in Polish, one of the shop itself in German, edited, with
    the shop's reply), reviews that must never show (held, pending, rejected, withdrawn) and another shop's."""
    m = merchant[0]
    for rating, title in ((5, "Shoe A"), (5, "Shoe B"), (4, "Shoe C")):
        await add_review(services, m.id, rating, product_id="SKU-1", product_name="Trail shoes", title=title)
    await add_review(services, m.id, 2, product_id="SKU-2", product_name="Merino socks", method="imported",
                     locale="pl", title="Skarpety", display_name="Jan K.")
    shop_review = await add_review(services, m.id, 3, title="About the shop", edited=True, locale="de")
    await add_review(services, m.id, 1, product_id="SKU-2", product_name="Merino socks", title="Socks bad")
    for state in ("held", "pending", "rejected", "withdrawn"):
        await add_review(services, m.id, 1, state=state, product_id="SKU-1", title=f"HIDDEN-{state}")
    other = await other_shop(services)
    await add_review(services, other.id, 1, product_id="SKU-1", title="LEAKED-other-shop")
    async with services.pool.acquire() as conn:
        await replies.save(conn, merchant_id=m.id, review_id=shop_review, text="Danke, Anna!", author="agent@shop",
                           user_id=None, now=NOW)
    return m


# --- content -----------------------------------------------------------------------------------------------------

async def test_the_shop_page_shows_the_rating_the_histogram_and_the_verified_reviews_apart(
        client: httpx.AsyncClient, shop: Merchant):
    r, page = await get_page(client, "/shops/demo-shop")
    text = page.text
    assert page.lang == "en" and r.headers["content-language"] == "en"
    assert "Customer reviews of Demo Shop" in text
    assert "3.3" in text and "Rated 3.3 out of 5 from 6 reviews" in r.text and "Based on 6 published reviews" in text
    assert "5 reviews by verified buyers, invited after a real order" in text
    assert "1 review imported from another review platform" in text
    # Each bar of the histogram is a link that filters by its stars, with its count.
    bars = re.findall(r'<a href="(/shops/demo-shop\?stars=\d)"><span class="lbl">(\d) stars?</span>.*?'
                      r'<span class="n">(\d+)<', r.text)
    assert [(h, int(s), int(n)) for h, s, n in bars] == [
        ("/shops/demo-shop?stars=5", 5, 2), ("/shops/demo-shop?stars=4", 4, 1), ("/shops/demo-shop?stars=3", 3, 1),
        ("/shops/demo-shop?stars=2", 2, 1), ("/shops/demo-shop?stars=1", 1, 1)]
    titles = review_titles(r.text)
    assert sorted(titles) == sorted(["Shoe A", "Shoe B", "Shoe C", "Skarpety", "About the shop", "Socks bad"])
    for hidden in ("HIDDEN-", "LEAKED-", "secret-author-hash", "secret-ip-hash"):
        assert hidden not in r.text
    # Indexable, with its canonical address, and no self-serving stars of the shop for Google.
    assert page.meta["robots"] == "index, follow" and page.canonical == "http://testserver/shops/demo-shop"
    assert page.jsonld() == [] and "<script" not in r.text
    assert "Demo Shop is rated 3.3 out of 5 from 6 reviews." in page.meta["description"]


async def test_a_page_without_scripts_cookies_or_inline_style_outside_its_hash(client: httpx.AsyncClient,
                                                                               shop: Merchant):
    r = await client.get("/shops/demo-shop")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and r.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in r.headers
    assert " style=" not in r.text  # style attributes would need 'unsafe-inline'
    style = re.search(r"<style>(.*?)</style>", r.text, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp


async def test_the_registered_domains_are_named(client: httpx.AsyncClient, services: Services, shop: Merchant):
    page = (await client.get("/shops/demo-shop")).text
    assert "has not registered a website with Attest yet" in page
    await services.pool.execute(
        """UPDATE merchants SET settings = settings || '{"domains": ["shop.example", "www.shop.example",
                                                                     "javascript:alert(1)", 7]}' WHERE id = $1""",
        shop.id)
    r, page2 = await get_page(client, "/shops/demo-shop")
    assert "https://shop.example/" in page2.links and "https://www.shop.example/" in page2.links
    assert "javascript:" not in r.text  # only host names are shown
    assert "a seal shown anywhere else was copied" in page2.text


async def test_each_review_says_how_it_was_collected_when_it_was_written_and_the_shops_reply(
        client: httpx.AsyncClient, services: Services, merchant: Fixture):
    m = merchant[0]
    async with services.pool.acquire() as conn:
        imported = await reviews.add_imported(conn, reviews.Imported(
            merchant_id=m.id, external_id="jm-1", product_id="SKU-9", order_id=None, locale="en", rating=4,
            title="Old favourite", body="Bought it in 2024.", display_name="Ola P.", author_hash=None,
            submitted_at=datetime(2024, 3, 2, 9, 0, tzinfo=UTC), product_name="Lamp"), NOW)
        assert imported is not None
        await replies.add_imported(conn, merchant_id=m.id, review_id=imported, text="Thanks, Ola!",
                                   at=datetime(2024, 3, 4, tzinfo=UTC), now=NOW)
        await reviews.publish(conn, imported, NOW)
    invited = await add_review(services, m.id, 5, product_id="SKU-9", product_name="Lamp", title="Bright",
                               edited=True)
    r, _ = await get_page(client, "/shops/demo-shop")
    block = article(r.text, "Old favourite")
    assert "Imported from another review platform" in block and "Not checked against an order" in block
    assert "Verified buyer" not in block
    # The date its author wrote it at the source, never the day it was imported.
    assert 'Written on <time datetime="2024-03-02">March 2, 2024</time>' in block
    assert "2026" not in re.sub(r"Reply from.*", "", block, flags=re.S)
    assert "Reply from Demo Shop" in block and "Thanks, Ola!" in block
    assert '<time datetime="2024-03-04">March 4, 2024</time>' in block
    bright = article(r.text, "Bright")
    assert "✓ Verified buyer" in bright and "Invited to review after a real order" in bright
    assert "Edited on <time" in bright
    assert invited


async def test_a_platform_named_on_an_imported_row_is_said(services: Services):
    """The label names the source's platform when the row carries one (the import records none yet)."""
    class Row(dict[str, Any]):
        pass

    row = Row(id=1, rating=4, title="", body="", display_name="", product_id=None, product_name=None,
              submitted_at=NOW, edited_at=None, method="imported", locale="en", reply=None, reply_at=None,
              import_source="judgeme", photos=None, mentions=None)
    shown = present.review(row, "en", SHOP_PAGES.catalog.babel_locale("en"), str, "Demo Shop")
    assert shown.imported and not shown.verified and shown.platform == "Judge.me"


# --- filters, sort, pages ------------------------------------------------------------------------------------------

async def test_sorts(client: httpx.AsyncClient, shop: Merchant):
    # Pooled languages: the visitor's (English) first, then the German and the Polish one.
    newest = review_titles((await client.get("/shops/demo-shop")).text)
    assert newest == ["Socks bad", "Shoe C", "Shoe B", "Shoe A", "About the shop", "Skarpety"]
    highest = review_titles((await client.get("/shops/demo-shop?sort=highest")).text)
    assert highest == ["Shoe B", "Shoe A", "Shoe C", "Socks bad", "About the shop", "Skarpety"]
    lowest = review_titles((await client.get("/shops/demo-shop?sort=lowest")).text)
    assert lowest == ["Socks bad", "Shoe C", "Shoe B", "Shoe A", "Skarpety", "About the shop"]
    r, page = await get_page(client, "/shops/demo-shop?sort=highest")
    assert page.meta["robots"] == "noindex, follow" and page.canonical == "http://testserver/shops/demo-shop"
    assert '<a href="/shops/demo-shop?sort=highest" aria-current="true">Highest rated</a>' in r.text


FILTERS = [
    ("stars=5", {"Shoe A", "Shoe B"}),
    ("stars=1", {"Socks bad"}),
    ("language=pl", {"Skarpety"}),
    ("language=de", {"About the shop"}),
    ("replied=1", {"About the shop"}),
    ("about=shop", {"About the shop"}),
    ("about=p%3ASKU-2", {"Skarpety", "Socks bad"}),
    ("about=p%3ASKU-2&stars=2", {"Skarpety"}),
    ("about=p%3ANOPE", set()),
]


async def test_filters(client: httpx.AsyncClient, shop: Merchant):
    for query, titles in FILTERS:
        r, page = await get_page(client, f"/shops/demo-shop?{query}")
        assert set(review_titles(r.text)) == titles, query
        assert page.meta["robots"] == "noindex, follow", query
        assert page.canonical == "http://testserver/shops/demo-shop", query
        assert "/shops/demo-shop" in page.links, query  # "show all reviews"
        if not titles:
            assert "No review matches these filters." in page.text


async def test_the_filter_controls_link_to_their_listings(client: httpx.AsyncClient, shop: Merchant):
    r, page = await get_page(client, "/shops/demo-shop?stars=5&sort=lowest")
    # The histogram's current bar clears its filter; the others switch to theirs, keeping the sort.
    assert '<a href="/shops/demo-shop?sort=lowest" aria-current="true"><span class="lbl">5 stars' in r.text
    assert "/shops/demo-shop?stars=4&sort=lowest" in page.links
    assert "/shops/demo-shop?stars=5&language=pl&sort=lowest" in page.links
    assert "/shops/demo-shop?stars=5&replied=1&sort=lowest" in page.links
    assert "Polish (1)" in page.text and "German (1)" in page.text and "English (4)" in page.text
    assert "Only reviews with a reply from the shop (1)" in page.text
    # The product choice is a plain GET form that keeps the rest of the listing.
    assert '<input type="hidden" name="stars" value="5">' in r.text
    assert '<input type="hidden" name="sort" value="lowest">' in r.text
    assert '<option value="p:SKU-1">Trail shoes (3)</option>' in r.text
    assert '<option value="shop">The shop itself (1)</option>' in r.text


async def test_pages_are_real_links(client: httpx.AsyncClient, services: Services, merchant: Fixture):
    m = merchant[0]
    for i in range(45):
        await add_review(services, m.id, 1 + i % 5, title=f"R{i:02d}")
    r1, page1 = await get_page(client, "/shops/demo-shop?lang=de")
    assert review_titles(r1.text) == [f"R{i:02d}" for i in range(44, 24, -1)]
    assert "Bewertungen 1 bis 20 von 45" in page1.text
    assert "/shops/demo-shop?lang=de&page=2" in page1.links and "/shops/demo-shop?lang=de&page=3" in page1.links
    assert '<a href="/shops/demo-shop?lang=de&amp;page=2" rel="next">' in r1.text and 'rel="prev"' not in r1.text
    r2, page2 = await get_page(client, "/shops/demo-shop?lang=de&page=2")
    assert review_titles(r2.text) == [f"R{i:02d}" for i in range(24, 4, -1)]
    assert page2.canonical == "http://testserver/shops/demo-shop?lang=de&page=2"
    assert page2.meta["robots"] == "index, follow"
    assert '<a href="/shops/demo-shop?lang=de" rel="prev">' in r2.text
    assert '<a href="/shops/demo-shop?lang=de&amp;page=2" aria-current="page">' in r2.text
    r3, _ = await get_page(client, "/shops/demo-shop?lang=de&page=3")
    assert review_titles(r3.text) == [f"R{i:02d}" for i in range(4, -1, -1)] and 'rel="next"' not in r3.text
    _, page4 = await get_page(client, "/shops/demo-shop?lang=de&page=4", status=404)
    assert "Seite nicht gefunden" in page4.text and "/shops/demo-shop?lang=de" in page4.links
    # A filter starts again at the first page.
    assert all("page=" not in urlsplit(h).query for h in page2.links if "stars=" in h)


# --- languages ---------------------------------------------------------------------------------------------------

async def test_languages_are_pooled_the_visitors_first_and_the_others_labelled(client: httpx.AsyncClient,
                                                                             shop: Merchant):
    r, page = await get_page(client, "/shops/demo-shop?lang=pl")
    assert page.lang == "pl" and r.headers["content-language"] == "pl"
    titles = review_titles(r.text)
    assert titles[0] == "Skarpety" and len(titles) == 6  # every language is listed, Polish first
    assert "Napisana w języku" not in article(r.text, "Skarpety")  # the visitor's own language needs no label
    assert "Napisana w języku: angielski" in article(r.text, "Shoe A")
    about = article(r.text, "About the shop")
    assert "Napisana w języku: niemiecki" in about and 'lang="de"' in about
    # In German, the labels and the language names are German.
    r, page = await get_page(client, "/shops/demo-shop?lang=de")
    assert review_titles(r.text)[0] == "About the shop" and "Verfasst auf Polnisch" in page.text
    assert "Verfasst auf Englisch" in page.text


@pytest.mark.slow
async def test_the_language_comes_from_lang_then_accept_language_then_the_shop(client: httpx.AsyncClient,
                                                                             services: Services, shop: Merchant):
    r, page = await get_page(client, "/shops/demo-shop", **{"accept-language": "fr-CH, fr;q=0.9, en;q=0.5"})
    assert page.lang == "fr" and "Avis clients de Demo Shop" in page.text
    assert r.headers["vary"] == "Accept-Language"
    # Reached without ?lang=, links do not add one (the next page negotiates the same way) but the
    # language menu's ...
    switch = re.compile(r"/shops/demo-shop\?lang=\w\w")
    assert all("lang=" not in h for h in page.links if not switch.fullmatch(h))
    assert "/shops/demo-shop?stars=5" in page.links and "/shops/demo-shop?lang=de" in page.links
    # ... while an explicit ?lang= wins over the header and stays in every link.
    r, page = await get_page(client, "/shops/demo-shop?lang=it", **{"accept-language": "fr"})
    assert page.lang == "it"
    assert "/shops/demo-shop?lang=it&stars=5" in page.links
    assert "/shops/demo-shop/products/SKU-1?lang=it" in page.links
    assert "/verification/demo-shop?lang=it" in page.links
    # An unsupported or broken ?lang= falls back to the header, then to the shop's own language.
    _, page = await get_page(client, "/shops/demo-shop?lang=xx", **{"accept-language": "es-ES"})
    assert page.lang == "es"
    await services.pool.execute("UPDATE merchants SET locale = 'ro' WHERE id = $1", shop.id)
    _, page = await get_page(client, "/shops/demo-shop", **{"accept-language": "ja, zh;q=0.8"})
    assert page.lang == "ro" and "Recenziile clienților Demo Shop" in page.text
    # Each language version names the others.
    alternates = {lang: href for rel, lang, href in page.link_rel if rel == "alternate"}
    assert alternates["de"] == "http://testserver/shops/demo-shop?lang=de"
    assert alternates["x-default"] == "http://testserver/shops/demo-shop"
    assert set(alternates) == {*SUPPORTED_LOCALES, "x-default"}


# --- product pages and JSON-LD -------------------------------------------------------------------------------------

async def test_the_product_page_has_its_reviews_and_product_json_ld(client: httpx.AsyncClient, services: Services,
                                                                     shop: Merchant):
    await ingest(services, shop, "A-9", products=[{"id": "SKU-1", "name": "Trail running shoes X2",
                                                   "image_url": "https://shop.example/i/x2.jpg",
                                                   "url": "https://shop.example/p/x2", "gtin": "4006381333931"}])
    r, page = await get_page(client, "/shops/demo-shop/products/SKU-1")
    assert "Reviews of Trail running shoes X2" in page.text  # the name its orders give it
    assert set(review_titles(r.text)) == {"Shoe A", "Shoe B", "Shoe C"}
    assert "/shops/demo-shop" in page.links and "https://shop.example/p/x2" in page.links
    assert '<img src="https://shop.example/i/x2.jpg"' in r.text
    assert page.canonical == "http://testserver/shops/demo-shop/products/SKU-1"
    (doc,) = page.jsonld()
    assert doc["@type"] == "Product" and doc["name"] == "Trail running shoes X2"
    assert doc["image"] == "https://shop.example/i/x2.jpg" and doc["gtin"] == "4006381333931"
    assert doc["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.67, "reviewCount": 3,
                                      "bestRating": 5, "worstRating": 1}
    assert [x["name"] for x in doc["review"]] == review_titles(r.text)
    first = doc["review"][0]
    assert first["author"] == {"@type": "Person", "name": "Anna K."} and first["reviewRating"]["ratingValue"] in (4, 5)
    assert first["datePublished"] == "2026-01-01" and first["inLanguage"] == "en"
    for kind in ("Organization", "LocalBusiness"):
        assert kind not in r.text


async def test_json_ld_dates_are_the_written_dates_and_cannot_close_the_script(
        client: httpx.AsyncClient, services: Services, merchant: Fixture):
    m = merchant[0]
    async with services.pool.acquire() as conn:
        rid = await reviews.add_imported(conn, reviews.Imported(
            merchant_id=m.id, external_id="x", product_id="P</script>", order_id=None, locale="en", rating=5,
            title="</script><script>alert(1)</script>", body=HOSTILE, display_name="<b>Eve</b>", author_hash=None,
            submitted_at=datetime(2025, 2, 3, tzinfo=UTC), product_name="Lamp </script>"), NOW)
        assert rid is not None
        await reviews.publish(conn, rid, NOW)
    r, page = await get_page(client, "/shops/demo-shop/products/P%3C%2Fscript%3E")
    assert r.text.count("</script>") == 1  # only the JSON-LD block's own end
    (doc,) = page.jsonld()
    assert doc["name"] == "Lamp </script>" and doc["review"][0]["name"] == "</script><script>alert(1)</script>"
    assert doc["review"][0]["datePublished"] == "2025-02-03"


async def test_a_product_known_from_orders_without_published_reviews(client: httpx.AsyncClient, services: Services,
                                                                    shop: Merchant):
    await ingest(services, shop, "A-10", products=[{"id": "NEW-1", "name": "Brand new tent"}])
    await add_review(services, shop.id, 5, state="held", product_id="NEW-1", title="HIDDEN-held")
    r, page = await get_page(client, "/shops/demo-shop/products/NEW-1")
    assert "Reviews of Brand new tent" in page.text and "No reviews yet" in page.text
    assert page.jsonld() == [] and page.meta["robots"] == "noindex, follow"
    assert "HIDDEN" not in r.text


NOT_FOUND = [
    ("/shops/no-such-shop", "de", "Shop nicht gefunden"),
    ("/shops/Not_A_Slug!", "pl", "Nie znaleziono sklepu"),
    ("/shops/demo-shop/products/NOPE", "fr", "Produit introuvable"),
    ("/shops/demo-shop/products/", "es", "Producto no encontrado"),
    ("/shops/no-such-shop/sitemap.xml", "it", "Negozio non trovato"),
]


async def test_unknown_shops_and_products_are_friendly_localized_404s(client: httpx.AsyncClient, shop: Merchant):
    for path, lang, title in NOT_FOUND:
        r, page = await get_page(client, path, status=404, **{"accept-language": lang})
        assert page.lang == lang and title in page.text, path
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert page.meta["robots"] == "noindex, follow" and r.headers["cache-control"] == "no-store"
        if "demo-shop" in path:
            assert "/shops/demo-shop" in page.links  # back to the shop's reviews


# --- the sitemap -------------------------------------------------------------------------------------------------

async def test_the_sitemap_lists_the_shop_page_and_each_reviewed_product(client: httpx.AsyncClient,
                                                                         services: Services, shop: Merchant):
    await add_review(services, shop.id, 5, state="held", product_id="ONLY-HELD")
    await add_review(services, shop.id, 5, product_id="a/b c", product_name="Slash")
    r = await client.get("/shops/demo-shop/sitemap.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(r.content)  # noqa: S314 (the app's own answer)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    locs = [u.findtext("s:loc", namespaces=ns) for u in root.findall("s:url", ns)]
    assert locs[0] == "http://testserver/shops/demo-shop"
    assert set(locs[1:]) == {"http://testserver/shops/demo-shop/products/SKU-1",
                             "http://testserver/shops/demo-shop/products/SKU-2",
                             "http://testserver/shops/demo-shop/products/a%2Fb%20c"}
    first = root.find("s:url", ns)
    assert first is not None and first.findtext("s:lastmod", namespaces=ns) == "2026-01-01"
    alternates = {a.get("hreflang"): a.get("href") for a in first.findall("x:link", ns)}
    assert alternates["pl"] == "http://testserver/shops/demo-shop?lang=pl" and "x-default" in alternates
    # Each address listed is a page that exists.
    for loc in locs:
        path = urlsplit(loc).path
        assert (await client.get(path)).status_code == 200, loc


# --- transparency --------------------------------------------------------------------------------------------------

B = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


async def _invited(services: Services, m: Merchant, order: str, rating: int, at: datetime, title: str = "T") -> int:
    await ingest(services, m, order)
    ids = await services.pool.fetchrow(
        """SELECT o.id AS order_id, i.id AS invitation_id FROM orders o JOIN invitations i ON i.order_id = o.id
           WHERE o.merchant_id = $1 AND o.external_id = $2""", m.id, order)
    async with services.pool.acquire() as conn:
        (rid,) = await reviews.save_invited(
            conn, merchant_id=m.id, order_id=ids["order_id"], invitation_id=ids["invitation_id"], author_hash=None,
            display_name="Anna K.", locale="en", items=[reviews.Submission(None, None, rating, title, "Body text.")],
            now=at, ip_hash=None, user_agent_family=None)
    return int(rid)


async def _imported(services: Services, m: Merchant, ext: str, rating: int, written: datetime, at: datetime) -> int:
    async with services.pool.acquire() as conn:
        rid = await reviews.add_imported(conn, reviews.Imported(
            merchant_id=m.id, external_id=ext, product_id=None, order_id=None, locale="en", rating=rating, title=ext,
            body="Imported text.", display_name="Ola P.", author_hash=None, submitted_at=written), at)
    assert rid is not None
    return rid


async def _flag(services: Services, rid: int, at: datetime) -> None:
    async with services.pool.acquire() as conn:
        await flags.save(conn, [Flag(rid, "campaign", 5.0, {"related": []})], at)


async def _decide(services: Services, rid: int, decision: str, at: datetime, code: str | None = None) -> None:
    async with services.pool.acquire() as conn:
        await decisions.decide(conn, rid, decision, moderator="mia", now=at, code=code)


@pytest.fixture
async def year(services: Services, merchant: Fixture) -> Merchant:
    """A year of one shop's reviews, made through their owners, each handled its own way (see the test)."""
    m = merchant[0]
    h, d = timedelta(hours=1), timedelta(days=1)
    r1 = await _invited(services, m, "O-1", 5, B)
    r2 = await _invited(services, m, "O-2", 1, B)
    r3 = await _invited(services, m, "O-3", 2, B)
    r4 = await _invited(services, m, "O-4", 4, B)
    r5 = await _invited(services, m, "O-5", 3, B)
    await _invited(services, m, "O-6", 5, B)  # never scanned: pending
    r7 = await _invited(services, m, "O-7", 2, B)
    r8 = await _imported(services, m, "I-8", 4, datetime(2024, 3, 2, tzinfo=UTC), B)
    r9 = await _imported(services, m, "I-9", 1, datetime(2024, 4, 2, tzinfo=UTC), B)
    r11 = await _imported(services, m, "I-11", 5, datetime(2024, 3, 2, tzinfo=UTC), B)
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, r1, B + 2 * h)  # 2 h to publication
        await reviews.publish(conn, r8, B + timedelta(minutes=10))
        await reviews.publish(conn, r9, B + timedelta(minutes=20))
        await reviews.publish(conn, r11, B + timedelta(minutes=30))
    await _flag(services, r2, B + h)
    await _decide(services, r2, "publish", B + 5 * h)  # 5 h to publication and to the decision
    await _flag(services, r3, B + h)
    await _decide(services, r3, "reject", B + 9 * h, "personal_data")  # 9 h to the decision
    # r4 is edited two hours in; the moderator judges the new text four hours after it came.
    await _invited(services, m, "O-4", 3, B + 2 * h, title="T2")
    await _flag(services, r4, B + 3 * h)
    await _decide(services, r4, "reject", B + 6 * h, "bought")
    async with services.pool.acquire() as conn:
        await reviews.withdraw(conn, r5, B + h)
    await _flag(services, r7, B + h)  # still waiting for a moderator
    async with services.pool.acquire() as conn:
        await replies.save(conn, merchant_id=m.id, review_id=r1, text="Thank you!", author="a", user_id=None,
                           now=B + d)  # a day after it was written
        await replies.save(conn, merchant_id=m.id, review_id=r2, text="Sorry!", author="a", user_id=None,
                           now=B + 3 * d)
        # Imported replies: one dated at its source (two days after the review), one without a date.
        await replies.add_imported(conn, merchant_id=m.id, review_id=r11, text="Thanks", at=datetime(
            2024, 3, 4, tzinfo=UTC), now=B)
        await replies.add_imported(conn, merchant_id=m.id, review_id=r9, text="Sorry", at=None, now=B)
    # Outside the figures: a review that came before the twelve months, and another shop's.
    old = await _invited(services, m, "O-OLD", 1, datetime(2024, 11, 1, tzinfo=UTC))
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, old, datetime(2024, 11, 2, tzinfo=UTC))
    other = await other_shop(services)
    await _imported(services, other, "X-1", 1, B, B)
    return m


async def test_the_transparency_figures_are_counted_from_the_data(services: Services, year: Merchant):
    f = await transparency.figures(services.pool, year.id, NOW)
    assert (f.start, f.end) == (datetime(2025, 1, 5, 10, 0, tzinfo=UTC), NOW)
    assert (f.received, f.invited, f.imported) == (10, 7, 3)
    assert (f.published, f.pending, f.awaiting_moderator, f.rejected, f.withdrawn) == (5, 1, 1, 2, 1)
    assert f.received == f.published + f.pending + f.awaiting_moderator + f.rejected + f.withdrawn
    assert f.held == 4  # r2, r3, r4 and r7 were held for a moderator
    assert f.rejected_by_reason == [("bought", 1), ("personal_data", 1)]
    assert f.decisions == 3 and f.to_decision == timedelta(hours=5)  # median of 5 h, 9 h and 4 h
    assert f.to_publication == timedelta(minutes=30)  # median of 10 min, 20 min, 30 min, 2 h, 5 h
    assert (f.answerable, f.answered, f.negative, f.negative_answered) == (5, 4, 2, 2)
    assert f.to_reply == timedelta(days=2)  # median of 1, 3 and 2 days; the undated import is left out


async def test_the_shop_page_shows_the_figures_in_words(client: httpx.AsyncClient, year: Merchant):
    _, page = await get_page(client, "/shops/demo-shop")
    text = page.text
    assert "From January 5, 2025 to January 5, 2026" in text
    for figure in ("Reviews received 10", "7 by invitation after a real order",
                   "3 imported from another review platform", "Published 5", "Waiting for the automatic check 1",
                   "Held for a moderator's check 4", "1 still waiting for a decision", "Rejected by a moderator 2",
                   "Copied or bought review: 1", "Contains personal data: 1", "Withdrawn by their authors 1",
                   "Median time from submission to publication 30 minutes",
                   "Median time from submission to a moderator's decision 5 hours (3 decisions)",
                   "Published reviews the shop answered 80% (4 of 5)",
                   "Negative reviews (1 or 2 stars) the shop answered 100% (2 of 2)",
                   "Median time to the shop's reply 2 days"):
        assert figure in text, figure
    assert "/verification/demo-shop" in page.links
    _, page = await get_page(client, "/shops/demo-shop?lang=pl")
    assert "Zawiera dane osobowe: 1" in page.text and "80%" in page.text


async def test_figures_of_a_shop_without_reviews(client: httpx.AsyncClient, merchant: Fixture):
    _, page = await get_page(client, "/shops/demo-shop")
    assert "No reviews yet" in page.text and "Reviews received 0" in page.text
    assert "No decision in this period" in page.text and "No reply yet" in page.text
    assert page.meta["robots"] == "noindex, follow"  # nothing worth indexing yet


# --- escaping and hostile input -------------------------------------------------------------------------------------

async def test_every_string_is_escaped(client: httpx.AsyncClient, services: Services, merchant: Fixture):
    m = merchant[0]
    await services.pool.execute("UPDATE merchants SET name = $1 WHERE id = $2", HOSTILE, m.id)
    rid = await add_review(services, m.id, 5, product_id="P1", product_name=HOSTILE, title=HOSTILE, body=HOSTILE,
                           display_name=HOSTILE)
    async with services.pool.acquire() as conn:
        await replies.save(conn, merchant_id=m.id, review_id=rid, text=HOSTILE, author="a", user_id=None, now=NOW)
    for path in ("/shops/demo-shop", "/shops/demo-shop/products/P1", "/shops/demo-shop/products/NOPE",
                 "/shops/demo-shop?page=zz"):
        r = await client.get(path)
        assert "<script>alert" not in r.text and HOSTILE not in r.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text, path
    page = (await client.get("/shops/demo-shop")).text
    assert html.unescape(page).count(HOSTILE) >= 5  # name, product, title, body, author, reply: whole, as written


HOSTILE_QUERIES = [
    ("page=0", 400), ("page=-1", 400), ("page=abc", 400), ("page=1.5", 400), ("page=%00", 400), ("page=%C2%B2", 400),
    ("page=1e3", 400), ("page=" + "9" * 5000, 404), ("page=99999999999999999999", 404),
    ("sort=random", 400), ("sort=%00", 400), ("stars=6", 400), ("stars=0", 400), ("stars=%00", 400),
    ("language=xx-yy", 400), ("language=%00", 400), ("language=%ED%A0%80", 400), ("language=english", 400),
    ("replied=yes", 400), ("about=%00", 400), ("about=p%3A%00", 400), ("about=p%3A", 400),
    ("about=p%3A" + "x" * 201, 400), ("about=product", 400),
    ("lang=%00", 400), ("lang=%ED%A0%80", 200), ("lang=" + "x" * 10000, 200),
    ("utm_source=newsletter&%FF%FE=%FF", 200), ("stars=5&stars=", 200),
]


async def test_hostile_queries_get_a_page_never_a_500(client: httpx.AsyncClient, shop: Merchant):
    for query, status in HOSTILE_QUERIES:
        for path in ("/shops/demo-shop", "/shops/demo-shop/products/SKU-1"):
            if "about=" in query and "products" in path:
                continue  # a product page has no product filter and ignores it
            r = await client.get(f"{path}?{query}")
            assert r.status_code == status, (path, query)
            assert r.headers["content-type"].startswith("text/html") and "content-security-policy" in r.headers
            if status == 400 and "%00" in query:  # refused where text enters the app, before the page
                assert "This request could not be handled." in r.text
            elif status == 400:
                assert "This address cannot be read" in r.text


async def test_a_page_number_with_leading_zeros_past_the_end(client: httpx.AsyncClient, shop: Merchant):
    r = await client.get("/shops/demo-shop?page=000000000002")
    assert r.status_code == 404  # one page of six reviews: page 2 is past the end


HOSTILE_PATHS = [
    "/shops/demo-shop/products/%00", "/shops/demo-shop/products/a%00b", "/shops/demo-shop/products/%ED%A0%80",
    "/shops/demo-shop/products/%FF%FE", "/shops/demo-shop/products/" + "x" * 201, "/shops/%00",
    "/shops/demo-shop%00", "/shops/%ED%A0%80/sitemap.xml", "/shops/" + "a" * 64,
]


async def test_hostile_paths_are_404_pages(client: httpx.AsyncClient, shop: Merchant):
    for path in HOSTILE_PATHS:
        r = await client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "content-security-policy" in r.headers


# --- HTTP ----------------------------------------------------------------------------------------------------------

async def test_etag_head_and_a_change_shows_at_once(client: httpx.AsyncClient, services: Services, shop: Merchant):
    r = await client.get("/shops/demo-shop")
    etag = r.headers["etag"]
    again = await client.get("/shops/demo-shop", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    head = await client.head("/shops/demo-shop")
    assert head.status_code == 200 and head.headers["etag"] == etag
    # A review published, held or answered by any process shows on the next request.
    rid = await add_review(services, shop.id, 5, state="pending", title="Fresh one")
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, rid, NOW)
    fresh = await client.get("/shops/demo-shop", headers={"if-none-match": etag})
    assert fresh.status_code == 200 and "Fresh one" in fresh.text
    async with services.pool.acquire() as conn:
        await reviews.hold(conn, rid, NOW)
    assert "Fresh one" not in (await client.get("/shops/demo-shop")).text


async def test_the_product_page_names_come_from_orders_within_the_render_window(
        client: httpx.AsyncClient, services: Services, shop: Merchant):
    assert "Reviews of Trail shoes" in (await client.get("/shops/demo-shop/products/SKU-1")).text
    await ingest(services, shop, "A-11", products=[{"id": "SKU-1", "name": "Trail shoes, 2026 edition"}])
    services.clock.advance(minutes=11)  # type: ignore[attr-defined]
    assert "Reviews of Trail shoes, 2026 edition" in (await client.get("/shops/demo-shop/products/SKU-1")).text


# --- catalogs and layout ---------------------------------------------------------------------------------------------

Message = str | tuple[str, str]


def page_messages() -> set[Message]:
    """Every message of the pages: the templates' `_`/`ngettext`, the modules' `N_`/`gettext`, the reasons' labels."""
    found: set[Message] = set()
    for path in sorted((WIDGETS / "templates" / "shop").glob("*.html")):
        found |= {m for _, m, _, _ in extract_from_file(
            "jinja2", str(path), keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
            options={"extensions": "jinja2.ext.i18n"})}
    for path in sorted((WIDGETS / "pages").glob("*.py")):
        found |= {m for _, m, _, _ in extract_from_file(
            "python", str(path), keywords={"N_": None, "gettext": None, "ngettext": (1, 2)})}
    return found | {r.label for r in REASONS}


# Words that are the same in English and the language.
SAME_AS_ENGLISH = {("fr", "Page"), ("fr", "Page %(num)d")}


def test_the_extraction_finds_the_pages_messages() -> None:
    messages = page_messages()
    assert len(messages) > 90
    assert "Verified buyer" in messages and "Shop not found" in messages and "Contains personal data" in messages
    assert ("%(num)d decision", "%(num)d decisions") in messages
    assert set(SHOP_PAGES.reasons.values()) <= messages


@pytest.mark.parametrize("lang", SUPPORTED_LOCALES)
def test_every_catalog_translates_every_message_of_the_pages(lang: str) -> None:
    with (WIDGETS / "locales" / lang / "LC_MESSAGES" / "shop.po").open("rb") as f:
        catalog = read_po(f, locale=lang, domain="shop")
    for msgid in sorted(page_messages(), key=str):
        message = catalog.get(msgid)
        assert message is not None and not message.fuzzy, (lang, msgid)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if isinstance(msgid, tuple) else 1), (lang, msgid)
        original = msgid[0] if isinstance(msgid, tuple) else msgid
        english = msgid if isinstance(msgid, tuple) else (msgid,)
        for text in strings:
            assert text, (lang, msgid)
            assert sorted(set(PLACEHOLDER.findall(text))) == sorted(set(PLACEHOLDER.findall(original))), (lang, text)
            assert "%" not in PLACEHOLDER.sub("", text), (lang, text)  # a stray % breaks the formatting
        if lang == "en":
            assert strings == english, msgid
        elif (lang, msgid) not in SAME_AS_ENGLISH:
            assert strings != english, f"{lang}: {original!r} is not translated"


def test_the_page_modules_hold_no_sql() -> None:
    sql = re.compile(r"\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")
    for path in (WIDGETS / "pages").glob("*.py"):
        assert not sql.search(path.read_text()), f"{path.name} holds SQL: it belongs in widgets.queries"


def test_links_keep_only_checked_values() -> None:
    listing = params.parse(QueryParams("stars=4&utm_source=x&sort=lowest&page=3&language=pl"), allow_about=True)
    link = params.href("/shops/s", listing, "de")
    assert parse_qs(urlsplit(link).query) == {"lang": ["de"], "stars": ["4"], "language": ["pl"],
                                              "sort": ["lowest"], "page": ["3"]}
    assert params.href("/shops/s", listing.but(stars=None), None) == "/shops/s?language=pl&sort=lowest"


# --- reviews.json shares the pages' listing -------------------------------------------------------------------------

async def test_reviews_json_filters_sorts_and_pools_languages_like_the_page(client: httpx.AsyncClient, shop: Merchant):
    async def titles(query: str) -> list[str]:
        r = await client.get(f"/widgets/v1/demo-shop/reviews.json?{query}")
        assert r.status_code == 200, r.text
        return [x["title"] for x in r.json()["reviews"]]

    # reviews.json's `lang` is the visitor's language (pooled first), `language` keeps one language only.
    assert await titles("sort=highest&lang=en") == review_titles(
        (await client.get("/shops/demo-shop?sort=highest&lang=en")).text)
    assert await titles("lang=pl") == review_titles((await client.get("/shops/demo-shop?lang=pl")).text)
    assert (await titles("lang=pl"))[0] == "Skarpety"
    assert await titles("stars=5") == ["Shoe B", "Shoe A"]
    assert await titles("with_reply=true") == ["About the shop"]
    assert await titles("sort=lowest&product=SKU-2") == ["Socks bad", "Skarpety"]
    assert await titles("language=pl") == ["Skarpety"]
    r = await client.get("/widgets/v1/demo-shop/reviews.json?stars=2&with_reply=false&per_page=1")
    assert (r.json()["total"], r.json()["pages"]) == (1, 1)


async def test_reviews_json_refuses_what_it_cannot_read(client: httpx.AsyncClient, shop: Merchant):
    for query, field in (("sort=best", "sort"), ("stars=6", "stars"), ("stars=1.0", "stars"),
                         ("with_reply=1", "with_reply"), ("lang=xx", "lang"), ("language=english", "language"),
                         ("product=a%1Fb", "product")):
        r = await client.get(f"/widgets/v1/demo-shop/reviews.json?{query}")
        assert r.status_code == 422, query
        assert field in r.json()["error"]["fields"], query
    # A NUL is refused where text enters the app, before the widgets read the query.
    r = await client.get("/widgets/v1/demo-shop/reviews.json?product=%00")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"


async def test_a_nul_in_a_widget_address_is_a_4xx_not_a_failed_query(client: httpx.AsyncClient, shop: Merchant):
    for path, status in (("/widgets/v1/demo-shop/products/%00/summary.json", 404),
                         ("/widgets/v1/demo-shop/summary.json?product=a%00", 400),
                         ("/widgets/v1/demo-shop/products/a%1Fb/summary.json", 422),
                         ("/widgets/v1/%00/summary.json", 404), ("/widgets/v1/demo%00shop/badge.svg", 404),
                         ("/widgets/v1/Demo-Shop/summary.json", 404)):
        r = await client.get(path)
        assert r.status_code == status, path
        assert r.json()["error"]["code"] in ("invalid", "not_found", "bad_request")
