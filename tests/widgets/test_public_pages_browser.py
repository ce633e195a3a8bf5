"""The public shop and product pages in a real Chromium against the real app under uvicorn: axe-core finds
nothing at all at 390 px and 1280 px, nothing scrolls sideways on a phone, no script runs and nothing breaks the
Content-Security-Policy, and the filters work with JavaScript off. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import ConsoleMessage, Page

from reviews.collection import replies
from reviews.collection import store as reviews
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.browser_support import (
    DESKTOP,
    PHONE,
    SHOP_IMAGES,
    BrowserThread,
    Traffic,
    artifact,
    axe_violations,
    browser,
    describe,
    live_server,
    new_context,
)
from tests.helpers import HOSTILE, add_review, ingest

__all__ = ["browser"]  # the fixture, used by name

# Real Chromium: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

EVERY_IMPACT = ("minor", "moderate", "serious", "critical")
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
LONG = ("Wir haben die Lampe im Winter gekauft und sie leuchtet das ganze Arbeitszimmer gleichmäßig aus, ohne zu "
        "blenden. Einziger Wermutstropfen: das Kabel ist etwas kurz.\n\nTrotzdem klare Empfehlung.")


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    """A shop as a shopper finds it: branding, two registered websites, a photographed product, thirty reviews in
    four languages (one imported, some edited, some answered) and figures to show."""
    m = merchant[0]
    await services.pool.execute(
        "UPDATE merchants SET name = $2, settings = settings || $3 WHERE id = $1", m.id,
        "Lumen & Co. Leuchten-Manufaktur GmbH",
        {"logo_url": SHOP_IMAGES + "logo.svg", "accent_color": "#0a7d5a",
         "domains": ["lumen-leuchten.example", "www.lumen-leuchten-manufaktur-berlin.example"]})
    await ingest(services, m, "A-1", products=[
        {"id": "LAMP-1", "name": "Tischleuchte „Aurora“ aus Messing, 40 cm, dimmbar",
         "image_url": SHOP_IMAGES + "aurora.svg", "url": "https://lumen-leuchten.example/p/aurora"}])
    languages = ("de", "de", "en", "pl", "fr")
    for i in range(30):
        await add_review(services, m.id, 1 + (i * 3) % 5, product_id="LAMP-1" if i % 3 else None,
                         product_name="Tischleuchte „Aurora“ aus Messing, 40 cm, dimmbar" if i % 3 else None,
                         title=f"Bewertung {i}" if i % 4 else "", body=LONG if i % 2 else HOSTILE,
                         display_name=f"Käufer {i}", locale=languages[i % 5], edited=i % 7 == 0,
                         method="imported" if i == 5 else "invited")
    async with services.pool.acquire() as conn:
        rid = await reviews.add_imported(conn, reviews.Imported(
            merchant_id=m.id, external_id="jm-1", product_id="LAMP-1", order_id=None, locale="de", rating=2,
            title="Zu dunkel", body="Für den Preis zu schwach.", display_name="Ola P.", author_hash=None,
            submitted_at=datetime(2024, 3, 2, tzinfo=UTC)), NOW)
        assert rid is not None
        await replies.add_imported(conn, merchant_id=m.id, review_id=rid, text="Danke für die Rückmeldung!",
                                   at=datetime(2024, 3, 4, tzinfo=UTC), now=NOW)
        await reviews.publish(conn, rid, NOW)
        answered = await services.pool.fetch("SELECT id FROM reviews WHERE merchant_id = $1 AND state = 'published' "
                                             "ORDER BY id LIMIT 6", m.id)
        for row in answered:
            await replies.save(conn, merchant_id=m.id, review_id=row["id"], text="Vielen Dank! " + LONG,
                               author="agent@lumen", user_id=None, now=NOW)
    return m


# How far the page scrolls sideways, and which elements stick out (to say what to fix).
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const right = e => Math.round(e.getBoundingClientRect().right);
    const wide = [...document.querySelectorAll('body *')].filter(e => right(e) > width + 1)
        .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className} ${right(e)}`);
    return {by: document.documentElement.scrollWidth - width, wide};
}"""
PAGES = [
    ("shop", "/shops/demo-shop"),
    ("shop-pl-filtered", "/shops/demo-shop?lang=pl&stars=4&sort=lowest"),
    ("shop-page-2", "/shops/demo-shop?page=2&lang=fr"),
    ("product", "/shops/demo-shop/products/LAMP-1?lang=de"),
    ("not-found", "/shops/demo-shop/products/NOPE?lang=ro"),
    ("bad-query", "/shops/demo-shop?page=zero&lang=it"),
]


async def test_the_pages_are_axe_clean_and_fit_a_phone(browser: BrowserThread, services: Services, shop: Merchant):
    async with live_server(services) as live:

        async def steps() -> dict[str, Any]:
            found: dict[str, Any] = {}
            for width, viewport in (("390", PHONE), ("1280", DESKTOP)):
                traffic = Traffic(live)
                # axe is injected as a script, which the pages' own policy forbids.
                context = await new_context(browser.browser, traffic, viewport=viewport,  # type: ignore[arg-type]
                                            bypass_csp=True)
                page = await context.new_page()
                for name, path in PAGES:
                    await page.goto(live + path)
                    found[f"{name}@{width} axe"] = await axe_violations(page, EVERY_IMPACT)
                    found[f"{name}@{width} overflow"] = await page.evaluate(OVERFLOW)
                    await page.screenshot(path=artifact(f"shop-page-{name}-{width}.png"), full_page=True)
                    await page.screenshot(path=artifact(f"shop-page-{name}-{width}-top.png"))
                    if name == "shop":  # a review with its reply, and the figures, for a person to look at
                        await page.locator(".review:has(.reply)").first.screenshot(
                            path=artifact(f"shop-page-review-{width}.png"))
                        await page.locator("#transparency").screenshot(path=artifact(f"shop-page-figures-{width}.png"))
                found[f"refused@{width}"] = traffic.refused
                await context.close()
            return found

        found = await browser.run(steps)
    for key, value in found.items():
        if key.endswith("axe"):
            assert value == [], f"{key}: {describe(value)}"
        elif key.endswith("overflow"):
            assert value["by"] <= 0, f"{key}: the page scrolls sideways by {value['by']}px: {value['wide']}"
        else:
            assert value == [], f"{key}: requests outside Attest and the shop's images: {value}"


async def test_no_script_runs_and_nothing_breaks_the_policy(browser: BrowserThread, services: Services,
                                                           shop: Merchant):
    async with live_server(services) as live:

        async def steps() -> dict[str, Any]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, viewport=PHONE)  # type: ignore[arg-type]
            page = await context.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(_said(message)))
            found: dict[str, Any] = {}
            for name, path in PAGES:
                response = await page.goto(live + path)
                if response is not None and response.status >= 400:  # the error pages' own status, as expected
                    console[:] = [m for m in console if f"status of {response.status}" not in m]
                found[name] = await page.evaluate("""() => ({
                    scripts: [...document.scripts].map(s => s.type),
                    cookies: document.cookie,
                    styled: getComputedStyle(document.querySelector('main')).maxWidth,
                    images: [...document.images].map(i => i.complete && i.naturalWidth > 0)})""")
            found["console"] = console
            found["types"] = sorted({r.resource_type for r in traffic.requests})
            await context.close()
            return found

        found = await browser.run(steps)
    assert found["console"] == []  # a style or image the policy refused would be reported here
    assert found["types"] == ["document", "image"]
    assert found["shop"]["scripts"] == [] and found["product"]["scripts"] == ["application/ld+json"]
    for name, _ in PAGES:
        assert found[name]["cookies"] == "" and found[name]["styled"] == "896px", name  # 56rem: the stylesheet ran
        assert all(found[name]["images"]), name  # the logo and the product's photo loaded


def _said(message: ConsoleMessage) -> str:
    return f"{message.type}: {message.text}"


async def test_filters_sort_and_pages_work_without_javascript(browser: BrowserThread, services: Services,
                                                              shop: Merchant):
    async with live_server(services) as live:

        async def steps() -> dict[str, Any]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, viewport=PHONE,  # type: ignore[arg-type]
                                        java_script_enabled=False)
            page = await context.new_page()
            await page.goto(live + "/shops/demo-shop?lang=de")
            found: dict[str, Any] = {}
            # The first Tab reaches the skip link, which leads to the reviews.
            await page.keyboard.press("Tab")
            found["skip"] = await page.evaluate("document.activeElement.textContent")
            await _follow(page, "a[href*='stars=4']")
            found["stars"] = await _ratings(page)
            await _follow(page, "a[href*='sort=lowest']")
            found["url after sort"] = page.url
            await page.select_option("#about", label="Der Shop selbst (10)")
            async with page.expect_navigation():
                await page.click(".controls button[type=submit]")
            found["url after form"] = page.url
            found["shop only"] = await page.locator(".meta").all_inner_texts()
            await page.goto(live + "/shops/demo-shop?lang=de")
            await page.focus(".pages a[rel=next]")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            found["page 2"] = page.url
            await context.close()
            return found

        found = await browser.run(steps)
    assert found["skip"] == "Zu den Bewertungen springen"
    assert found["stars"] and set(found["stars"]) == {"Bewertet mit 4 von 5"}
    assert "stars=4" in found["url after sort"] and "sort=lowest" in found["url after sort"]
    assert "about=shop" in found["url after form"] and "stars=4" in found["url after form"]
    assert found["shop only"] and all("Bewertung des Shops" in m for m in found["shop only"])
    assert found["page 2"].endswith("/shops/demo-shop?lang=de&page=2")


async def _follow(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def _ratings(page: Page) -> list[str]:
    return [str(x) for x in await page.locator(".review .stars").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('aria-label'))")]
