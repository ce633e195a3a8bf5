"""Photos on the review page in a real Chromium: with the page's script, chosen files are previewed,
one is removed before sending, a caption is typed, and a 12-megapixel photo is downscaled on the
phone before it is sent; without the script the plain file field sends them; axe finds nothing
serious on the form showing photos, in a phone's width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviews.media import store as photo_store
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.browser_support import (
    PHONE,
    BrowserThread,
    Traffic,
    artifact,
    axe_violations,
    browser,
    describe,
    live_server,
    new_context,
)
from tests.buyer.test_browser import PLAIN_PRODUCTS, invite, submit
from tests.media import photos

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow

Fixture = tuple[Merchant, str]
TEXT = "Light, grippy and dry after a wet run."


async def test_previews_removal_caption_and_downscaling_on_the_phone(
        browser: BrowserThread, services: Services, merchant: Fixture, tmp_path: Path) -> None:
    big = tmp_path / "IMG_0001.jpg"
    big.write_bytes(photos.phone_jpeg(95, (4000, 3000)))
    other = tmp_path / "IMG_0002.jpg"
    other.write_bytes(photos.phone_jpeg(96, (800, 600)))
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS)

        async def steps() -> dict[str, Any]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, viewport=PHONE)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            await page.set_input_files("#upload-0", [str(big), str(other)])
            previews = page.locator("[data-photos='0'] ul.shots li")
            await previews.nth(1).wait_for()
            seen: dict[str, Any] = {"previews": await previews.count(),
                                    "sources": await page.eval_on_selector_all(
                                        "[data-photos='0'] ul.shots img", "imgs => imgs.map(i => i.src.slice(0, 5))")}
            await previews.nth(1).get_by_role("button", name="Remove this photo").click()
            seen["after_removal"] = await previews.count()
            seen["files"] = await page.eval_on_selector("#upload-0", "i => Array.from(i.files).map(f => [f.name, "
                                                                     "f.type, f.size])")
            await page.fill("#newcaption-0-0", "After 200 km of gravel")
            await page.click("label[for=rating-0-5]")
            await page.fill("#body-0", TEXT)
            await submit(page)
            seen["heading"] = await page.inner_text("h1")
            await page.screenshot(path=artifact("review-photos-thanks-phone.png"), full_page=True)
            await context.close()
            return seen

        seen = await browser.run(steps)
    assert seen["previews"] == 2 and seen["sources"] == ["blob:", "blob:"] and seen["after_removal"] == 1
    ((name, kind, size),) = seen["files"]
    assert (name, kind) == ("IMG_0001.jpg", "image/jpeg") and size < big.stat().st_size / 2  # downscaled
    assert seen["heading"] == "Thank you for your review"
    (photo,) = await services.pool.fetch("SELECT * FROM photos")
    assert (photo["caption"], photo["width"], photo["height"]) == ("After 200 km of gravel", 1200, 1600)
    assert photo["uploaded_bytes"] == size  # what the phone sent, not the 12 MP original


async def test_without_the_script_the_file_field_sends_the_photo(
        browser: BrowserThread, services: Services, merchant: Fixture, tmp_path: Path) -> None:
    chosen = tmp_path / "shoes.jpg"
    chosen.write_bytes(photos.phone_jpeg(97, (1600, 1200)))
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS)

        async def steps() -> tuple[str, str]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, java_script_enabled=False)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            await page.set_input_files("#upload-0", str(chosen))
            await page.fill("#body-0", "Too short")
            await submit(page)  # no rating: back with the photo kept and shown
            status = await page.inner_text("[data-photos='0'] .shots .muted")
            await page.click("label[for=rating-0-4]")
            await page.fill("#body-0", TEXT)
            await submit(page)
            heading = await page.inner_text("h1")
            await context.close()
            return status, heading

        status, heading = await browser.run(steps)
    assert status == "Not sent yet: it is added to your review when you send the form."
    assert heading == "Thank you for your review"
    review_id = await services.pool.fetchval("SELECT id FROM reviews")
    assert len((await photo_store.of_reviews(services.pool, [review_id]))[review_id]) == 1


async def test_no_serious_accessibility_violations_with_photos(
        browser: BrowserThread, services: Services, merchant: Fixture, tmp_path: Path) -> None:
    chosen = tmp_path / "shoes.jpg"
    chosen.write_bytes(photos.phone_jpeg(98, (800, 600)))
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS)

        async def steps() -> dict[str, list[dict[str, Any]]]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, viewport=PHONE, bypass_csp=True)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            await page.set_input_files("#upload-0", str(chosen))
            await page.locator("[data-photos='0'] ul.shots li").first.wait_for()
            found = {"previews": await axe_violations(page)}
            await page.click("label[for=rating-0-5]")
            await page.fill("#body-0", TEXT)
            await submit(page)
            await page.goto(url)  # the form again, its photo shown with its state, caption and removal
            found["stored photos"] = await axe_violations(page)
            await page.screenshot(path=artifact("review-photos-form-phone.png"), full_page=True)
            await context.close()
            return {k: v for k, v in found.items() if v}

        found = await browser.run(steps)
    assert found == {}, describe(found)  # type: ignore[arg-type]
