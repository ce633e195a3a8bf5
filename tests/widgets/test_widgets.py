"""Widgets: public JSON, badge, iframe page, JSON-LD, feed and the embed script, against a real database."""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po

from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES
from tests.helpers import HOSTILE, add_review

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SVG_NS = "{http://www.w3.org/2000/svg}"



def parse_xml(data: bytes) -> ET.Element:
    """Parse our own output strictly: raises on anything not well-formed."""
    return ET.fromstring(data)  # noqa: S314 (the app's own response, not untrusted input)


async def other_merchant(svc: Services, name: str = "Other Shop") -> Merchant:
    async with svc.pool.acquire() as conn:
        m, _ = await merchants.create(conn, name=name, slug="other-shop", locale="de")
    return m


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    """demo-shop: five published reviews (one imported, one edited, one of the shop itself), plus reviews that
    must never show (held, pending, rejected, withdrawn) and another shop's reviews."""
    m = merchant[0]
    for rating in (5, 5, 4):
        await add_review(services, m.id, rating, product_id="SKU-1", product_name="Trail shoes")
    await add_review(services, m.id, 2, product_id="SKU-2", product_name="Merino socks", method="imported")
    await add_review(services, m.id, 3, title="About the shop", edited=True, locale="de")  # shop review
    for state in ("held", "pending", "rejected", "withdrawn"):
        await add_review(services, m.id, 1, state=state, product_id="SKU-1", title=f"HIDDEN-{state}")
    other = await other_merchant(services)
    await add_review(services, other.id, 1, product_id="SKU-1", title="LEAKED-other-shop")
    return m


# --- summary ---------------------------------------------------------------------------------------------------

@pytest.mark.slow
async def test_shop_summary_counts_only_published_reviews_of_this_shop(client: httpx.AsyncClient, shop: Merchant):
    r = await client.get("/widgets/v1/demo-shop/summary.json")
    assert r.status_code == 200
    assert r.json() == {"average": 3.8, "count": 5, "distribution": {"1": 0, "2": 1, "3": 1, "4": 1, "5": 2}}


async def test_product_summary(client: httpx.AsyncClient, shop: Merchant):
    r = await client.get("/widgets/v1/demo-shop/products/SKU-1/summary.json")
    assert r.json() == {"average": 4.67, "count": 3, "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}}
    empty = await client.get("/widgets/v1/demo-shop/products/NOPE/summary.json")
    assert empty.json() == {"average": None, "count": 0, "distribution": {str(n): 0 for n in range(1, 6)}}


async def test_unknown_slug_is_json_404(client: httpx.AsyncClient, merchant: Any):
    for path in ("summary.json", "products/X/summary.json", "reviews.json", "badge.svg", "widget.html",
                 "jsonld.json", "feed.xml"):
        r = await client.get(f"/widgets/v1/no-such-shop/{path}")
        assert r.status_code == 404, path
        assert r.json()["error"] == {"code": "not_found", "message": "No such shop.", "fields": {}}
        assert r.headers["access-control-allow-origin"] == "*"


# --- reviews.json ----------------------------------------------------------------------------------------------

async def test_reviews_json_newest_first_public_fields_only(client: httpx.AsyncClient, shop: Merchant):
    r = await client.get("/widgets/v1/demo-shop/reviews.json")
    data = r.json()
    assert (data["total"], data["page"], data["per_page"], data["pages"]) == (5, 1, 10, 1)
    reviews = data["reviews"]
    assert [x["rating"] for x in reviews] == [3, 2, 4, 5, 5]  # newest first
    assert set(reviews[0]) == {"id", "rating", "title", "body", "display_name", "product_id", "product_name",
                               "published_at", "submitted_at", "edited", "verified", "collection_method", "locale",
                               "reply", "written_at", "edited_at", "language", "method", "import_source",
                               "photos"}
    shop_review, imported, invited = reviews[0], reviews[1], reviews[2]
    assert shop_review["product_id"] is None and shop_review["edited"] is True
    assert imported["collection_method"] == "imported" and imported["verified"] is False
    assert invited["collection_method"] == "invited" and invited["verified"] is True and invited["edited"] is False
    assert invited["published_at"].endswith("Z")
    text = r.text
    for secret in ("secret-author-hash", "secret-ip-hash", "HIDDEN-", "LEAKED-", "ext-", "order"):
        assert secret not in text


async def test_reviews_json_pagination_and_filters(client: httpx.AsyncClient, shop: Merchant):
    first = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=2")).json()
    second = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=2&page=2")).json()
    last = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=2&page=3")).json()
    beyond = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=2&page=4")).json()
    assert (first["total"], first["pages"]) == (5, 3)
    assert [len(p["reviews"]) for p in (first, second, last, beyond)] == [2, 2, 1, 0]
    ids = [x["id"] for p in (first, second, last) for x in p["reviews"]]
    assert len(set(ids)) == 5
    product = (await client.get("/widgets/v1/demo-shop/reviews.json?product=SKU-1")).json()
    assert product["total"] == 3 and {x["product_id"] for x in product["reviews"]} == {"SKU-1"}
    german = (await client.get("/widgets/v1/demo-shop/reviews.json?language=de")).json()
    assert [x["title"] for x in german["reviews"]] == ["About the shop"]
    # `lang` is the visitor's: every language is listed, theirs first.
    pooled = (await client.get("/widgets/v1/demo-shop/reviews.json?lang=de")).json()
    assert pooled["total"] == 5 and pooled["reviews"][0]["title"] == "About the shop"


@pytest.mark.parametrize("query, field", [
    ("page=0", "page"), ("page=-1", "page"), ("page=abc", "page"), ("page=1.5", "page"),
    ("per_page=51", "per_page"), ("per_page=0", "per_page"), ("lang=xx", "lang"), ("language=x1", "language"),
    ("sort=best", "sort"), ("stars=0", "stars"), ("stars=6", "stars"), ("stars=4.5", "stars"),
    ("with_reply=maybe", "with_reply"), ("with_reply=1", "with_reply"), ("page=", "page"), ("sort=", "sort"),
    ("lang=", "lang"), ("lang=de-", "lang"), ("language=PL", "language"), ("page=1_0", "page"), ("page=+2", "page"),
])
async def test_reviews_json_rejects_bad_parameters(client: httpx.AsyncClient, shop: Merchant, query: str, field: str):
    r = await client.get(f"/widgets/v1/demo-shop/reviews.json?{query}")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert r.headers["access-control-allow-origin"] == "*"


# --- HTTP behaviour ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["demo-shop/summary.json", "demo-shop/reviews.json", "demo-shop/badge.svg",
                                  "demo-shop/widget.html", "demo-shop/jsonld.json", "demo-shop/feed.xml",
                                  "embed.js", "i18n/pl.json"])
async def test_cors_and_etag_304(client: httpx.AsyncClient, shop: Merchant, path: str):
    r = await client.get(f"/widgets/v1/{path}")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cache-control"].startswith("public, max-age=")
    etag = r.headers["etag"]
    again = await client.get(f"/widgets/v1/{path}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    stale = await client.get(f"/widgets/v1/{path}", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


async def test_etag_changes_when_a_review_is_published(client: httpx.AsyncClient, services: Services, shop: Merchant):
    r = await client.get("/widgets/v1/demo-shop/summary.json")
    assert r.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
    await add_review(services, shop.id, 1)
    again = await client.get("/widgets/v1/demo-shop/summary.json", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 200 and again.json()["count"] == 6


async def test_preflight(client: httpx.AsyncClient, shop: Merchant):
    r = await client.options("/widgets/v1/demo-shop/reviews.json", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "GET" in r.headers["access-control-allow-methods"]


# --- badge.svg ---------------------------------------------------------------------------------------------------

def _svg_text(root: ET.Element) -> str:
    return " ".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))


async def test_badge_svg(client: httpx.AsyncClient, shop: Merchant):
    r = await client.get("/widgets/v1/demo-shop/badge.svg")
    assert r.headers["content-type"].startswith("image/svg+xml")
    root = parse_xml(r.content)
    assert root.get("role") == "img"
    title = root.find(f"{SVG_NS}title")
    assert title is not None and title.text == ("Demo Shop: Rated 3.8 out of 5 from 5 reviews. "
                                                "4 verified reviews · Verified by Attest")
    assert root.get("aria-label") == title.text
    text = _svg_text(root)
    assert "Demo Shop" in text and "3.8/5 · 5 reviews" in text and "4 verified reviews · Verified by Attest" in text
    product = parse_xml((await client.get("/widgets/v1/demo-shop/badge.svg?product=SKU-1")).content)
    assert "Demo Shop – Trail shoes" in _svg_text(product) and "4.7/5 · 3 reviews" in _svg_text(product)
    # Only imported reviews: no claim of verification at all.
    imported = parse_xml((await client.get("/widgets/v1/demo-shop/badge.svg?product=SKU-2")).content)
    assert "2.0/5 · 1 review" in _svg_text(imported)
    assert "erif" not in _svg_text(imported) and "erif" not in (imported.findtext(f"{SVG_NS}title") or "")
    none = parse_xml((await client.get("/widgets/v1/demo-shop/badge.svg?product=NOPE&lang=de")).content)
    assert "Noch keine Bewertungen" in _svg_text(none)
    pl = parse_xml((await client.get("/widgets/v1/demo-shop/badge.svg?lang=pl")).content)
    assert "3,8/5 · 5 opinii" in _svg_text(pl)
    assert "4 zweryfikowane opinie · Zweryfikowano przez Attest" in _svg_text(pl)


async def test_badge_escapes_hostile_names(client: httpx.AsyncClient, services: Services, merchant: Any):
    m = merchant[0]
    await services.pool.execute("UPDATE merchants SET name = $1 WHERE id = $2", HOSTILE, m.id)
    await add_review(services, m.id, 5, product_id="P1", product_name=HOSTILE + "\x0b")
    for url in ("/widgets/v1/demo-shop/badge.svg", "/widgets/v1/demo-shop/badge.svg?product=P1"):
        r = await client.get(url)
        assert "<script>" not in r.text
        root = parse_xml(r.content)  # well-formed despite <, &, quotes and control characters
        title = root.find(f"{SVG_NS}title")
        assert title is not None and title.text is not None and title.text.startswith(HOSTILE)
        assert root.get("aria-label") == title.text


# --- widget.html -------------------------------------------------------------------------------------------------

async def test_widget_html(client: httpx.AsyncClient, shop: Merchant):
    r = await client.get("/widgets/v1/demo-shop/widget.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "x-frame-options" not in r.headers
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    html = r.text
    assert html.count("Verified buyer") == 4  # the four invited reviews, not the imported one
    # The edited review says when it was edited (add_review edits at its publication time).
    assert "Imported review" in html and html.count(">Edited Jan 1, 2026<") == 1
    assert "Rated 3.8 out of 5 from 5 reviews" in html
    assert 'href="http://testserver/verification/demo-shop"' in html
    assert html.count("<progress") == 5
    assert "HIDDEN-" not in html and "LEAKED-" not in html and "secret-" not in html
    # The style block's hash is the one the CSP allows.
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp


async def test_widget_html_localized_and_product(client: httpx.AsyncClient, shop: Merchant):
    de = (await client.get("/widgets/v1/demo-shop/widget.html?lang=de")).text
    assert '<html lang="de">' in de and "Verifizierter Käufer" in de and "Verified buyer" not in de
    assert "3,8 von 5 Sternen bei 5 Bewertungen" in de
    pl = (await client.get("/widgets/v1/demo-shop/widget.html?lang=pl&product=SKU-1")).text
    assert "Opinie: Trail shoes" in pl and "3 opinie" in pl and "Zweryfikowany kupujący" in pl
    assert "Merino socks" not in pl


async def test_widget_html_escapes_hostile_text(client: httpx.AsyncClient, services: Services, merchant: Any):
    m = merchant[0]
    await add_review(services, m.id, 4, title=HOSTILE, body=HOSTILE, display_name=HOSTILE,
                     product_id="P1", product_name=HOSTILE)
    html = (await client.get("/widgets/v1/demo-shop/widget.html")).text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; &#39;single&#39;" in html


# JSON-LD's rules and the Google feeds: tests/widgets/test_jsonld.py and test_feeds.py.

# --- catalogs (embed.js and its strings: test_embed_script.py) -----------------------------------------------

def test_po_catalogs_translate_every_message():
    en = {m.id for m in read_po((WIDGETS / "locales/en/LC_MESSAGES/widgets.po").open("rb")) if m.id}
    for lang in SUPPORTED_LOCALES:
        with (WIDGETS / "locales" / lang / "LC_MESSAGES" / "widgets.po").open("rb") as f:
            catalog = read_po(f, locale=lang)
        messages = {m.id: m for m in catalog if m.id}
        assert set(messages) == en, lang
        for m in messages.values():
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            assert all(strings), (lang, m.id)
            assert len(strings) == (catalog.num_plurals if m.pluralizable else 1), (lang, m.id)
