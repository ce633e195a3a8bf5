"""Issue 23's "done when", walked in a real Chromium as a new user would, through the app's real HTTP
surfaces: a buyer invited after an order sends a phone photo (GPS and camera in its EXIF) from the
review page; a moderator approves it in the Photos tab with the keyboard; the reviews widget on a shop
page from another loopback origin and the public product page show it, and the served files carry no
metadata; a second buyer's review with the same photo, resized and saved again, is held with both
photos side by side in its file; the first buyer's erasure, from the shop's privacy page, leaves no
trace of the photo."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageOps
from playwright.async_api import Page

from reviews.accounts import manage
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.browser_support import DESKTOP, PHONE, BrowserThread, Traffic, browser, live_server, new_context
from tests.buyer.test_browser import PLAIN_PRODUCTS, invite, submit
from tests.conftest import free_port
from tests.console.test_console_browser import moderator, set_password
from tests.media import generated, photos
from tests.privacy.test_photo_erasure import _tables_holding
from tests.widgets.shop_site import Site, serve, shop_app

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow

Fixture = tuple[Merchant, str]
FIRST = {"order_id": "A-1", "email": "anna.kowalska@example.com", "name": "Anna Kowalska"}
SECOND = {"order_id": "B-2", "email": "jonas.becker@example.com", "name": "Jonas Becker"}
TEXT = "Light, grippy and dry after a wet run on the ridge."
STRIP = "#reviews >> .ph img"


async def _review(browser: BrowserThread, url: str, photo: Path) -> str:
    """The buyer's steps on a phone: the photo in the file field, five stars, a text, Send."""
    async def steps() -> str:
        context = await new_context(browser.browser, Traffic(url.split("/r/")[0]), viewport=PHONE)  # type: ignore[arg-type]
        page = await context.new_page()
        await page.goto(url)
        await page.set_input_files("#upload-0", str(photo))
        await page.locator("[data-photos='0'] ul.shots li").first.wait_for()
        await page.click("label[for=rating-0-5]")
        await page.fill("#body-0", TEXT)
        await submit(page)
        heading = await page.inner_text("h1")
        await context.close()
        return heading

    return await browser.run(steps)


async def _widget(page: Page, shop_page: str) -> None:
    await page.goto(shop_page)
    # The widget has drawn its reviews, or its words for none.
    await page.wait_for_function("() => { const r = document.querySelector('#reviews').shadowRoot;"
                                 " return r && r.querySelector('.list > li, p.none'); }")


async def test_a_phone_photo_from_the_review_page_to_its_erasure(
        browser: BrowserThread, client: httpx.AsyncClient, services: Services, merchant: Fixture,
        tmp_path: Path) -> None:
    # 1600 × 1200 and under 1 MB: the page sends it as chosen, GPS and serial and all.
    original = photos.phone_jpeg(90, (1600, 1200))
    assert photos.SERIAL.encode() in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    chosen = tmp_path / "IMG_4411.jpg"
    chosen.write_bytes(original)
    saved = ImageOps.exif_transpose(Image.open(io.BytesIO(original)))  # as the page showed it, saved again
    resized = tmp_path / "IMG_0007.jpg"
    resized.write_bytes(generated.jpeg(saved.resize((saved.width * 3 // 4, saved.height * 3 // 4)), quality=75))

    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        site = Site(attest=live, port=free_port())
        shop_page = site.url("/pages/product", host="127.0.0.1")  # another origin: another port
        _mod, mod_link = await moderator(services, "ines@example.org")
        _owner, owner_link = await manage.invite(services, "olga@example.com", "owner", merchant[0].slug,
                                                 actor="test")
        async with serve(shop_app(site), site.port):
            # 1. The first buyer, invited after an order through the API, sends the photo.
            url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS, **FIRST)
            assert await _review(browser, url, chosen) == "Thank you for your review"
            (sent,) = await services.pool.fetch("SELECT * FROM photos")
            assert sent["uploaded_bytes"] == len(original)  # the GPS reached the server, to be removed there
            first = sent["review_id"]
            async with make_worker(services) as worker:
                await worker.drain()  # the text is scanned and published; the photo waits
            assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", first) == "published"
            assert await services.pool.fetchval("SELECT state FROM photos") == "pending"
            public = serving.public_path(sent["public_key"])
            assert (await client.get(public)).status_code == 404  # not before a moderator has seen it

            async def strip() -> list[int]:
                """A shopper on the shop's product page: the reviews the widget lists, the photos in its strip."""
                context = await browser.browser.new_context(viewport=DESKTOP)  # type: ignore[union-attr, arg-type]
                page = await context.new_page()
                await _widget(page, shop_page)
                shown = [await page.locator("#reviews >> .list > li").count(), await page.locator(STRIP).count()]
                await context.close()
                return shown

            assert await browser.run(strip) == [1, 0]  # the review, without its photo yet

            # 2. The moderator signs in and approves it in the Photos tab, with the keyboard.
            async def approve() -> dict[str, Any]:
                context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP)  # type: ignore[arg-type]
                page = await context.new_page()
                await set_password(page, mod_link)
                await page.goto(f"{live}/console/photos")
                seen = {"current": await page.evaluate(
                    "(document.querySelector('[data-photo][aria-current=true]') || {}).id || ''")}
                async with page.expect_navigation():
                    await page.keyboard.press("a")
                seen["said"] = await page.inner_text("p.done[role=status]")
                signed_in["moderator"] = page  # still signed in for steps 4 and 5
                return seen

            signed_in: dict[str, Page] = {}
            seen = await browser.run(approve)
            assert seen == {"current": f"photo-{sent['id']}", "said": "1 photo approved."}

            # 3. Shoppers see it: the widget on the shop's page, the public product page; the files are bare.
            async def shown() -> dict[str, Any]:
                context = await browser.browser.new_context(viewport=DESKTOP)  # type: ignore[union-attr, arg-type]
                page = await context.new_page()
                await _widget(page, shop_page)
                img = page.locator(STRIP)
                await img.first.scroll_into_view_if_needed()
                await page.wait_for_function("() => [...document.querySelector('#reviews').shadowRoot"
                                             ".querySelectorAll('.ph img')].every(i => i.naturalWidth > 0)")
                seen = {"strip": await img.count(), "src": await img.first.get_attribute("src"),
                        "size": (await img.first.get_attribute("width"), await img.first.get_attribute("height")),
                        "alt": await img.first.get_attribute("alt")}
                await page.locator("#reviews >> .ph a").first.click()
                dialog = page.locator("#reviews >> dialog.lb")
                await dialog.wait_for(state="visible")
                seen["lightbox"] = await page.locator("#reviews >> dialog.lb img").get_attribute("src")
                await page.wait_for_function("() => document.querySelector('#reviews').shadowRoot"
                                             ".querySelector('dialog.lb img').naturalWidth == 1200")
                await page.keyboard.press("Escape")
                await dialog.wait_for(state="hidden")
                await page.goto(f"{live}/shops/{merchant[0].slug}/products/SKU-1")
                seen["public"] = [await page.locator(".photos img").count(), *await page.locator(".photos img").first
                                  .evaluate("i => [i.src, i.getAttribute('width'), i.getAttribute('height'), i.alt]")]
                await context.close()
                return seen

            seen = await browser.run(shown)
            thumb = f"{live}{serving.public_path(sent['public_key'], thumb=True)}"
            assert seen["strip"] == 1 and seen["src"] == thumb
            # The photo's own width and height (reviews.json's): its proportions reserve the thumbnail's space.
            assert seen["size"] == (str(sent["width"]), str(sent["height"])) == ("1200", "1600")
            assert seen["alt"] == "Photo by Anna K. of Trail running shoes"
            assert seen["lightbox"] == f"{live}{public}"
            # The public page gives the thumbnail's own sizes: the same proportions.
            assert seen["public"] == [1, thumb, str(sent["thumb_width"]), str(sent["thumb_height"]), seen["alt"]]
            assert (sent["thumb_width"], sent["thumb_height"]) == (300, 400)
            async with httpx.AsyncClient(base_url=live) as http:
                for path in (public, serving.public_path(sent["public_key"], thumb=True)):
                    r = await http.get(path)
                    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
                    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
                    assert r.headers["x-content-type-options"] == "nosniff"
                    assert r.headers["content-security-policy"].startswith("default-src 'none'")
                    served = Image.open(io.BytesIO(r.content))
                    assert not served.getexif() and "exif" not in served.info and "xmp" not in served.info
                    assert photos.SERIAL.encode() not in r.content and b"PhoneMaker" not in r.content
                    assert photos.webp_riff_chunks(r.content) in (["VP8"], ["VP8L"])  # no EXIF/XMP/ICCP chunk
                    assert served.size == ((1200, 1600) if path == public else (300, 400))  # turned upright

            # 4. A second buyer sends the same photo, resized and saved again: held, the pair in its file.
            url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS, **SECOND)
            assert await _review(browser, url, resized) == "Thank you for your review"
            second = await services.pool.fetchval("SELECT max(review_id) FROM photos")
            async with make_worker(services) as worker:
                await worker.drain()
            assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", second) == "held"

            async def evidence() -> dict[str, Any]:
                page = signed_in["moderator"]
                await page.goto(f"{live}/console/reviews/{second}")
                pair = page.locator(".notice .pair")
                seen = {"sides": await pair.locator("img").count(),
                        "loaded": await pair.evaluate("p => [...p.querySelectorAll('img')]"
                                                      ".every(i => i.complete && i.naturalWidth > 0)"),
                        "other": await pair.locator("a").first.get_attribute("href"),
                        "said": await page.locator(".notice p").first.inner_text()}
                await page.goto(f"{live}/console/photos")  # the Photos tab: the new photo waits, its pair beside it
                seen["tab"] = [await page.locator("[data-photo]").count(),
                               await page.locator("[data-photo] .pair img").count()]
                return seen

            seen = await browser.run(evidence)
            print(f"\nthe pair's evidence: {seen['said']}")
            assert seen["sides"] == 2 and seen["loaded"] and seen["other"] == f"/console/reviews/{first}"
            assert "The same photo is in another author's review." in seen["said"] and "Distance " in seen["said"]
            assert seen["tab"] == [1, 2]

            # 5. The first buyer's erasure, by the shop's owner on the privacy page: no trace of the photo.
            image_digest, thumb_digest = sent["image_digest"], sent["thumb_digest"]
            stored = await photo_store.blob(services.pool, image_digest)
            assert stored is not None
            traces = {"digest": image_digest, "thumb digest": thumb_digest, "public key": sent["public_key"],
                      "bytes": stored[200:240].hex()}
            for name, marker in traces.items():
                assert await _tables_holding(services, marker), name  # the markers find what is there

            async def erase() -> str:
                context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP)  # type: ignore[arg-type]
                page = await context.new_page()
                await set_password(page, owner_link)
                await page.goto(f"{live}/console/m/{merchant[0].slug}/privacy")
                await page.fill("#p-email", FIRST["email"])
                async with page.expect_navigation():
                    await page.get_by_role("button", name="Erase their data…").click()
                async with page.expect_navigation():
                    await page.get_by_role("button", name="Erase this buyer's data").click()
                said = await page.inner_text("main")
                await context.close()
                return said

            said = await browser.run(erase)
            print(f"the privacy page after the erasure: {' '.join(said.split())[:300]}")
            assert await browser.run(strip) == [0, 0]  # the review and its photo are gone from the shop's page

            async def file_after() -> list[Any]:
                page = signed_in["moderator"]
                await page.goto(f"{live}/console/reviews/{second}")
                notice = page.locator(".notice")
                seen = [await notice.locator(".pair img").count(), await notice.first.inner_text(),
                        sent["public_key"] in await page.content()]
                await page.context.close()
                return seen

            # The held review's file keeps the flag's words, and nothing of the erased photo.
            sides, notice, named = await browser.run(file_after)
            assert sides == 0 and not named and "was deleted since" in notice
    for name, marker in traces.items():
        assert await _tables_holding(services, marker) == [], name
    assert await services.pool.fetchval("SELECT count(*) FROM photos WHERE review_id = $1", first) == 0
    for path in (public, serving.public_path(sent["public_key"], thumb=True)):
        assert (await client.get(path)).status_code == 404
    # The second buyer's photo is whole, waiting with its held review.
    assert await services.pool.fetchval("SELECT count(*) FROM photos WHERE review_id = $1", second) == 1
