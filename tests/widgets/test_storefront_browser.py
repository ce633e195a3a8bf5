"""Every widget family in a real Chromium, on a shop's own pages served from another loopback origin
under a strict Content-Security-Policy, at 390 px and 1280 px: what they show, axe-core, the keyboard,
the copied seal, a hostile stylesheet, and the cumulative layout shift (layout-shift entries without
recent input, all of them added up: stricter than Google's worst session window)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, async_playwright

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.browser_support import (
    BROWSER_ARGS,
    CHROMIUM,
    DESKTOP,
    PHONE,
    BrowserThread,
    artifact,
    axe_violations,
    describe,
)
from tests.widgets.shop_site import RESOLVER, Site, attest_port, running, settings
from tests.widgets.storefront import storefront

__all__ = ["attest_port", "settings"]  # fixtures, used by name

pytestmark = pytest.mark.slow

CLS_BUDGET = 0.01
WIDTHS = {"390": PHONE, "1280": DESKTOP}
# Before any script of the page: every layout shift, and every Content-Security-Policy violation.
OBSERVE = """
window.__shifts = []; window.__csp = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shifts.push({value: e.value,
    sources: e.sources.map((s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) : '?')});
}).observe({type: 'layout-shift', buffered: true});
document.addEventListener('securitypolicyviolation',
                          (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
window.__scrolls = 0;
const scrollTo = Element.prototype.scrollTo;
Element.prototype.scrollTo = function (...args) { window.__scrolls++; return scrollTo.apply(this, args); };
"""
DONE = """() => [...document.querySelectorAll('[data-attest-widget]')].every((h) => h.attest && h.attest.done)"""


class StorefrontBrowser(BrowserThread):
    """The suite's Chromium, told that shop.test, www.shop.test and copycat.test are this machine."""

    async def _launch(self) -> None:
        self._playwright = await async_playwright().start()
        self.browser = await self._playwright.chromium.launch(executable_path=CHROMIUM, args=[*BROWSER_ARGS, RESOLVER])


@pytest.fixture(scope="module")
def browser() -> Iterator[StorefrontBrowser]:
    thread = StorefrontBrowser()
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
async def site(services: Services, merchant: tuple[Merchant, str], attest_port: int) -> AsyncIterator[Site]:
    shop = await storefront(services, merchant[0])
    async with running(services, attest_port, shop) as found:
        yield found


class Visit:
    """One page in a fresh context, with what it asked for."""

    def __init__(self, page: Page, context: BrowserContext) -> None:
        self.page, self.context = page, context
        self.requests: list[Request] = []
        page.on("request", lambda request: self.requests.append(request))

    def paths(self, site: Site, part: str) -> list[str]:
        return [r.url.removeprefix(site.attest) for r in self.requests if part in r.url]


async def open_page(browser: Browser, url: str, viewport: dict[str, int], *, clock: bool = False,
                    **options: Any) -> Visit:
    context = await browser.new_context(viewport=viewport, **options)
    page = await context.new_page()
    visit = Visit(page, context)
    await page.add_init_script(OBSERVE)
    if clock:
        await page.clock.install()  # time flows until paused; then the test moves it
    await page.goto(url)
    return visit


async def scroll_through(page: Page) -> None:
    """As a reader would: down to the end a screen at a time, each step painted, then back to the top."""
    y = 0
    while y < await page.evaluate("document.documentElement.scrollHeight - innerHeight"):
        y += 400
        await page.evaluate("(y) => new Promise((ok) => { scrollTo(0, y); requestAnimationFrame(() => "
                            "requestAnimationFrame(ok)); })", y)
    await page.wait_for_function(DONE)
    await page.evaluate("() => new Promise((ok) => { scrollTo(0, 0); requestAnimationFrame(() => "
                        "requestAnimationFrame(ok)); })")


async def cls(page: Page) -> float:
    return float(await page.evaluate("window.__shifts.reduce((a, s) => a + s.value, 0)"))


async def axe(page: Page, site: Site) -> list[dict[str, Any]]:
    # From the page's own origin, which its policy allows (no CSP bypass: the page is tested as it is).
    await page.add_script_tag(url=await page.evaluate("location.origin") + "/axe.min.js")
    return await axe_violations(page)


def shadow(host: str, inner: str) -> str:
    return f"{host} >> {inner}"  # Playwright's CSS selectors pierce open shadow roots


async def check_isolated_page(visit: Visit, site: Site, name: str, width: str) -> None:
    page = visit.page
    await scroll_through(page)
    shift = await cls(page)
    heights = await page.evaluate("""() => [...document.querySelectorAll('[data-attest-widget]')].slice(0, 5).map(
        (h) => { const w = h.shadowRoot.querySelector('.w'), last = w.lastElementChild;
                 const top = w.getBoundingClientRect().top;
                 return h.dataset.attestWidget + ' ' + Math.round(w.getBoundingClientRect().height) + ' (content ' +
                   Math.round(last ? last.getBoundingClientRect().bottom - top : 0) + ')'; })""")
    print(f"\nCLS {name} at {width}px: {shift:.4f} {await page.evaluate('window.__shifts')}; heights {heights}")
    await page.screenshot(path=artifact(f"storefront-{name}-{width}.png"), full_page=True)
    assert shift <= CLS_BUDGET, await page.evaluate("window.__shifts")
    assert await page.evaluate("window.__csp") == []
    violations = await axe(page, site)
    assert violations == [], describe(violations)
    # Nothing but the shop and Attest; no cookie anywhere, none sent.
    shop_origin = site.url("")
    assert all(r.url.startswith((site.attest + "/", shop_origin)) for r in visit.requests), \
        [r.url for r in visit.requests]
    assert await visit.context.cookies() == []
    for r in visit.requests:
        assert "cookie" not in await r.all_headers()


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_product_page(browser: StorefrontBrowser, site: Site, width: str):
    async def steps() -> None:
        assert browser.browser is not None
        visit = await open_page(browser.browser, site.url("/pages/product"), WIDTHS[width])
        page = visit.page
        try:
            await check_isolated_page(visit, site, "product", width)
            # The star snippet, under the title: the product's five published reviews.
            stars = page.locator(shadow("#stars", ".st"))
            assert await stars.get_attribute("aria-label") == "Rated 3.0 out of 5 from 5 reviews"
            # The review list: summary, histogram, its own page of five, languages pooled and labelled.
            reviews = "#reviews"
            assert await page.locator(shadow(reviews, ".h")).inner_text() == "Customer reviews"
            assert await page.locator(shadow(reviews, ".hist a")).count() == 5
            assert await page.locator(shadow(reviews, ".list > li")).count() == 5
            text = await page.locator(shadow(reviews, ".list")).inner_text()
            for words in ("Written in Polish", "Written in German", "Imported review", "Reply from Demo Shop",
                          "Thank you, Anna!", "May 1, 2024", "Verified buyer"):
                assert words in text, words
            assert "<script>alert(1)</script>" in text  # shown as text, never parsed
            assert await page.locator(shadow(reviews, "script")).count() == 0
            assert await page.locator(shadow(reviews, ".more")).is_hidden()
            assert await page.locator(shadow(reviews, ".foot a")).first.get_attribute("href") == \
                f"{site.attest}/shops/demo-shop/products/SKU-1"
            # The carousel: eight of the shop's reviews, newest first; the badge: a registered website.
            assert await page.locator(shadow("#carousel", "[aria-roledescription=slide]")).count() == 8
            badge = await page.locator(shadow("#badge", ".bd")).inner_text()
            assert "Demo Shop" in badge and "verified reviews · Verified by Attest" in badge
            # One file per family used, the English strings only, one ratings request.
            assert sorted(p.split("?")[0] for p in visit.paths(site, "/widgets/v1/js/")) == [
                "/widgets/v1/js/badge.js", "/widgets/v1/js/carousel.js", "/widgets/v1/js/reviews.js"]
            assert visit.paths(site, "/i18n/") == ["/widgets/v1/i18n/en.json"]
            assert len(visit.paths(site, "/ratings.json")) == 1
        finally:
            await visit.context.close()

    await browser.run(steps)


@pytest.mark.parametrize("width", WIDTHS)
async def test_every_snippet_the_console_offers_pasted_into_one_page_moves_nothing(
        browser: StorefrontBrowser, site: Site, width: str):
    """The console's widgets page, as a merchant uses it: every snippet it offers, pasted as it is into a
    product page on another origin (the SEO fragment included by the shop's server from the snippet's
    address): no layout shift, axe-clean, and every widget drawn."""
    async def steps() -> None:
        assert browser.browser is not None
        visit = await open_page(browser.browser, site.url("/pages/snippets"), WIDTHS[width])
        page = visit.page
        try:
            await check_isolated_page(visit, site, "snippets", width)
            kinds = await page.evaluate("""() => [...document.querySelectorAll('[data-attest-widget]')].map(
                (h) => h.dataset.attestWidget + (h.shadowRoot.querySelector('.w').childElementCount ? '' : ' empty')
            )""")
            assert sorted(kinds) == ["badge", "carousel", "reviews", "reviews", "reviews", "stars", "stars", "stars",
                                     "stars"], kinds
            # Each placeholder kept at least what its widget took, at this width.
            taken = await page.evaluate("""() => [...document.querySelectorAll('[data-attest-widget]')].filter(
                (h) => h.querySelector('svg')).map((h) => { const w = h.shadowRoot.querySelector('.w');
                    const last = w.lastElementChild, top = w.getBoundingClientRect().top;
                    return [h.dataset.attestWidget, +h.querySelector('svg').getAttribute('height'),
                            Math.ceil(last.getBoundingClientRect().bottom - top)]; })""")
            print(f"placeholder and content heights at {width}px: {taken}")
            assert all(content <= kept + 1 for _, kept, content in taken), taken  # within a pixel of rounding
            assert await page.locator("footer img").evaluate("(img) => img.complete && img.naturalHeight") == 64
        finally:
            await visit.context.close()

    await browser.run(steps)


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_collection_page_asks_once_for_every_tile(browser: StorefrontBrowser, site: Site, width: str):
    async def steps() -> None:
        assert browser.browser is not None
        visit = await open_page(browser.browser, site.url("/pages/collection"), WIDTHS[width])
        page = visit.page
        try:
            await check_isolated_page(visit, site, "collection", width)
            assert visit.paths(site, "/ratings.json") == [
                "/widgets/v1/demo-shop/ratings.json?products=SKU-1,SKU-2," + ",".join(
                    f"P{i:02}" for i in range(3, 27))]
            # The review list's code is not loaded where no review list is; the stars are the loader's.
            assert sorted(p.split("?")[0] for p in visit.paths(site, "/widgets/v1/js/")) == ["/widgets/v1/js/badge.js"]
            tiles = page.locator(".tile")
            assert await tiles.count() == 26
            # P04 has one review, P03 none: a row of tiles stays even, the empty one shows nothing.
            p04 = page.locator(shadow('.tile:has([data-product="P04"]) [data-attest-widget]', ".st"))
            assert (await p04.get_attribute("aria-label") or "").endswith("from 1 review")
            p03 = page.locator(shadow('.tile:has([data-product="P03"]) [data-attest-widget]', ".st"))
            assert await p03.count() == 0
        finally:
            await visit.context.close()

    await browser.run(steps)


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_seo_fragment_is_taken_over_not_drawn_twice(browser: StorefrontBrowser, site: Site, width: str):
    async def steps() -> None:
        assert browser.browser is not None
        # Without script: the server-rendered list, styled in its shadow root, links for the filters.
        plain = await open_page(browser.browser, site.url("/pages/fragment"), WIDTHS[width], java_script_enabled=False)
        try:
            assert await plain.page.locator(shadow("[data-attest-fragment]", ".list > li")).count() == 5
            assert await plain.page.locator(shadow("[data-attest-fragment]", ".go")).is_visible()
            assert "Held on wet rock." in await plain.page.locator(shadow("[data-attest-fragment]", ".w")).inner_text()
        finally:
            await plain.context.close()
        visit = await open_page(browser.browser, site.url("/pages/fragment"), WIDTHS[width])
        page = visit.page
        try:
            await check_isolated_page(visit, site, "fragment", width)
            fragment = "[data-attest-fragment]"
            assert await page.locator(shadow(fragment, ".w")).count() == 1  # no second copy
            assert await page.locator(shadow(fragment, ".list > li")).count() == 5
            assert await page.locator(shadow(fragment, ".go")).count() == 0  # choices apply at once now
            assert visit.paths(site, "/reviews.json") == []  # it needed no data to take over
            await page.locator(shadow(fragment, '[data-stars="1"]')).click()
            await page.wait_for_function(f"""() => document.querySelector('{fragment}').shadowRoot
                .querySelectorAll('.list > li').length == 1""")
            assert "Fell apart" in await page.locator(shadow(fragment, ".list")).inner_text()
            assert await page.locator(shadow(fragment, '[data-stars="1"]')).get_attribute("aria-current") == "true"
            assert len(visit.paths(site, "/reviews.json")) == 1
        finally:
            await visit.context.close()

    await browser.run(steps)


async def test_the_review_list_by_keyboard(browser: StorefrontBrowser, site: Site):
    async def steps() -> None:
        assert browser.browser is not None
        visit = await open_page(browser.browser, site.url("/pages/product?limit=2"), DESKTOP)
        page = visit.page
        try:
            await scroll_through(page)
            reviews = "#reviews"
            items = page.locator(shadow(reviews, ".list > li"))
            assert await items.count() == 2
            status = page.locator(shadow(reviews, ".status"))
            assert await status.inner_text() == "Showing 2 of 5 reviews"
            # Tab reaches into the shadow root like anywhere else: to the "5 stars" bar, and Enter filters.
            await tab_to_shadow(page, reviews, '[data-stars="5"]')
            await page.keyboard.press("Enter")
            await wait_text(page, status, "Showing 1 of 1 review")
            assert "Great grip" in await items.first.inner_text()
            await page.keyboard.press("Enter")  # again: the filter is lifted
            await wait_text(page, status, "Showing 2 of 5 reviews")
            # The sort, with the keyboard's arrow in the select.
            await page.locator(shadow(reviews, "select[name=sort]")).focus()
            await page.locator(shadow(reviews, "select[name=sort]")).select_option("lowest")
            await page.wait_for_function("""() => document.querySelector('#reviews').shadowRoot
                .querySelector('.list > li .t')?.textContent == 'Fell apart'""")
            # "Show more": the next two come, and the focus goes to the first of them.
            await tab_to_shadow(page, reviews, ".more")
            await page.keyboard.press("Enter")
            await wait_text(page, status, "Showing 4 of 5 reviews")
            assert await page.evaluate("""() => { const root = document.querySelector('#reviews').shadowRoot;
                return root.activeElement === root.querySelectorAll('.list > li')[2]; }""")
        finally:
            await visit.context.close()

    await browser.run(steps)


async def test_the_carousel_by_keyboard_without_motion_unless_asked(browser: StorefrontBrowser, site: Site):
    async def steps() -> None:
        assert browser.browser is not None
        # No autoplay unless the page asks; buttons and arrow keys move it a slide at a time.
        visit = await open_page(browser.browser, site.url("/pages/product"), PHONE)
        page = visit.page
        try:
            await scroll_through(page)
            carousel = "#carousel"
            assert await page.locator(shadow(carousel, ".pp")).count() == 0
            section = page.locator(shadow(carousel, "section"))
            assert await section.get_attribute("aria-roledescription") == "carousel"
            assert await page.locator(shadow(carousel, "[role=group]")).first.get_attribute("aria-label") == "1 of 8"
            await tab_to_shadow(page, carousel, ".nx")
            await page.keyboard.press("Enter")
            await wait_scrolled(page, lambda x: x > 100)
            await tab_to_shadow(page, carousel, ".trk")
            await page.keyboard.press("ArrowLeft")
            await wait_scrolled(page, lambda x: x < 5)
            await page.keyboard.press("ArrowLeft")  # from the first to the last
            await wait_scrolled(page, lambda x: x > 1000)
        finally:
            await visit.context.close()
        # Asked to play: it moves by itself, and not once paused (its button), nor under the focus.
        visit = await open_page(browser.browser, site.url("/pages/product?autoplay=1"), PHONE, clock=True)
        page = visit.page
        try:
            await scroll_through(page)
            await page.clock.pause_at(await page.evaluate("Date.now()") + 10)
            assert await moves_in(page, 1100) == 1
            pause = page.locator(shadow(carousel, ".pp"))
            assert await pause.inner_text() == "Pause"
            await pause.click()
            await page.mouse.move(0, 0)
            assert await pause.inner_text() == "Play"
            assert await moves_in(page, 5000) == 0
            await pause.click()
            await page.mouse.move(0, 0)
            assert await moves_in(page, 1100) == 1
            await page.locator(shadow(carousel, ".nx")).focus()
            assert await moves_in(page, 5000) == 0  # the keyboard is on it: it waits
        finally:
            await visit.context.close()
        # A visitor who prefers less motion: it does not start, whatever the page asks.
        visit = await open_page(browser.browser, site.url("/pages/product?autoplay=1"), PHONE, clock=True,
                                reduced_motion="reduce")
        page = visit.page
        try:
            await scroll_through(page)
            await page.clock.pause_at(await page.evaluate("Date.now()") + 10)
            assert await page.locator(shadow(carousel, ".pp")).inner_text() == "Play"
            assert await moves_in(page, 5000) == 0
        finally:
            await visit.context.close()

    await browser.run(steps)


async def test_a_copied_seal_warns_and_the_registered_one_does_not(browser: StorefrontBrowser, site: Site):
    async def steps() -> None:
        assert browser.browser is not None
        for host, registered in (("copycat.test", False), ("www.shop.test", True)):
            visit = await open_page(browser.browser, site.url("/pages/product", host=host), PHONE)
            page = visit.page
            try:
                await scroll_through(page)
                badge = page.locator(shadow("#badge", ".bd"))
                text = await badge.inner_text()
                if registered:
                    assert "Demo Shop" in text and "Verified by Attest" in text and "not valid" not in text
                else:
                    assert "Seal not valid on this website" in text
                    assert "copycat.test is not a website registered by Demo Shop." in text
                    assert "/5" not in text and "Verified by Attest" not in text
                assert await badge.get_attribute("href") == f"{site.attest}/shops/demo-shop"
                violations = await axe(page, site)
                assert violations == [], describe(violations)
            finally:
                await visit.context.close()

    await browser.run(steps)


async def test_a_hostile_stylesheet_changes_nothing_inside_and_nothing_leaks_out(browser: StorefrontBrowser,
                                                                                site: Site):
    measure = """() => [...document.querySelectorAll('[data-attest-widget]')].map((h) => {
        const root = h.shadowRoot, box = root.querySelector('.w').getBoundingClientRect();
        // (A select's options are drawn by the browser apart, with no box on the page.)
        const parts = [...root.querySelectorAll('.w *:not(option)')].slice(0, 60).map((e) => {
            const r = e.getBoundingClientRect(), s = getComputedStyle(e);
            return [e.className, Math.round(r.x - box.x), Math.round(r.y - box.y), Math.round(r.width),
                    Math.round(r.height), s.fontSize, s.color, s.display];
        });
        // A snippet fills its line, which the page's own styles may narrow, and every widget keeps the
        // height the page gave its element before the script ran: what is inside may not change.
        const width = h.dataset.attestWidget == 'stars' ? 0 : Math.round(box.width);
        const last = root.querySelector('.w').lastElementChild;
        return [h.dataset.attestWidget, width, last && Math.round(last.getBoundingClientRect().bottom - box.y), parts];
    })"""
    page_styles = """() => ['h1', '.buy', '.copy', 'header a', '.price'].map((s) => {
        const c = getComputedStyle(document.querySelector(s));
        return [s, c.fontSize, c.color, c.backgroundColor, c.padding, c.border, c.fontFamily];
    })"""

    async def steps() -> None:
        assert browser.browser is not None
        seen = {}
        for name in ("product", "hostile", "product-bare"):
            visit = await open_page(browser.browser, site.url(f"/pages/{name}"), DESKTOP)
            try:
                if name != "product-bare":
                    await scroll_through(visit.page)
                    seen[name] = await visit.page.evaluate(measure)
                    await visit.page.screenshot(path=artifact(f"storefront-{name}.png"), full_page=True)
                if name != "hostile":
                    seen[name + " page"] = await visit.page.evaluate(page_styles)
            finally:
                await visit.context.close()
        # The same widgets, to the pixel, whatever the page's styles say.
        for hostile, plain in zip(seen["hostile"], seen["product"], strict=True):
            assert hostile[:3] == plain[:3]
            for a, b in zip(hostile[3], plain[3], strict=True):
                assert a == b, (hostile[0], a, b)
        # And the page's own elements look the same with the widgets as without.
        assert seen["product page"] == seen["product-bare page"]

    await browser.run(steps)


async def test_the_widgets_speak_the_pages_language(browser: StorefrontBrowser, site: Site):
    async def steps() -> None:
        assert browser.browser is not None
        visit = await open_page(browser.browser, site.url("/pages/product?lang=de"), PHONE)
        page = visit.page
        try:
            await scroll_through(page)
            assert visit.paths(site, "/i18n/") == ["/widgets/v1/i18n/de.json"]
            stars = page.locator(shadow("#stars", ".st"))
            assert await stars.get_attribute("aria-label") == "3,0 von 5 Sternen bei 5 Bewertungen"
            text = await page.locator(shadow("#reviews", ".w")).inner_text()
            for words in ("Kundenbewertungen", "Verfasst auf Polnisch", "Verifizierter Käufer", "Antwort von Demo Shop",
                          "01.05.2024", "Neueste"):
                assert words in text, words
            assert "Written in" not in text
            assert await page.locator(shadow("#carousel", "section")).get_attribute("aria-roledescription") == \
                "Karussell"
        finally:
            await visit.context.close()

    await browser.run(steps)


# --- helpers in the browser's loop -------------------------------------------------------------------------------

async def tab_to_shadow(page: Page, host: str, selector: str, limit: int = 80) -> None:
    """Press Tab until the element `selector` in the shadow root of `host` has the focus."""
    check = f"""() => {{ const h = document.querySelector('{host}');
        return document.activeElement === h && h.shadowRoot.activeElement === h.shadowRoot.querySelector('{selector}');
    }}"""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(check):
            return
    raise AssertionError(f"{selector} in {host} cannot be reached with the Tab key")


async def wait_text(page: Page, locator: Any, text: str, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while (found := await locator.inner_text()) != text:
        assert time.monotonic() < deadline, f"{found!r} is not {text!r}"
        await asyncio.sleep(0.05)


async def scroll_left(page: Page) -> float:
    return float(await page.evaluate("document.querySelector('#carousel').shadowRoot.querySelector('.trk').scrollLeft"))


async def moves_in(page: Page, ms: int) -> int:
    """How often the carousel was moved while the page's clock ran `ms` further."""
    before = await page.evaluate("window.__scrolls")
    await page.clock.run_for(ms)
    return int(await page.evaluate("window.__scrolls")) - int(before)


async def wait_scrolled(page: Page, ok: Any, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not ok(x := await scroll_left(page)):
        assert time.monotonic() < deadline, f"the carousel is at {x}"
        await asyncio.sleep(0.05)
