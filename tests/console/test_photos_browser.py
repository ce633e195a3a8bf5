"""The Photos tab in a real Chromium, with the keyboard alone: j and k move between the cards, A
approves all of a review's photos, a approves one, r goes to the reason and Enter refuses, ? lists
the keys; each decision is said in place. The tab, the review's file and the shop's review with their
photos pass axe at phone and desktop widths."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, ViewportSize

from reviews.accounts import manage
from reviews.platform.services import Services
from tests.browser_support import (
    DESKTOP,
    BrowserThread,
    Traffic,
    artifact,
    axe_at_both_widths,
    browser,
    describe,
    live_server,
    new_context,
)
from tests.console.test_console_browser import Fixture, moderator, set_password
from tests.media import photos
from tests.media.flow import review_with_photo, send
from tests.media.test_copies import OTHER

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow
THIRD = {"order_id": "C-3", "email": "chiara.rossi@example.com", "name": "Chiara Rossi"}


async def _current(page: Page) -> str:
    return str(await page.evaluate(
        "(document.querySelector('[data-photo][aria-current=true]') || {}).id || ''"))


async def test_a_moderator_decides_photos_with_the_keyboard(
        browser: BrowserThread, client: httpx.AsyncClient, services: Services, merchant: Fixture) -> None:
    path, first = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(80, (800, 600)))
    assert (await send(client, path, ("b.jpg", photos.phone_jpeg(81, (800, 600))))).status_code == 200
    await review_with_photo(client, services, merchant[1], photos.phone_jpeg(82, (800, 600)), **OTHER)
    await review_with_photo(client, services, merchant[1], photos.phone_jpeg(83, (800, 600)), **THIRD)
    ids = [f"photo-{r['id']}" for r in await services.pool.fetch("SELECT id FROM photos ORDER BY id")]
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        _id, link = await moderator(services, "ines@example.org")
        _owner, owner_link = await manage.invite(services, "olga@example.com", "owner", merchant[0].slug, actor="test")

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            found: dict[str, list[dict[str, Any]]] = {}
            context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                        bypass_csp=True)
            page = await context.new_page()
            await set_password(page, link)
            await page.goto(f"{live}/console/photos")
            seen["images loaded"] = await page.evaluate(
                "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
            await page.screenshot(path=artifact("photos-tab.png"), full_page=True)
            await axe_at_both_widths(page, "photos tab", found)
            await page.set_viewport_size(ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"]))
            walk = [await _current(page)]
            for key in ("j", "j", "k", "k"):
                await page.keyboard.press(key)
                walk.append(await _current(page))
            seen["walk"] = walk
            await page.keyboard.press("?")
            seen["help open"] = await page.evaluate("document.getElementById('keys-help').open")
            await page.keyboard.press("Escape")
            async with page.expect_navigation():
                await page.keyboard.press("Shift+A")  # A: both of the first review's photos
            seen["after A"] = await page.inner_text("p.done[role=status]")
            seen["first after A"] = await _current(page)
            async with page.expect_navigation():
                await page.keyboard.press("a")
            seen["after a"] = await page.inner_text("p.done[role=status]")
            await page.keyboard.press("r")
            seen["reason focused"] = await page.evaluate("document.activeElement.tagName")
            await page.keyboard.press("ArrowDown")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            seen["after r"] = await page.inner_text("p.done[role=status]")
            seen["left"] = await page.locator("[data-photo]").count()
            await axe_at_both_widths(page, "after the decisions", found)
            await page.goto(f"{live}/console/reviews/{first}")
            seen["file photos"] = await page.locator("#review-photos ~ ul img").count()
            await axe_at_both_widths(page, "the review's file with its photos", found)
            await context.close()
            # The shop's owner sees the review's photos in the inbox, each with its report form.
            owner = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                      bypass_csp=True)
            page = await owner.new_page()
            await set_password(page, owner_link)
            await page.goto(f"{live}/console/m/{merchant[0].slug}/reviews/{first}")
            seen["inbox photos"] = await page.locator("#photos ~ ul img, section[aria-labelledby=photos] img").count()
            await axe_at_both_widths(page, "the inbox's review with photos", found)
            await owner.close()
            seen["axe"] = found
            return seen

        seen = await browser.run(steps)
    assert seen["images loaded"]
    assert seen["walk"] == [ids[0], ids[1], ids[2], ids[1], ids[0]]
    assert seen["help open"]
    assert seen["after A"] == "2 photos approved." and seen["first after A"] == ids[2]
    assert seen["after a"] == "1 photo approved."
    assert seen["reason focused"] == "SELECT"
    assert seen["after r"] == "Photo rejected as Not a photo of the product; its author will be emailed."
    assert seen["left"] == 0 and seen["inbox photos"] == 2 and seen["file photos"] == 2
    states = [r["state"] for r in await services.pool.fetch("SELECT state FROM photos ORDER BY id")]
    assert states == ["approved", "approved", "approved", "rejected"]
    assert not seen["axe"], "\n".join(f"{k}: {describe(v)}" for k, v in seen["axe"].items())
