"""Issue 24's merchant pages in a real Chromium: the copy buttons copy and say so (visibly and to a
screen reader), snippets wrap at phone width, the buyer's opening of a review link is counted by the
page's script through its CSP, an invitation is resent and the console's language chosen; the inbox
with its trend, the funnel with its rates, privacy, team, settings and account pages pass axe at
390 and 1280 px and do not scroll sideways."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, ViewportSize

from reviews.accounts import manage
from reviews.platform import tokens
from reviews.platform.services import Services
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
from tests.console.test_console_browser import Fixture, set_password
from tests.helpers import add_review, auth, order_event

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow


async def _sideways(page: Page) -> bool:
    """Whether the page scrolls sideways at phone width."""
    await page.set_viewport_size(ViewportSize(width=PHONE["width"], height=PHONE["height"]))
    return bool(await page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"))


async def test_copy_buttons_wrapped_snippets_counted_link_opens_and_axe(
        browser: BrowserThread, services: Services, merchant: Fixture) -> None:
    shop, key = merchant
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        async with httpx.AsyncClient(base_url=live) as http:
            r = await http.post("/api/v1/orders", headers=auth(key), json=order_event("B-1", email="ann@example.com"))
            assert r.status_code == 200
        link = live + "/r/" + services.signer.sign(tokens.REVIEW, {"i": await services.pool.fetchval(
            "SELECT max(id) FROM invitations")})
        await add_review(services, shop.id, 4)
        _owner, owner_link = await manage.invite(services, "olga@example.com", "owner", shop.slug, actor="test")
        await manage.invite(services, "vic@example.com", "viewer", shop.slug, actor="test")  # invited, not signed in
        base = f"/console/m/{shop.slug}"

        async def steps() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            found: dict[str, list[dict[str, Any]]] = {}
            buyer = await new_context(browser.browser, Traffic(live), viewport=PHONE)  # type: ignore[arg-type]
            page = await buyer.new_page()
            await page.goto(link)
            await page.wait_for_function("() => performance.getEntriesByType('resource')"
                                         ".some(e => e.name.endsWith('/opened'))")
            await page.reload()  # the same tab again: not counted twice
            await buyer.close()

            context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                        bypass_csp=True)
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live)
            page = await context.new_page()
            await set_password(page, owner_link)
            await page.goto(live + base + "/developers")
            await page.fill("#k-name", "ERP export")
            async with page.expect_navigation():
                await page.click("form[action$='/developers/keys'] button[type=submit]")
            seen["key"] = await page.input_value("#new-key-value")
            button = page.locator("button.copy[data-copy-target='new-key-value']")
            await button.click()
            await page.wait_for_function("() => document.getElementById('copy-status').textContent === 'Copied'")
            seen["button says"] = await button.inner_text()
            seen["clipboard"] = await page.evaluate("navigator.clipboard.readText()")
            await page.click("button.copy[data-copy-target='new-key-curl']")
            seen["snippet copied"] = await page.evaluate("navigator.clipboard.readText()")
            seen["developers sideways"] = await _sideways(page)
            await axe_at_both_widths(page, "developers with a new key", found)
            for name, path in (("inbox", base), ("invitations", base + "/invitations"), ("privacy", base + "/privacy"),
                               ("team", base + "/team"), ("settings", base + "/settings"),
                               ("account", "/console/account")):
                await page.goto(live + path)
                seen[f"{name} sideways"] = await _sideways(page)
                await axe_at_both_widths(page, name, found)
            seen["trend"] = await page.goto(live + base) and await page.locator("svg#rating-trend circle").count()
            await page.goto(live + base + "/team")
            async with page.expect_navigation():
                await page.click("form[action$='/resend'] button")
            seen["resent"] = await page.inner_text("main [role=status]")
            await page.goto(live + "/console/account")
            await page.select_option("#language-choice", "fr")
            async with page.expect_navigation():
                await page.click("form[action='/console/settings/language'] button")
            seen["language"] = await page.get_attribute("html", "lang")
            await axe_at_both_widths(page, "account in French", found)
            await context.close()
            seen["axe"] = found
            return seen

        seen = await browser.run(steps)
        assert seen["key"].startswith("atk_") and seen["clipboard"] == seen["key"]
        assert seen["button says"] == "Copied"
        assert seen["snippet copied"].startswith("curl ") and seen["key"] in seen["snippet copied"]
        assert seen["trend"] == 1
        assert seen["resent"].startswith("A new invitation is on its way") and seen["language"] == "fr"
        assert not [k for k in seen if k.endswith("sideways") and seen[k]], seen
        assert await services.pool.fetchval("SELECT link_opens FROM invitations") == 1
        assert not seen["axe"], "\n".join(f"{k}: {describe(v)}" for k, v in seen["axe"].items())
