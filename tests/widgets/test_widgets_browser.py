"""embed.js in a real Chromium: a shop page on another origin embeds the script; requests reach the app in-process."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright import async_api as playwright_api

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import HOSTILE, add_review

# Real Chromium: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

ATTEST = "http://attest.test"
SHOP = "http://shop.test"
# Debian's chromium, which `make test` installs; never a downloaded browser.
CHROMIUM = os.environ.get("ATTEST_CHROMIUM") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


def shop_page(lang: str, widgets: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"></head><body>{widgets}'
            f'<script async src="{ATTEST}/widgets/v1/embed.js"></script></body></html>')


@pytest.fixture
async def browser_page(client: httpx.AsyncClient) -> AsyncIterator[tuple[Any, list[str], dict[str, str]]]:
    """A page whose requests to attest.test go to the app; shop.test serves `pages[path]`; nothing else loads."""
    pages: dict[str, str] = {}
    seen: list[str] = []
    async with playwright_api.async_playwright() as p:
        if not os.path.exists(CHROMIUM):
            pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: run `make test`, which installs it")
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = await browser.new_context()
        page = await context.new_page()

        async def handle(route: Any) -> None:
            url = route.request.url
            seen.append(url)
            parts = urlsplit(url)
            if url.startswith(ATTEST):
                r = await client.request(route.request.method, parts.path + ("?" + parts.query if parts.query else ""),
                                         headers={k: v for k, v in route.request.headers.items()
                                                  if k.lower() in ("if-none-match", "origin", "accept")})
                # httpx has undone any gzip already: hand Chromium the bytes without the encoding.
                headers = {k: v for k, v in r.headers.items()
                           if k.lower() not in ("content-encoding", "content-length")}
                await route.fulfill(status=r.status_code, headers=headers, body=r.content)
            elif url.startswith(SHOP) and parts.path in pages:
                await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=pages[parts.path])
            else:
                await route.abort()

        await context.route("**/*", handle)
        try:
            yield page, seen, pages
        finally:
            await browser.close()


async def test_stars_and_reviews_widgets_render_in_chromium(browser_page: Any, services: Services,
                                                            merchant: tuple[Merchant, str]):
    page, seen, pages = browser_page
    m = merchant[0]
    await add_review(services, m.id, 5, product_id="SKU-1", product_name="Trail shoes", title=HOSTILE, body=HOSTILE)
    await add_review(services, m.id, 4, product_id="SKU-1", method="imported", title="Imported one")
    await add_review(services, m.id, 2, product_id="SKU-2")
    pages["/de"] = shop_page("de-DE", '<div id="s" data-attest-widget="stars" data-merchant="demo-shop"></div>'
                                      '<div id="p" data-attest-widget="stars" data-merchant="demo-shop"'
                                      ' data-product="SKU-1" data-lang="pl"></div>'
                                      '<div id="r" data-attest-widget="reviews" data-merchant="demo-shop"'
                                      ' data-product="SKU-1"></div>')
    await page.goto(f"{SHOP}/de")
    await page.wait_for_selector("#r >> .foot")
    await page.wait_for_selector("#p >> .st")

    shop_stars = page.locator("#s >> .st")
    assert await shop_stars.get_attribute("aria-label") == "3,7 von 5 Sternen bei 3 Bewertungen"
    assert await page.locator("#s >> .n").inner_text() == "3,7 (3)"
    assert await page.locator("#p >> .st").get_attribute("aria-label") == "Ocena 4,5 na 5 na podstawie 2 opinii"

    # Review text is shown as text, never parsed: no script element was created from it.
    assert await page.locator("#r >> .list .t").all_inner_texts() == ["Imported one", HOSTILE]  # newest first
    assert await page.locator("#r >> script").count() == 0
    assert await page.locator("#r >> .ok").count() == 1
    text = await page.locator("#r >> .w").inner_text()
    assert "Verifizierter Käufer" in text and "Importierte Bewertung" in text
    assert await page.locator("#r >> .foot a").nth(1).get_attribute("href") == f"{ATTEST}/verification/demo-shop"

    # Only the German and Polish strings were fetched, and nothing outside Attest and the shop.
    i18n = sorted(urlsplit(u).path for u in seen if "/i18n/" in u)
    assert i18n == ["/widgets/v1/i18n/de.json", "/widgets/v1/i18n/pl.json"]
    assert all(u.startswith((ATTEST, SHOP)) for u in seen)
    assert await page.context.cookies() == []


async def test_stars_of_products_whose_ids_hold_a_slash_or_dots(browser_page: Any, services: Services,
                                                                merchant: tuple[Merchant, str]):
    page, seen, pages = browser_page
    m = merchant[0]
    await add_review(services, m.id, 5, product_id="shoes/trail")
    await add_review(services, m.id, 1, product_id="..")
    await add_review(services, m.id, 3, product_id="SKU-9")
    pages["/en"] = shop_page("en", '<div id="a" data-attest-widget="stars" data-merchant="demo-shop"'
                                   ' data-product="shoes/trail"></div>'
                                   '<div id="b" data-attest-widget="stars" data-merchant="demo-shop"'
                                   ' data-product=".."></div>')
    await page.goto(f"{SHOP}/en")
    await page.wait_for_selector("#a >> .st")
    await page.wait_for_selector("#b >> .st")
    # Each its own product's one review, not the shop's three (what ".." in a path would have fetched).
    assert await page.locator("#a >> .n").inner_text() == "5.0 (1)"
    assert await page.locator("#b >> .n").inner_text() == "1.0 (1)"
    # Both in one request, each id encoded in the query.
    assert [u for u in seen if "/ratings.json" in u] == [
        f"{ATTEST}/widgets/v1/demo-shop/ratings.json?products=shoes%2Ftrail,.."]


async def test_iframe_page_is_framable_and_its_styles_pass_the_csp(browser_page: Any, services: Services,
                                                                  merchant: tuple[Merchant, str]):
    page, _, pages = browser_page
    await add_review(services, merchant[0].id, 5, product_id="SKU-1", product_name="Trail shoes")
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    pages["/frame"] = ('<!doctype html><html><body><iframe id="f" title="Reviews" '
                       f'src="{ATTEST}/widgets/v1/demo-shop/widget.html?lang=fr"></iframe></body></html>')
    await page.goto(f"{SHOP}/frame")
    frame = page.frame_locator("#f")
    label = frame.locator(".verified")
    assert await label.inner_text() == "✓ Acheteur vérifié"
    # The hashed <style> block applied (the CSP would have blocked it otherwise).
    assert await label.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(26, 127, 55)"
    assert not [m for m in console if "Content Security Policy" in m]
