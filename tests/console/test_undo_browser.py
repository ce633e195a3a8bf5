"""The Undo button in a real Chromium: after a decision the message in place offers Undo (u, then
Enter), which puts the review back and drops what was waiting to leave; the button goes away by itself
when the grace period is over. axe at phone and desktop widths on the page that offers it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize

from reviews.moderation.decisions import RELEASE_JOB
from reviews.platform.services import Services
from reviews.worker import make_worker
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
from tests.console.test_console_browser import Fixture, Keys, moderator, set_password
from tests.helpers import add_review

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow


async def _axe(page: Page, name: str, found: dict[str, list[dict[str, Any]]]) -> None:
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
        violations = await axe_violations(page)
        if violations:
            found[f"{name} ({width})"] = violations


async def test_undo_from_the_message_in_place_and_the_button_leaves_with_the_grace(
        browser: BrowserThread, services: Services, merchant: Fixture) -> None:
    first = await add_review(services, merchant[0].id, 5, state="held", body="Copied praise, word for word.")
    second = await add_review(services, merchant[0].id, 4, state="held", body="Fine, if a little loud.")
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
            await page.goto(f"{live}/console/reviews/{first}")
            await page.select_option("#code", "bought")
            async with page.expect_navigation():
                await page.click("section.decide-bar button.danger")
            seen["said"] = await page.inner_text("p.done[role=status]")
            seen["offered"] = await page.inner_text("form.undo")
            await _axe(page, "the message with Undo", found)
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
