"""The reviews widget's photo strip, lightbox and topic chips, and the public product page's photos and
chips, in a real Chromium at 390 and 1280 px: axe-core, the keyboard, and no layout shift. A shop page on
another origin embeds embed.js; requests to Attest reach the app in-process."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright import async_api as playwright_api

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from tests.browser_support import AXE, BROWSER_ARGS, CHROMIUM, DESKTOP, PHONE, axe_violations, describe
from tests.helpers import add_review
from tests.widgets.feed_support import settings_at
from tests.widgets.photo_support import add_photo
from tests.widgets.test_storefront_browser import scroll_through
from tests.widgets.topic_support import Said, save_topics

pytestmark = pytest.mark.slow

ATTEST = "http://attest.test"
SHOP = "http://shop.test"
WIDTHS = {"390": PHONE, "1280": DESKTOP}
# Every layout shift without recent input, from before any script of the page runs.
OBSERVE = """window.__shifts = [];
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) if (!e.hadRecentInput) window.__shifts.push(e.value);
}).observe({type: 'layout-shift', buffered: true});"""
PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trail watch</title></head><body>'
        '<main><h1>Trail watch</h1><p>A watch for long days outside.</p>'
        '<div id="r" data-attest-widget="reviews" data-merchant="demo-shop" data-product="SKU-1" data-limit="5">'
        '<svg aria-hidden="true" focusable="false" width="1" height="2200"></svg></div>'
        '<p id="after">Shipping and returns.</p></main>'
        f'<script async src="{ATTEST}/widgets/v1/embed.js"></script></body></html>')


@pytest.fixture
def settings(tmp_path: Path, dsn: str) -> Settings:
    """Attest at attest.test: the photos' addresses start there."""
    return settings_at(tmp_path, dsn, ATTEST)


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> dict[str, Any]:
    """SKU-1: a review with two approved photos and one waiting, others without; two topics."""
    m = merchant[0]
    ids = {}
    for key, rating, body in (("anna", 5, "The battery lasts two days. Strap is comfy."),
                              ("ben", 4, "Great battery life, charges fast."),
                              ("carl", 2, "Strap broke after a week."),
                              ("dana", 5, "Bright screen, easy to read."),
                              ("eve", 1, "The strap rubs and the battery died.")):
        ids[key] = await add_review(services, m.id, rating, product_id="SKU-1", product_name="Trail watch",
                                    title=f"{key.title()}'s watch", body=body, display_name=key.title())
    photos = [await add_photo(services, m.id, ids["anna"], size=(1200, 900), caption="The watch on a trail"),
              await add_photo(services, m.id, ids["anna"], size=(900, 1200))]
    waiting = await add_photo(services, m.id, ids["ben"], "pending", size=(1200, 900))
    battery, strap = await save_topics(services, m.id, "SKU-1", [
        [Said(ids["anna"], "The battery lasts two days", label=True), Said(ids["ben"], "Great battery life"),
         Said(ids["eve"], "the battery died")],
        [Said(ids["anna"], "Strap is comfy", label=True), Said(ids["carl"], "Strap broke after a week"),
         Said(ids["eve"], "The strap rubs")],
    ])
    return {"ids": ids, "photos": photos, "waiting": waiting, "battery": battery, "strap": strap}


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> AsyncIterator[Any]:
    """Chromium whose requests to attest.test reach the app, shop.test serves PAGE, nothing else loads."""
    async with playwright_api.async_playwright() as p:
        if not os.path.exists(CHROMIUM):
            pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: run `make test`, which installs it")
        found = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)

        async def handle(route: Any) -> None:
            url, parts = route.request.url, urlsplit(route.request.url)
            if url.startswith(ATTEST):
                r = await client.get(parts.path + ("?" + parts.query if parts.query else ""),
                                     headers={k: v for k, v in route.request.headers.items()
                                              if k.lower() in ("origin", "accept")})
                headers = {k: v for k, v in r.headers.items()
                           if k.lower() not in ("content-encoding", "content-length")}
                await route.fulfill(status=r.status_code, headers=headers, body=r.content)
            elif url == SHOP + "/product":
                await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)
            elif url == SHOP + "/fragment":  # what a shop's server does: the fragment in its own page
                fragment = (await client.get("/widgets/v1/demo-shop/products/SKU-1/reviews.html?lang=en")).text
                await route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                    body=PAGE.replace(PAGE[PAGE.index('<div id="r"'):PAGE.index('<p id="after">')],
                                                      fragment))
            elif url == SHOP + "/axe.min.js":
                await route.fulfill(status=200, content_type="text/javascript", body=AXE.read_bytes())
            else:
                await route.abort()

        found.handle = handle
        try:
            yield found
        finally:
            await found.close()


async def _open(browser: Any, url: str, width: str, **options: Any) -> Any:
    context = await browser.new_context(viewport=WIDTHS[width], **options)
    await context.route("**/*", browser.handle)
    page = await context.new_page()
    await page.add_init_script(OBSERVE)
    await page.goto(url)
    return page


async def _photos_loaded(page: Any, selector: str) -> None:
    """Once a reader has been down the page (lazy photos load on the way), every photo of `selector`."""
    await scroll_through(page)
    await page.wait_for_function(f"() => [...{selector}].every((i) => i.complete && i.naturalWidth > 0)")


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_photo_strip_lightbox_and_chips_of_the_widget(browser: Any, shop: dict[str, Any], width: str):
    page = await _open(browser, SHOP + "/product", width)
    try:
        await _photos_loaded(page, "document.querySelector('#r').shadowRoot.querySelectorAll('.ph img')")
        shifts = await page.evaluate("window.__shifts")
        print(f"\nCLS reviews widget with photos and chips at {width}px: {sum(shifts):.4f} {shifts}")
        assert sum(shifts) == 0, shifts
        # The strip: the approved photos only, thumbnails with their sizes and words, lazily loaded.
        imgs = page.locator("#r >> .ph img")
        assert await imgs.count() == 2
        for i, photo in enumerate(shop["photos"]):
            img = imgs.nth(i)
            assert await img.get_attribute("src") == f"{ATTEST}/photos/{photo.public_key}/thumb.webp"
            assert await img.get_attribute("loading") == "lazy"
            assert await img.evaluate("(i) => i.width > 0 && i.height > 0 && i.hasAttribute('width')")
        assert [await imgs.nth(i).get_attribute("alt") for i in range(2)] == [
            "The watch on a trail", "Photo by Anna of Trail watch"]
        assert shop["waiting"].public_key not in await page.content()
        # Chips above the list: label, count and star split, toggles.
        chips = page.locator("#r >> .chips button")
        assert await chips.count() == 2
        assert await chips.nth(0).inner_text() == \
            "The battery lasts two days · 3 reviews · 2 of them 4-5★, 1 of them 1-2★"
        assert await chips.nth(0).get_attribute("aria-pressed") == "false"
        violations = await axe_violations(page)
        assert violations == [], describe(violations)

        # A chip filters the list to the reviews that mention it, each mention marked.
        await chips.nth(1).click()
        await page.wait_for_function("() => document.querySelector('#r').shadowRoot"
                                     ".querySelectorAll('.list > li').length == 3")
        assert await chips.nth(1).get_attribute("aria-pressed") == "true"
        marks = await page.locator("#r >> .list mark").all_inner_texts()
        assert sorted(marks) == ["Strap broke after a week", "Strap is comfy", "The strap rubs"]
        assert await page.locator("#r >> .list mark").first.evaluate("(m) => m.closest('.r') !== null")
        # Again: the whole list back.
        await chips.nth(1).click()
        await page.wait_for_function("() => document.querySelector('#r').shadowRoot"
                                     ".querySelectorAll('.list > li').length == 5")
        assert await page.locator("#r >> .list mark").count() == 0

        # The lightbox, by keyboard: Enter on a thumbnail opens the photo in a dialog, Esc closes it,
        # and the keyboard is back on the thumbnail.
        link = page.locator("#r >> .ph a").first
        await link.focus()
        await page.keyboard.press("Enter")
        dialog = page.locator("#r >> dialog.lb")
        await dialog.wait_for(state="visible")
        full = page.locator("#r >> dialog.lb img")
        assert await full.get_attribute("src") == f"{ATTEST}/photos/{shop['photos'][0].public_key}/photo.webp"
        assert await full.get_attribute("alt") == "The watch on a trail"
        assert await dialog.evaluate("(d) => d.open && d.matches(':modal')")
        await page.wait_for_function("() => document.querySelector('#r').shadowRoot.querySelector('dialog.lb img')"
                                     ".naturalWidth == 1200")
        violations = await axe_violations(page)
        assert violations == [], describe(violations)
        await page.keyboard.press("Escape")
        await dialog.wait_for(state="hidden")
        assert await page.evaluate("document.querySelector('#r').shadowRoot.activeElement.href") == \
            f"{ATTEST}/photos/{shop['photos'][0].public_key}/photo.webp"
        # The close button and a click beside the photo close it too.
        await page.keyboard.press("Enter")
        await dialog.wait_for(state="visible")
        await page.locator("#r >> dialog.lb button").click()
        await dialog.wait_for(state="hidden")
        assert await page.evaluate("document.querySelector('#r').shadowRoot.activeElement.href") == \
            f"{ATTEST}/photos/{shop['photos'][0].public_key}/photo.webp"
    finally:
        await page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_public_product_page_with_photos_and_chips(browser: Any, shop: dict[str, Any], width: str):
    # The page's strict policy would refuse axe-core's script: bypassed for the check alone.
    page = await _open(browser, f"{ATTEST}/shops/demo-shop/products/SKU-1?lang=en", width, bypass_csp=True)
    try:
        await _photos_loaded(page, "document.querySelectorAll('.photos img')")
        assert await page.locator(".photos img").count() == 2
        assert await page.locator(".chips a").count() == 2
        shifts = await page.evaluate("window.__shifts")
        print(f"\nCLS public product page with photos and chips at {width}px: {sum(shifts):.4f}")
        assert sum(shifts) == 0, shifts
        # Nothing wider than the screen.
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        violations = await axe_violations(page)
        assert violations == [], describe(violations)
        await page.locator(".chips a").first.click()
        await page.wait_for_url(f"**topic={shop['battery']}")
        assert sorted(await page.locator("mark").all_inner_texts()) == [
            "Great battery life", "The battery lasts two days", "the battery died"]
        violations = await axe_violations(page)
        assert violations == [], describe(violations)
    finally:
        await page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_seo_fragment_with_photos_and_chips(browser: Any, shop: dict[str, Any], width: str):
    page = await _open(browser, SHOP + "/fragment", width)
    try:
        await _photos_loaded(page, "document.querySelector('[data-attest-fragment]').shadowRoot"
                                   ".querySelectorAll('.ph img')")
        shifts = await page.evaluate("window.__shifts")
        print(f"\nCLS SEO fragment with photos and chips at {width}px: {sum(shifts):.4f}")
        assert sum(shifts) == 0, shifts
        host = "[data-attest-fragment]"
        assert await page.locator(f"{host} >> .ph img").count() == 2
        chips = page.locator(f"{host} >> .chips a")
        assert await chips.count() == 2
        assert await chips.first.get_attribute("href") == f"{ATTEST}/shops/demo-shop/products/SKU-1?topic=" \
            f"{shop['battery']}"
        violations = await axe_violations(page)
        assert violations == [], describe(violations)
        # Taken over by embed.js: a thumbnail opens the lightbox here too.
        await page.locator(f"{host} >> .ph a").first.click()
        await page.locator(f"{host} >> dialog.lb").wait_for(state="visible")
    finally:
        await page.context.close()
