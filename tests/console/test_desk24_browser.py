"""Issue 24 in a real Chromium: the decision bar stays in view over a long review file, the decision
is said in place on the next page with an Undo that leaves with its grace period, a campaign of nine
is one queue row and one decision, a shop's owner lands in the inbox of unanswered reviews with its
figures and no moderator link, replies inline, and those pages pass axe at phone and desktop widths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, ViewportSize

from reviews.accounts import manage
from reviews.moderation.decisions import RELEASE_JOB
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.browser_support import (
    DESKTOP,
    PHONE,
    BrowserThread,
    Traffic,
    axe_at_both_widths,
    browser,
    describe,
    live_server,
    new_context,
)
from tests.console.campaign_seed import seed_campaign
from tests.console.test_console_browser import Fixture, Keys, moderator, seed, set_password
from tests.helpers import add_review

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow


@asynccontextmanager
async def _desk(services: Services) -> AsyncIterator[tuple[str, str]]:
    """Attest on a real port, and a moderator's invitation link: the address and the link."""
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        _id, link = await moderator(services, "ines@example.org")
        yield live, link


async def _signed_in(browser: BrowserThread, live: str, link: str) -> tuple[BrowserContext, Page]:
    """A moderator's desktop browser, signed in from their invitation link."""
    context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                bypass_csp=True)
    page = await context.new_page()
    await set_password(page, link)
    return context, page


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
            await axe_at_both_widths(page, "review file", found)
            await page.set_viewport_size(ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"]))
            await page.select_option("#code", "bought")
            async with page.expect_navigation():
                await page.click("section.decide-bar button.danger")
            seen["said"] = await page.inner_text("p.done[role=status]")
            await axe_at_both_widths(page, "after a decision", found)
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
            widget = await page.request.get(f"{live}/widgets/v1/{merchant[0].slug}/reviews.json?per_page=50")
            seen["reply in the widget"] = [r["reply"]["body"] for r in (await widget.json())["reviews"] if r["reply"]]
            await axe_at_both_widths(page, "owner's inbox after a reply", found)
            pages = {"inbox": f"/console/m/{merchant[0].slug}", "account": "/console/account",
                     "invitations": f"/console/m/{merchant[0].slug}/invitations"}
            seen["desk links"] = {}
            for name, path in pages.items():
                await page.goto(live + path)
                seen["desk links"][name] = await page.locator("a[href^='/console/queue'], a[href^='/console/reviews/']"
                                                              ).count()
                await axe_at_both_widths(page, f"owner's {name}", found)
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
        assert "Thank you for the kind words." in seen["reply in the widget"]  # shoppers read it at once
        assert seen["desk links"] == {"inbox": 0, "account": 0, "invitations": 0}
        assert not seen["axe"], "\n".join(f"{k}: {describe(v)}" for k, v in seen["axe"].items())


async def test_undo_from_the_message_in_place_and_the_button_leaves_with_the_grace(
        browser: BrowserThread, services: Services, merchant: Fixture) -> None:
    first = await add_review(services, merchant[0].id, 5, state="held", body="Copied praise, word for word.")
    second = await add_review(services, merchant[0].id, 4, state="held", body="Fine, if a little loud.")
    async with _desk(services) as (live, link):

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            found: dict[str, list[dict[str, Any]]] = {}
            context, page = await _signed_in(browser, live, link)
            await page.goto(f"{live}/console/reviews/{first}")
            await page.select_option("#code", "bought")
            async with page.expect_navigation():
                await page.click("section.decide-bar button.danger")
            seen["said"] = await page.inner_text("p.done[role=status]")
            seen["offered"] = await page.inner_text("form.undo")
            await axe_at_both_widths(page, "the message with Undo", found)
            keys = Keys(page)
            await keys.press("u")
            await keys.press("Enter", navigates=True)
            seen["undo keys"] = keys.pressed
            seen["after undo"] = await page.inner_text("p.done[role=status]")
            seen["undo left"] = await page.locator("form.undo").count()
            seen["url after undo"] = page.url.removeprefix(live)

            # The grace runs out while the page is open: the button goes by itself.
            await page.goto(f"{live}/console/reviews/{second}")
            async with page.expect_navigation():
                await page.click("button[data-key=p]")
            services.clock.advance(timedelta(seconds=services.settings.undo_seconds - 1))  # type: ignore[attr-defined]
            await page.reload()
            seen["last second"] = await page.inner_text("form.undo")
            await page.wait_for_selector("form.undo", state="detached", timeout=10_000)
            await context.close()
            seen["axe"] = found
            return seen

        seen = await browser.run(steps)
        services.clock.advance(timedelta(seconds=2))  # type: ignore[attr-defined]
        async with make_worker(services) as worker:
            await worker.drain()
    assert seen["said"].startswith(f"#{first} rejected as Copied or bought review;"), seen
    assert "Undo (u)" in seen["offered"] and "Nothing leaves Attest for 30 more seconds." in seen["offered"]
    assert seen["undo keys"] == ["u", "Enter"]
    assert seen["after undo"].startswith(f"Undone: #{first} is back as it was, and nobody was told.")
    assert seen["undo left"] == 0 and seen["url after undo"] == f"/console/reviews/{first}?undone={first}"
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", first) == "held"
    assert "Nothing leaves Attest for 1 more second." in seen["last second"]
    assert not seen["axe"], "\n".join(f"{k}: {describe(v)}" for k, v in seen["axe"].items())
    # The undone decision left nothing to release; the second one was released once its grace ran out.
    released = await services.pool.fetch("SELECT review_id, released_at FROM moderation_decisions ORDER BY id")
    assert [(r["review_id"], r["released_at"] is not None) for r in released] == [(second, True)]
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'queued'",
                                        RELEASE_JOB) == 0


async def test_a_campaign_of_nine_is_one_queue_row_and_one_decision(
        browser: BrowserThread, services: Services, merchant: Fixture) -> None:
    seeded = await seed_campaign(services, merchant[0])
    async with _desk(services) as (live, link):

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            found: dict[str, list[dict[str, Any]]] = {}
            context, page = await _signed_in(browser, live, link)
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
            await axe_at_both_widths(page, "queue", found)

            keys = Keys(page)
            await keys.press("j")
            await keys.press("Enter", navigates=True)
            seen["campaign page"] = page.url.removeprefix(live)
            seen["texts"] = await page.locator("article.side").count()
            await axe_at_both_widths(page, "campaign page", found)
            await keys.press("c")
            await keys.press("Enter", navigates=True)
            seen["confirm texts"] = await page.locator("ol.confirm-texts > li").count()
            seen["confirm button"] = await page.inner_text("button.danger")
            seen["confirm colour"] = await page.evaluate(
                "getComputedStyle(document.querySelector('button.danger')).backgroundColor")
            seen["plain colour"] = await page.evaluate(
                "getComputedStyle(document.querySelector('header button, button:not(.danger)')).backgroundColor")
            await axe_at_both_widths(page, "confirmation", found)
            await keys.press("Enter", navigates=True)
            seen["done"] = await page.inner_text("main [role=status]")
            seen["keys"] = keys.pressed
            await axe_at_both_widths(page, "decided, with one Undo for all", found)
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
    assert seen["done"].startswith("9 reviews decided.") and "Undo 9 decisions (u)" in seen["done"]
    assert seen["keys"] == ["j", "Enter", "c", "Enter", "Enter"]
    assert seen["rows after"] == 1
    assert not seen["axe"], "\n".join(f"{k}: {describe(v)}" for k, v in seen["axe"].items())
    states = await services.pool.fetch("SELECT state, reject_reason FROM reviews WHERE id = ANY($1)", seeded.campaign)
    assert [tuple(r) for r in states] == [("rejected", "bought")] * 9
