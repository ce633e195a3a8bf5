"""The review page in a real Chromium against the real app under uvicorn: keyboard only, errors,
a star link from a real invitation email, editing and withdrawing, axe in every language,
page weight and origins, and screenshots at phone and desktop widths (in test-artifacts/)."""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import replace
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.async_api import BrowserContext, Page

from reviews.merchants.model import Merchant
from reviews.platform import tokens
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES
from reviews.worker import make_worker
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
    focused_id,
    live_server,
    new_context,
    tab_to,
)
from tests.conftest import RecordingHandler, smtp_url
from tests.helpers import auth, order_event

__all__ = ["browser"]  # the fixture, used by name

# Real Chromium: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

Fixture = tuple[Merchant, str]
PLAIN_PRODUCTS = [{"id": "SKU-1", "name": "Trail running shoes"}, {"id": "SKU-2", "name": "Merino socks"}]
SUBMIT = "#review-form button[type=submit]"


async def invite(services: Services, live: str, key: str, **kwargs: Any) -> str:
    async with httpx.AsyncClient(base_url=live) as http:
        r = await http.post("/api/v1/orders", json=order_event(**kwargs), headers=auth(key))
    assert r.status_code == 200, r.text
    invitation_id = await services.pool.fetchval("SELECT max(id) FROM invitations")
    return f"{live}/r/" + services.signer.sign(tokens.REVIEW, {"i": invitation_id})


async def brand(services: Services, merchant_id: int) -> None:
    await services.pool.execute(
        "UPDATE merchants SET settings = settings || $2 WHERE id = $1", merchant_id,
        {"logo_url": SHOP_IMAGES + "logo.svg", "accent_color": "#0a7d5a"})


async def submit(page: Page, selector: str = SUBMIT) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def test_keyboard_only_fills_a_two_product_order(browser: BrowserThread, services: Services,
                                                       merchant: Fixture) -> None:
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1])

        async def steps() -> tuple[str, str]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, viewport=PHONE)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            keys = page.keyboard
            # Into the first radio group, then arrows: each arrow moves and checks (1 → 4 stars).
            await tab_to(page, "#rating-0-1")
            for _ in range(3):
                await keys.press("ArrowRight")
            await keys.press("Tab")
            assert await focused_id(page) == "title-0"
            await keys.type("Comfy")
            await keys.press("Tab")
            assert await focused_id(page) == "body-0"
            await keys.type("Light, grippy and dry after a wet run.")
            await keys.press("Tab")  # the product's photos come after its text
            assert await focused_id(page) == "upload-0"
            await keys.press("Tab")  # the next radio group: Space checks the focused star, arrows move on
            assert await focused_id(page) == "rating-1-1"
            await keys.press("Space")
            for _ in range(4):
                await keys.press("ArrowRight")
            await tab_to(page, "#body-1")
            await keys.type("Warm and they do not itch at all.")
            await tab_to(page, SUBMIT)
            async with page.expect_navigation():
                await keys.press("Enter")
            heading = await page.inner_text("h1")
            body = await page.inner_text("main")
            await context.close()
            return heading, body

        heading, body = await browser.run(steps)
    assert heading == "Thank you for your review"
    assert "Trail running shoes" in body and "Merino socks" in body and "moderator" in body
    rows = await services.pool.fetch("SELECT product_id, rating, title, body FROM reviews ORDER BY product_id")
    assert [tuple(r) for r in rows] == [
        ("SKU-1", 4, "Comfy", "Light, grippy and dry after a wet run."),
        ("SKU-2", 5, "", "Warm and they do not itch at all.")]


async def test_invalid_submit_shows_the_error_and_keeps_the_text(browser: BrowserThread, services: Services,
                                                                 merchant: Fixture) -> None:
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], locale="es")
        typed = "Muy cómodas, pero la talla es pequeña. <b>Ojo</b>"

        async def steps() -> dict[str, Any]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            await page.fill("#title-0", "Cómodas")
            await page.fill("#body-0", typed)
            await submit(page)  # no rating
            seen = {
                "status_error": await page.inner_text("#rating-error-0"),
                "summary_focused": await focused_id(page) == "error-summary",
                "body": await page.input_value("#body-0"),
                "title": await page.input_value("#title-0"),
                "described": await page.get_attribute("#item-0 .stars", "aria-describedby"),
                "lang": await page.get_attribute("html", "lang"),
            }
            await page.click("label[for=rating-0-3]")  # fix it: the text is still there
            await submit(page)
            seen["after"] = await page.inner_text("h1")
            await context.close()
            return seen

        seen = await browser.run(steps)
    assert seen["lang"] == "es"
    assert seen["status_error"] == "Elige una puntuación de 1 a 5 estrellas."
    assert seen["summary_focused"] and seen["described"] == "rating-error-0"
    assert (seen["body"], seen["title"]) == (typed, "Cómodas")
    assert seen["after"] == "Gracias por tu opinión"
    assert await services.pool.fetchval("SELECT body FROM reviews") == typed


async def test_the_form_works_without_javascript(browser: BrowserThread, services: Services,
                                                 merchant: Fixture) -> None:
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS)

        async def steps() -> tuple[str, str, tuple[str | None, str, bool], str]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, java_script_enabled=False)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            await page.fill("#body-shop", "Quick delivery and a friendly note in the parcel.")
            await submit(page)
            error = await page.inner_text("#rating-error-shop")
            kept = await page.input_value("#body-shop")
            await page.click("label[for=rating-shop-5]")
            # Switching language keeps what was typed and chosen, without JavaScript too.
            await page.click("nav.langs [lang=de]")
            switched = (await page.get_attribute("html", "lang"), await page.input_value("#body-shop"),
                        await page.is_checked("#rating-shop-5"))
            # Enter in a field sends the review: the language buttons before the form are not its default.
            async with page.expect_navigation():
                await page.press("#title-shop", "Enter")
            heading = await page.inner_text("h1")
            await context.close()
            return error, kept, switched, heading

        error, kept, switched, heading = await browser.run(steps)
    assert error == "Choose a rating from 1 to 5 stars."
    assert kept == "Quick delivery and a friendly note in the parcel."
    assert switched == ("de", "Quick delivery and a friendly note in the parcel.", True)
    assert heading == "Vielen Dank für Ihre Bewertung"
    row = await services.pool.fetchrow("SELECT product_id, product_name, rating FROM reviews")
    assert (row["product_id"], row["product_name"], row["rating"]) == (None, None, 5)  # the shop review


async def test_star_link_from_a_real_invitation_email(browser: BrowserThread, services: Services, merchant: Fixture,
                                                      smtp_server: tuple[Controller, RecordingHandler]) -> None:
    controller, smtp = smtp_server
    async with live_server(services) as live:
        services.settings = replace(services.settings, smtp_url=smtp_url(controller), base_url=live)  # type: ignore[misc]
        await invite(services, live, merchant[1], locale="fr")
        async with make_worker(services) as worker:
            await worker.drain()
        assert len(smtp.messages) == 1
        html_part = next(p for p in smtp.messages[0].walk() if p.get_content_type() == "text/html")
        page_html = html_part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        links = [html.unescape(u) for u in re.findall(r'href="([^"]+rating=\d[^"]*)"', page_html)]
        star = next(u for u in links if "p=1&" in u and u.endswith("rating=4"))  # the 2nd product, 4 stars
        assert star.startswith(live + "/r/")

        async def steps() -> tuple[list[bool], str, str]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(star)
            checked = [await page.is_checked(f"#rating-1-{n}") for n in range(1, 6)]
            word = await page.inner_text("#item-1 .word")
            lang = await page.get_attribute("html", "lang") or ""
            await context.close()
            return checked, word, lang

        checked, word, lang = await browser.run(steps)
    assert checked == [False, False, False, True, False]
    assert (lang, word) == ("fr", "Très bien")
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0  # a GET stores nothing


async def test_edit_then_withdraw_a_review(browser: BrowserThread, services: Services, merchant: Fixture) -> None:
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS)

        async def write() -> None:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            await page.click("label[for=rating-0-2]")
            await page.fill("#body-0", "The soles came apart after a week.")
            await submit(page)
            await context.close()

        await browser.run(write)
        await services.pool.execute("UPDATE reviews SET state = 'published', published_at = submitted_at")
        services.clock.advance(days=2)  # type: ignore[attr-defined]

        async def edit_and_withdraw() -> dict[str, Any]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            seen: dict[str, Any] = {"heading": await page.inner_text("h1"),
                                    "status": await page.inner_text("#item-0 .status"),
                                    "body": await page.input_value("#body-0"),
                                    "checked": await page.is_checked("#rating-0-2")}
            await page.click("label[for=rating-0-4]")
            await page.fill("#body-0", "The shop replaced them at once; the new pair is fine.")
            await submit(page)
            seen["saved"] = await page.inner_text("h1")
            await page.goto(url)
            seen["edited_status"] = await page.inner_text("#item-0 .status")
            await submit(page, "text=Withdraw my review of Trail running shoes")
            seen["confirm"] = await page.inner_text("h1")
            await submit(page, "text=Yes, withdraw it")
            seen["withdrawn"] = await page.inner_text("h1")
            await page.goto(url)
            seen["after"] = await page.inner_text("#item-0 .status")
            seen["after_body"] = await page.input_value("#body-0")
            await context.close()
            return seen

        seen = await browser.run(edit_and_withdraw)
    assert seen["heading"] == "Edit your review"
    assert seen["status"].startswith("Published on January 5, 2026")
    assert seen["body"] == "The soles came apart after a week." and seen["checked"]
    assert seen["saved"] == "Thank you for your review"
    assert "Edited on January 7, 2026" in seen["edited_status"]
    assert (seen["confirm"], seen["withdrawn"]) == ("Withdraw your review?", "Your review was withdrawn")
    assert seen["after"].startswith("You withdrew this review") and seen["after_body"] == ""
    review = await services.pool.fetchrow("SELECT * FROM reviews")
    assert (review["state"], review["rating"], review["edited_at"] is not None) == ("withdrawn", 4, True)
    assert [tuple(v) for v in await services.pool.fetch("SELECT rating, body FROM review_versions")] == [
        (2, "The soles came apart after a week.")]


async def test_no_serious_accessibility_violations_in_any_language(browser: BrowserThread, services: Services,
                                                                   merchant: Fixture) -> None:
    await brand(services, merchant[0].id)
    async with live_server(services) as live:
        # A link per language, so the languages run side by side in their own tabs.
        urls = {lang: await invite(services, live, merchant[1], order_id=f"A-{lang}") for lang in SUPPORTED_LOCALES}

        async def one_language(context: BrowserContext, lang: str) -> dict[str, list[dict[str, Any]]]:
            page = await context.new_page()
            url = urls[lang]
            found = {}
            await page.goto(f"{url}?lang={lang}")
            found["form"] = await axe_violations(page)
            await page.fill("#body-0", "Too short")
            await submit(page)  # no rating and a short text: the form comes back with its errors
            assert await page.locator("#rating-error-0, #body-error-0").count() == 2
            found["form with errors"] = await axe_violations(page)
            await page.click("label[for=rating-0-5]")
            await page.fill("#body-0", "I have worn these shoes every day since.")
            await submit(page)
            assert await page.locator("[data-sent]").count() == 1
            found["confirmation"] = await axe_violations(page)
            await page.goto(f"{url[:-4]}xxxx?lang={lang}")  # a tampered link
            found["bad link"] = await axe_violations(page)
            await page.close()
            return {f"{lang} {name}": v for name, v in found.items() if v}

        async def steps() -> dict[str, list[dict[str, Any]]]:
            traffic = Traffic(live)
            # axe is injected as an inline script, which the page's CSP rightly refuses.
            context = await new_context(browser.browser, traffic, bypass_csp=True)  # type: ignore[arg-type]
            results = await asyncio.gather(*(one_language(context, lang) for lang in SUPPORTED_LOCALES))
            await context.close()
            return {k: v for found in results for k, v in found.items()}

        found = await browser.run(steps)
    assert found == {}, describe(found)  # type: ignore[arg-type]


async def test_page_weight_and_origins(browser: BrowserThread, services: Services, merchant: Fixture) -> None:
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], products=PLAIN_PRODUCTS)

        async def steps() -> tuple[list[str], int, list[str]]:
            traffic = Traffic(live)
            context = await new_context(browser.browser, traffic, viewport=PHONE)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url, wait_until="networkidle")
            total = 0
            for request in traffic.requests:
                sizes = await request.sizes()
                total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            urls = [r.url for r in traffic.requests]
            await context.close()
            return urls, total, traffic.refused

        urls, total, refused = await browser.run(steps)
    assert refused == []
    assert all(u.startswith(live + "/") for u in urls), urls
    assert any(u.endswith("/static/review.js") for u in urls)  # the script is counted too
    assert 0 < total < 50_000, total


async def test_screenshots_at_phone_and_desktop_widths(browser: BrowserThread, services: Services,
                                                       merchant: Fixture) -> None:
    await brand(services, merchant[0].id)
    async with live_server(services) as live:
        url = await invite(services, live, merchant[1], locale="de")

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                traffic = Traffic(live)
                context = await new_context(browser.browser, traffic, viewport=viewport)  # type: ignore[arg-type]
                page = await context.new_page()
                await page.goto(url + "?p=0&rating=4", wait_until="networkidle")
                await page.screenshot(path=artifact(f"review-form-{name}.png"), full_page=True)
                seen[f"{name} overflow"] = await page.evaluate(
                    "document.documentElement.scrollWidth > window.innerWidth")
                seen[f"{name} logo"] = await page.evaluate(
                    "document.querySelector('.shop img').naturalWidth > 0")
                await page.fill("#body-1", "Zu dünn.")
                await submit(page)
                await page.screenshot(path=artifact(f"review-errors-{name}.png"), full_page=True)
                await page.fill("#body-0", "Leicht, griffig und nach dem Regenlauf schnell trocken.")
                await page.fill("#body-1", "")
                await submit(page)
                await page.screenshot(path=artifact(f"review-thanks-{name}.png"), full_page=True)
                seen[f"{name} refused"] = traffic.refused
                services.clock.advance(minutes=11)  # type: ignore[attr-defined]
                await context.close()
            return seen

        seen = await browser.run(steps)
    assert seen == {"phone overflow": False, "phone logo": True, "phone refused": [],
                    "desktop overflow": False, "desktop logo": True, "desktop refused": []}
