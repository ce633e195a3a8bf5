"""A campaign of nine in a real Chromium: one row of the queue, decided from it with the keyboard in
one decision (its page, the whole campaign, the confirmation listing the texts); select-all ticks every
row; the queue, the campaign's page and the confirmation pass axe at phone and desktop widths."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize

from reviews.platform.services import Services
from tests.browser_support import (
    DESKTOP,
    PHONE,
    BrowserThread,
    Traffic,
    axe_violations,
    browser,
    describe,
    live_server,
    new_context,
)
from tests.console.campaign_seed import seed_campaign
from tests.console.test_console_browser import Fixture, Keys, moderator, set_password

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow


async def _axe(page: Page, name: str, found: dict[str, list[dict[str, Any]]]) -> None:
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
        violations = await axe_violations(page)
        if violations:
            found[f"{name} ({width})"] = violations
    await page.set_viewport_size(ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"]))


async def test_a_campaign_of_nine_is_one_queue_row_and_one_decision(
        browser: BrowserThread, services: Services, merchant: Fixture) -> None:
    seeded = await seed_campaign(services, merchant[0])
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        _id, link = await moderator(services, "ines@example.org")

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            found: dict[str, list[dict[str, Any]]] = {}
            context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                        bypass_csp=True)
            page = await context.new_page()
            await set_password(page, link)
            await page.goto(f"{live}/console/queue")
            seen["rows"] = await page.locator("table[data-list] tbody tr").count()
            seen["first row"] = await page.inner_text("table[data-list] tbody tr >> nth=0")
            # Select-all, shown by the script, ticks every row's box; the bulk bar is above the list.
            await page.check("input[data-select-all]")
            seen["ticked"] = await page.locator("td.pick input:checked").count()
            await page.uncheck("input[data-select-all]")
            bar = await page.locator("fieldset.card").bounding_box()
            table = await page.locator("table[data-list]").bounding_box()
            seen["bar above"] = bar is not None and table is not None and bar["y"] < table["y"]
            await _axe(page, "queue", found)

            keys = Keys(page)
            await keys.press("j")
            await keys.press("Enter", navigates=True)
            seen["campaign page"] = page.url.removeprefix(live)
            seen["texts"] = await page.locator("article.side").count()
            await _axe(page, "campaign page", found)
            await keys.press("c")
            await keys.press("Enter", navigates=True)
            seen["confirm texts"] = await page.locator("ol.confirm-texts > li").count()
            seen["confirm button"] = await page.inner_text("button.danger")
            seen["confirm colour"] = await page.evaluate(
                "getComputedStyle(document.querySelector('button.danger')).backgroundColor")
            seen["plain colour"] = await page.evaluate(
                "getComputedStyle(document.querySelector('header button, button:not(.danger)')).backgroundColor")
            await _axe(page, "confirmation", found)
            await keys.press("Enter", navigates=True)
            seen["done"] = await page.inner_text("main [role=status]")
            seen["keys"] = keys.pressed
            await page.goto(f"{live}/console/queue")
            seen["rows after"] = await page.locator("table[data-list] tbody tr").count()
            await context.close()
            seen["axe"] = found
            return seen

        seen = await browser.run(steps)
    print(f"\nkeystrokes to decide a campaign of nine from the queue: {len(seen['keys'])} ({' '.join(seen['keys'])})")
    assert seen["rows"] == 2, seen  # nine campaign members and one review held alone
    assert "Campaign of 9 reviews" in seen["first row"] and "Strongest link" in seen["first row"]
    assert seen["ticked"] == 2 and seen["bar above"]
    assert seen["campaign page"] == f"/console/campaigns/{seeded.campaign[0]}" and seen["texts"] == 9
    assert seen["confirm texts"] == 9 and seen["confirm button"] == "Reject 9 reviews"
    assert seen["confirm colour"] != seen["plain colour"]
    assert seen["done"].startswith("9 reviews decided.")
    assert seen["keys"] == ["j", "Enter", "c", "Enter", "Enter"]
    assert seen["rows after"] == 1
    assert not seen["axe"], "\n".join(f"{k}: {describe(v)}" for k, v in seen["axe"].items())
    states = await services.pool.fetch("SELECT state, reject_reason FROM reviews WHERE id = ANY($1)", seeded.campaign)
    assert [tuple(r) for r in states] == [("rejected", "bought")] * 9
