"""The Insights page in a real Chromium: an owner signs in, finds Insights in the shop's menu, sees
the topic whose complaints rose first with its figures, asks for the weekly digest, opens the
topic's reviews (the mentions marked) and one review's page, then stops the digest from its
email's link; axe-core checks each page at 390 px and 1280 px, and nothing scrolls
sideways on a phone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize

from reviews.accounts import manage
from reviews.insights import digests
from reviews.merchants.model import Merchant
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
from tests.console.test_console_browser import set_password
from tests.insights.history import STRAP, build, topic_ids

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow


async def _check(page: Page, name: str, found: dict[str, Any]) -> None:
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
        violations = await axe_violations(page)
        if violations:
            found[f"{name} ({width})"] = violations
        if width == "phone":
            wide = await page.evaluate("document.documentElement.scrollWidth")
            if wide > PHONE["width"]:
                found[f"{name} scrolls sideways"] = wide


async def test_an_owner_finds_the_rising_topic_and_its_reviews(
        browser: BrowserThread, services: Services, merchant: tuple[Merchant, str]) -> None:
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        history = await build(services, merchant[0].id)
        strap = (await topic_ids(services, history.set_id))[STRAP]
        owner, link = await manage.invite(services, "olga@example.com", "owner", merchant[0].slug, actor="test")
        stop_link = digests.stop_link(services, owner.id, merchant[0].id)

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            found: dict[str, Any] = {}
            context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                        bypass_csp=True)
            page = await context.new_page()
            await set_password(page, link)
            await page.goto(f"{live}/console/m/{merchant[0].slug}/invitations")
            async with page.expect_navigation():
                await page.get_by_role("link", name="Insights", exact=True).click()
            seen["heading"] = await page.inner_text("h1")
            seen["first"] = await page.locator("ol.insights > li").first.get_attribute("id")
            seen["sentence"] = await page.locator("ol.insights > li p.trend").first.inner_text()
            seen["charts"] = await page.locator("ol.insights svg[role=img]").count()
            await _check(page, "insights", found)
            async with page.expect_navigation():
                await page.get_by_role("button", name="Email me a weekly digest").click()
            seen["digest"] = await page.inner_text("#digest [role=status]")
            await _check(page, "insights, digest asked for", found)
            async with page.expect_navigation():
                await page.locator("ol.insights > li h2 a").first.click()
            seen["marks"] = await page.locator("ol.mentions mark").count()
            await _check(page, "topic", found)
            async with page.expect_navigation():
                await page.locator("ol.mentions a").first.click()
            seen["review page"] = page.url.removeprefix(live)
            # The digest's stop link, opened from the email in a browser without the console's cookie.
            await context.clear_cookies()
            await page.goto(stop_link)
            await _check(page, "stop link", found)
            async with page.expect_navigation():
                await page.get_by_role("button", name="Stop the weekly digest").click()
            seen["stopped"] = await page.inner_text("main [role=status]")
            await _check(page, "stopped", found)
            await context.close()
            seen["axe"] = found
            return seen

        seen = await browser.run(steps)
        assert seen["heading"] == "What buyers mention"
        assert seen["first"] == f"topic-{strap}"
        assert seen["sentence"].startswith("Mentioned in 1-2★ reviews 3.3 times as often"), seen
        assert seen["charts"] == 2 and seen["marks"] == 19
        assert seen["digest"] == "You will get the weekly digest, from next Monday."
        assert seen["stopped"] == "You will get no more weekly digests."
        assert seen["review page"] == f"/console/m/{merchant[0].slug}/reviews/{history.strap[-1]}"
        assert not seen["axe"], "\n".join(f"{k}: {v if isinstance(v, int) else describe(v)}"
                                          for k, v in seen["axe"].items())
