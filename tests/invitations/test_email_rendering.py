"""The emails as a phone shows them: each language's invitation (and a reminder) rendered by the worker's
own `build_message`, opened in headless Chromium at 360px, screenshotted into test-artifacts/emails/."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright import async_api as playwright_api

from reviews.invitations.sending import build_message
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES
from tests.helpers import ingest

# Real Chromium: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("ATTEST_CHROMIUM") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH = 360
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "emails"
# What the shop's images look like when a mail client loads them: a grey box of the right kind.
PLACEHOLDER = (b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160">'
               b'<rect width="240" height="160" fill="#c9d1d9"/></svg>')
PRODUCTS = [
    {"id": "SKU-1", "name": "Ultraleicht-Trailrunning-Schuhe-Modell-Gebirgsbach-2026-Herren-Größe-44",
     "image_url": "https://shop.example/i/1.jpg"},
    {"id": "SKU-2", "name": "Merino socks, three pairs"},
]


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = await browser.new_context(viewport={"width": WIDTH, "height": 800})

        async def route(r: Any) -> None:
            # Images from the shop get a placeholder; nothing else may load (an email has no scripts).
            if r.request.resource_type == "image":
                await r.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER)
            else:
                await r.abort()

        await context.route("**/*", route)
        try:
            yield await context.new_page()
        finally:
            await browser.close()


async def shop(svc: Services) -> Merchant:
    async with svc.pool.acquire() as conn:
        merchant, _ = await merchants.create(
            conn, name="Ceramiche e Tessuti Artigianali Rossi & Figli", slug="rossi", locale="it",
            settings={"invite_delay_days": 0, "invite_cap_days": 0, "reply_to": "ciao@rossi.example",
                      "logo_url": "https://rossi.example/logo.png", "accent_color": "#f5c518"})
    return merchant


async def rendered(svc: Services, merchant: Merchant, order_id: str, locale: str, kind: str) -> EmailMessage:
    await ingest(svc, merchant, order_id, locale=locale, name="Maria-Magdalena Wiśniewska-Kowalczyk",
                 email=f"{order_id.lower()}@example.com", products=PRODUCTS)
    async with svc.pool.acquire() as conn:
        order = await conn.fetchrow("SELECT * FROM orders WHERE external_id = $1", order_id)
        invitation = await conn.fetchrow("SELECT * FROM invitations WHERE order_id = $1", order["id"])
        return await build_message(svc, conn, merchant, invitation, order, kind)


async def check_layout(page: Any, html: str, name: str) -> None:
    await page.set_content(html, wait_until="load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= WIDTH, f"{name}: the email is {width}px wide on a {WIDTH}px screen"
    images = await page.evaluate("""[...document.images].map(i => ({
        src: i.getAttribute('src'), alt: i.getAttribute('alt'), width: i.getBoundingClientRect().right}))""")
    assert images, name
    for image in images:
        # Every image says what it is; product photos say "" on purpose (decorative: the name is beside them).
        assert image["alt"] is not None, f"{name}: {image['src']} has no alt"
        assert image["width"] <= WIDTH, f"{name}: {image['src']} overflows"
    logo = next(i for i in images if "logo" in i["src"])
    assert logo["alt"], f"{name}: the logo needs a text alternative"


async def test_every_language_fits_a_phone(services: Services, page: Any) -> None:
    merchant = await shop(services)
    for n, locale in enumerate(SUPPORTED_LOCALES):
        msg = await rendered(services, merchant, f"L-{n}", locale, "invitation")
        html_part = msg.get_body(("html",))
        assert html_part is not None
        await check_layout(page, html_part.get_content(), f"invitation-{locale}")


async def test_a_reminder_fits_a_phone(services: Services, page: Any) -> None:
    merchant = await shop(services)
    msg = await rendered(services, merchant, "R-1", "de", "reminder")
    assert str(msg["Message-ID"]).startswith("<reminder-")
    html_part = msg.get_body(("html",))
    assert html_part is not None
    await check_layout(page, html_part.get_content(), "reminder-de")
