"""The trust badge: badge.json's verdict on the website that shows it (the seal that cannot be copied),
and the SVG trust mark in every language."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES
from tests.helpers import HOSTILE, add_review
from tests.widgets.storefront import Storefront, set_domains, storefront
from widgets import hosts

URL = "/widgets/v1/demo-shop/badge.json"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Storefront:
    found = await storefront(services, merchant[0])
    await set_domains(services, found.merchant.id, ["shop.example", "xn--bcher-kva.example"])
    return found


@pytest.mark.parametrize("host", ["shop.example", "www.shop.example", "a.b.shop.example", "SHOP.Example.",
                                  "xn--bcher-kva.example"])
async def test_a_registered_website_gets_the_figures(client: httpx.AsyncClient, shop: Storefront, host: str):
    r = await client.get(f"{URL}?host={host}")
    assert r.status_code == 200
    data = r.json()
    assert data["registered"] is True and data["host"] == host.lower().rstrip(".")
    # 7 published reviews; the 6 written from an invitation are the verified ones (the import is not).
    assert (data["average"], data["count"], data["verified"]) == (3.43, 7, 6)
    assert data["shop"] == {"name": "Demo Shop", "accent": "#1f6feb", "slug": "demo-shop",
                            "domains": ["shop.example", "xn--bcher-kva.example"]}
    assert data["page"] == "http://testserver/shops/demo-shop"


@pytest.mark.parametrize("host", ["evil.example", "shop.example.evil.test", "notshop.example", "example",
                                  "localhost", "127.0.0.1", "[::1]", "shop-example.com"])
async def test_any_other_website_gets_a_warning_and_no_figures(client: httpx.AsyncClient, shop: Storefront,
                                                               host: str):
    data = (await client.get(f"{URL}?host={host}")).json()
    assert data["registered"] is False
    assert (data["average"], data["count"], data["verified"]) == (None, None, None)
    assert data["shop"]["name"] == "Demo Shop" and data["shop"]["domains"] == ["shop.example", "xn--bcher-kva.example"]


async def test_without_a_host_the_figures_and_no_verdict(client: httpx.AsyncClient, shop: Storefront):
    data = (await client.get(f"{URL}?product=SKU-1")).json()
    assert data["registered"] is None and data["host"] is None
    assert (data["average"], data["count"], data["verified"]) == (3.0, 5, 4)
    assert data["page"] == "http://testserver/shops/demo-shop/products/SKU-1"


@pytest.mark.parametrize("domains", [None, "shop.example", {"shop.example": True}, [1, None, ""], []])
async def test_a_shop_without_well_formed_domains_registered_none(client: httpx.AsyncClient, services: Services,
                                                                  shop: Storefront, domains: object):
    await set_domains(services, shop.merchant.id, domains)
    data = (await client.get(f"{URL}?host=shop.example")).json()
    assert data["registered"] is False and data["shop"]["domains"] == []


async def test_a_host_that_cannot_be_one_is_refused(client: httpx.AsyncClient, shop: Storefront):
    for host in ("a b", "shop..example", "x" * 255, "-", "shop.example/path", "http://shop.example", "",
                 " shop.example", "shop.example:8080", ".shop.example"):
        r = await client.get(f"{URL}?host={host}")
        assert r.status_code == 422, host
        assert r.json()["error"]["fields"] == {"host": "is not a host name"}


def test_the_rule():
    assert hosts.registered("www.shop.example", ["shop.example"])
    assert not hosts.registered("evilshop.example", ["shop.example"])
    assert not hosts.registered("shop.example", ["www.shop.example"])  # a parent is not its subdomain
    assert hosts.normalise("WWW.Shop.Example.") == "www.shop.example"
    assert hosts.domains({"domains": ["Shop.Example.", 3]}) == ["shop.example"]


# --- badge.svg ---------------------------------------------------------------------------------------------------

def _svg(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 (the app's own answer)


async def test_the_svg_badge_speaks_each_language(client: httpx.AsyncClient, shop: Storefront):
    titles = set()
    for lang in SUPPORTED_LOCALES:
        r = await client.get(f"/widgets/v1/demo-shop/badge.svg?lang={lang}")
        assert r.headers["content-language"] == lang
        root = _svg(r.content)
        title = root.findtext(f"{SVG}title")
        assert title and title.startswith("Demo Shop: ") and "Attest" in title
        assert root.get("aria-label") == title and root.get("role") == "img"
        titles.add(title)
    assert len(titles) == len(SUPPORTED_LOCALES)


async def test_the_svg_claims_verification_only_for_verified_reviews(client: httpx.AsyncClient,
                                                                     services: Services, shop: Storefront):
    for _ in range(2):
        await add_review(services, shop.merchant.id, 4, product_id="IMPORTED-ONLY", method="imported")
    root = _svg((await client.get("/widgets/v1/demo-shop/badge.svg?product=IMPORTED-ONLY")).content)
    words = " ".join(t.text or "" for t in root.iter(f"{SVG}text")) + (root.findtext(f"{SVG}title") or "")
    assert "4.0/5 · 2 reviews" in words and "erified" not in words
    # The seal holds a star, not a tick: the tick is the verified badge's.
    assert root.find(f"{SVG}path") is None


async def test_the_svg_escapes_a_hostile_shop_name(client: httpx.AsyncClient, services: Services, shop: Storefront):
    await services.pool.execute("UPDATE merchants SET name = $1 WHERE id = $2", HOSTILE + "\x0b", shop.merchant.id)
    r = await client.get("/widgets/v1/demo-shop/badge.svg")
    assert "<script>" not in r.text
    assert _svg(r.content).findtext(f"{SVG}title", "").startswith(HOSTILE)
