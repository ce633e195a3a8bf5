"""Issue 24 in a real Chromium: the decision bar stays in view over a long review file, the decision
is said in place on the next page, a shop's owner lands in the inbox of unanswered reviews with its
figures and no moderator link, replies inline, and those pages pass axe at phone and desktop widths."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize

from reviews.accounts import manage
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
from tests.console.test_console_browser import Fixture, moderator, seed, set_password

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow


async def _axe(page: Page, name: str, found: dict[str, list[dict[str, Any]]]) -> None:
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
        violations = await axe_violations(page)
        if violations:
            found[f"{name} ({width})"] = violations


async def test_the_decision_bar_stays_in_view_and_shop_users_see_no_desk(
        browser: BrowserThread, services: Services, merchant: Fixture, tmp_path: Path) -> None:
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        shop = await seed(services, merchant, live, tmp_path)
        _id, link = await moderator(services, "ines@example.org")
        _owner, owner_link = await manage.invite(services, "olga@example.com", "owner", merchant[0].slug, actor="test")

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            found: dict[str, list[dict[str, Any]]] = {}
            context = await new_context(browser.browser, Traffic(live), viewport=PHONE,  # type: ignore[arg-type]
                                        bypass_csp=True)
            page = await context.new_page()
            await set_password(page, link)
            await page.goto(f"{live}/console/reviews/{shop.campaign[0]}?tab=held")
            bar = page.locator("section.decide-bar")
            box = await bar.bounding_box()
            seen["bar at first"] = box is not None and box["y"] + box["height"] <= PHONE["height"]
            seen["page height"] = await page.evaluate("document.documentElement.scrollHeight")
            await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            box = await bar.bounding_box()
            seen["bar at the bottom"] = box is not None and 0 <= box["y"] + 1 <= PHONE["height"] - box["height"] + 1
            await _axe(page, "review file", found)
            await page.set_viewport_size(ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"]))
            await page.select_option("#code", "bought")
            async with page.expect_navigation():
                await page.click("section.decide-bar button.danger")
            seen["said"] = await page.inner_text("p.done[role=status]")
            await _axe(page, "after a decision", found)
            await context.close()

            owner = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                      bypass_csp=True)
            page = await owner.new_page()
            await set_password(page, owner_link)
            seen["owner lands on"] = page.url.removeprefix(live)
            seen["figures"] = await page.locator(".kpis dt").all_inner_texts()
            seen["cards"] = await page.locator("ol.inbox > li").count()
            await page.locator(".inline-reply textarea").first.fill("Thank you for the kind words.")
            async with page.expect_navigation():
                await page.locator(".inline-reply button").first.click()
            seen["after reply"] = await page.inner_text("main [role=status]")
            seen["cards after"] = await page.locator("ol.inbox > li").count()
            await _axe(page, "owner's inbox after a reply", found)
            pages = {"inbox": f"/console/m/{merchant[0].slug}", "account": "/console/account",
                     "invitations": f"/console/m/{merchant[0].slug}/invitations"}
            seen["desk links"] = {}
            for name, path in pages.items():
                await page.goto(live + path)
                seen["desk links"][name] = await page.locator("a[href^='/console/queue'], a[href^='/console/reviews/']"
                                                              ).count()
                await _axe(page, f"owner's {name}", found)
            await owner.close()
            seen["axe"] = found
            return seen

        seen = await browser.run(steps)
        assert seen["bar at first"] and seen["bar at the bottom"], seen
        assert seen["page height"] > 2 * PHONE["height"]
        assert seen["said"].startswith(f"#{shop.campaign[0]} rejected as Copied or bought review;")
        assert seen["owner lands on"] == f"/console/m/{merchant[0].slug}"
        assert seen["figures"] == ["Average rating, last 30 days", "Average rating, all time", "Waiting for a reply",
                                   "Reply rate", "Median time to reply"]
        assert seen["cards"] > 0 and seen["cards after"] == seen["cards"] - 1  # answered: off the work list
        assert seen["after reply"] == "Your reply is saved and shown under the review."
        assert seen["desk links"] == {"inbox": 0, "account": 0, "invitations": 0}
        assert not seen["axe"], "\n".join(f"{k}: {describe(v)}" for k, v in seen["axe"].items())
