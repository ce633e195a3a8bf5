"""The moderators' console in a real Chromium against the real app under uvicorn: signing in,
the queue and a campaign's evidence, deciding a review and a whole campaign with the keyboard only
(and how many keys that takes), the authors' notices, an appeal decided by a second moderator,
axe-core on every console page at phone and desktop widths, and the screenshots in docs/."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, ViewportSize

from reviews.accounts import manage
from reviews.collection.importing import import_file
from reviews.merchants.model import Merchant
from reviews.moderation.decisions import decide
from reviews.platform import tokens
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.browser_support import (
    DESKTOP,
    PHONE,
    ROOT,
    BrowserThread,
    Traffic,
    artifact,
    axe_violations,
    browser,
    describe,
    live_server,
    new_context,
    tab_to,
)
from tests.helpers import FormParser, auth, order_event

__all__ = ["browser"]  # the fixture, used by name

# Real Chromium: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

Fixture = tuple[Merchant, str]
PASSWORD = "correct horse battery staple"
DOCS = ROOT / "docs"
DRILL = [{"id": "DRILL-1", "name": "Cordless drill"}]
# The shop's history, imported: months of ordinary reviews, so that six five-star reviews in two
# hours are a burst against its own pace.
HISTORY = [
    (4, "Good value for a home workshop. The charger is slow, about two hours, but the battery holds well."),
    (3, "Does the job for shelves and picture frames. Too heavy for overhead work in my opinion."),
    (5, "Bought it for my daughter's first flat; she put up curtain rails alone the same evening."),
    (2, "The clutch slipped on the first long screw into a pine joist. Returned for an exchange."),
    (4, "Replacement unit works fine. Quieter than I expected and the grip is comfortable."),
    (1, "Arrived with a cracked housing and the box had clearly been opened before."),
    (4, "Two speeds are enough for everything I do in the garage. Bits not included, sadly."),
    (3, "Battery indicator is hard to read in daylight, otherwise a decent tool for the price."),
    (5, "Used it daily on a kitchen refit for a month. Still going strong, no complaints from the fitter."),
    (4, "Light enough to hold with one hand on a ladder, which matters more to me than raw power."),
    (2, "Stopped charging after eight months. Customer service replaced the battery without fuss though."),
    (3, "Fine for wood and plasterboard; do not expect it to get through reinforced concrete."),
    (4, "The belt clip is handy and the reverse switch falls right under the thumb."),
    (5, "Hung a heavy mirror on a brick wall with the hammer mode, clean hole, no dust everywhere."),
    (4, "Delivery took a week, the drill itself is solid and the case keeps the bits sorted."),
    (3, "Chuck wobbles a little at full speed. Acceptable for rough jobs around the house."),
]
# Six invited buyers, 25 minutes apart: three honest reviews (held by the burst only) and three
# copies of one text by distinct buyers (a campaign, near duplicates, and in the burst too).
AUTHORS = [
    ("Camille Rousseau", "Drilled twenty holes in oak beams for the pergola and the battery still showed two bars. "
                         "Call me on 0612 345 678 if you want to borrow it, neighbours."),
    ("Jonas Weber", "I was sceptical at first but this cordless drill changed my weekend projects completely. "
                    "The battery lasts for hours, the torque settings are precise and the case is sturdy."),
    ("Marta Nowak", "The keyless chuck grips masonry bits firmly, and the side handle makes concrete work far less "
                    "tiring on my wrists than the corded one I had."),
    ("Luca Bianchi", "Honestly I was sceptical at first but this cordless drill changed my weekend projects "
                     "completely. The battery lasts for hours, the torque settings are precise and the carry case "
                     "is sturdy."),
    ("Ana Popescu", "Assembled a whole wardrobe with it in one afternoon; the little LED under the chuck helps a "
                    "lot in dark corners of the bedroom."),
    ("Lea Martin", "I was sceptical at first, but this cordless drill changed my weekend projects completely! The "
                   "battery lasts for hours and the torque settings are precise. Sturdy case too."),
]
APPEAL = "I really own this drill; the number was my mistake and I would like to remove it."
NOT_PUBLISHED = "Your review for Demo Shop was not published"


@dataclass(frozen=True)
class Shop:
    """The seeded shop: each author's review id and review link (a path), by first name."""

    reviews: dict[str, int]
    links: dict[str, str]

    @property
    def single(self) -> int:
        return self.reviews["camille"]  # held by the burst alone, first in the Held tab

    @property
    def campaign(self) -> list[int]:
        return [self.reviews[n] for n in ("jonas", "luca", "lea")]


def email_of(name: str) -> str:
    return f"{name.split()[0].lower()}@example.com"


async def seed(services: Services, merchant: Fixture, live: str, tmp_path: Path) -> Shop:
    """The history imported, the six invited reviews sent through their forms, then scanned."""
    rows = [{"id": f"h-{i}", "merchant": merchant[0].slug, "product_id": "DRILL-1", "product_name": "Cordless drill",
             "order_id": f"H-{i}", "lang": "en", "rating": rating, "title": "", "body": body,
             "author_name": f"Earlier Buyer{i}", "author_email": f"earlier{i}@example.com",
             "created_at": f"2025-{(i % 10) + 2:02d}-{(i % 27) + 1:02d}T10:00:00Z"}
            for i, (rating, body) in enumerate(HISTORY)]
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now())
    assert not report.errors, report.errors
    ids, links = {}, {}
    async with httpx.AsyncClient(base_url=live) as http:
        for n, (name, body) in enumerate(AUTHORS):
            r = await http.post("/api/v1/orders", json=order_event(f"A-{2001 + n}", email=email_of(name), name=name,
                                                                   products=DRILL), headers=auth(merchant[1]))
            assert r.status_code == 200, r.text
            invitation = await services.pool.fetchval("SELECT max(id) FROM invitations")
            link = "/r/" + services.signer.sign(tokens.REVIEW, {"i": invitation})
            form = FormParser()
            form.feed((await http.get(link)).text)
            assert form.action is not None
            r = await http.post(form.action, data={**form.fields, "rating_0": "5", "body_0": body})
            assert r.status_code == 200, r.text
            key = name.split()[0].lower()
            ids[key] = int(await services.pool.fetchval("SELECT max(id) FROM reviews"))
            links[key] = link
            services.clock.advance(minutes=25)  # type: ignore[attr-defined]
    async with make_worker(services) as worker:
        await worker.drain()
    shop = Shop(ids, links)
    flags = {(r["review_id"], r["kind"]) for r in await services.pool.fetch("SELECT review_id, kind FROM flags")}
    assert {k for rid, k in flags if rid == shop.single} == {"burst"}
    assert all((rid, "campaign") in flags for rid in shop.campaign)
    held = await services.pool.fetchval("SELECT count(*) FROM reviews WHERE state = 'held'")
    assert held == len(AUTHORS)
    return shop


async def moderator(services: Services, address: str) -> tuple[int, str]:
    """A moderator of every merchant: the user's id and the one-time sign-in link."""
    user, link = await manage.invite(services, address, "moderator", None, actor="test", all_merchants=True)
    return user.id, link


def outbox(services: Services) -> list[EmailMessage]:
    found = []
    for path in sorted(services.settings.outbox_dir.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        found.append(msg)
    return found


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return " ".join(part.get_content().split())


class Keys:
    """The keyboard, keeping every key pressed, so a flow's keystrokes can be counted."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.pressed: list[str] = []

    async def press(self, key: str, *, navigates: bool = False) -> None:
        self.pressed.append(key)
        if navigates:
            async with self.page.expect_navigation():
                await self.page.keyboard.press(key)
        else:
            await self.page.keyboard.press(key)


async def focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : ''"))


async def set_password(page: Page, link: str) -> str:
    """The invitation's link page, with the keyboard: choose a password, Enter; the page landed on."""
    await page.goto(link)
    await tab_to(page, "#password")
    await page.keyboard.type(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    return await page.inner_text("h1")


async def test_keyboard_only_moderation_notices_and_an_appeal_decided_by_another_moderator(
        browser: BrowserThread, services: Services, merchant: Fixture, tmp_path: Path) -> None:
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        shop = await seed(services, merchant, live, tmp_path)
        ines_id, ines_link = await moderator(services, "ines@example.org")

        async def moderate() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP)  # type: ignore[arg-type]
            page = await context.new_page()
            keys = page.keyboard
            seen["after link"] = await set_password(page, ines_link)
            # Sign out, then in again with the password just chosen, at /console/sign-in.
            await tab_to(page, "header form[action='/console/sign-out'] button")
            async with page.expect_navigation():
                await keys.press("Enter")
            seen["signed out at"] = page.url.removeprefix(live)
            await tab_to(page, "#email")
            await keys.type("ines@example.org")
            await keys.press("Tab")
            seen["tab from email"] = await page.evaluate("document.activeElement.id")
            await keys.type(PASSWORD)
            async with page.expect_navigation():
                await keys.press("Enter")
            seen["home"] = await page.inner_text("h1")
            await tab_to(page, "header nav a[href='/console/queue']")
            async with page.expect_navigation():
                await keys.press("Enter")
            seen["queue"] = await page.inner_text("h1")
            seen["rows"] = await page.locator("table[data-list] tbody tr").count()

            # A campaign's evidence in a review's file: the related reviews side by side, shared
            # passages marked, every member.
            await page.goto(f"{live}/console/reviews/{shop.campaign[0]}")
            campaign = page.locator("section", has=page.locator("h2", has_text="Flag: campaign"))
            seen["campaign text"] = await campaign.inner_text()
            seen["marks"] = await campaign.locator(".pair .side mark").count()
            seen["sides"] = await campaign.locator(".pair .side").count()
            seen["members"] = await campaign.locator("ul a[href^='/console/reviews/']").all_inner_texts()

            # The whole campaign, from the queue, where its score puts it first: j, Enter opens its page
            # (one row for all three), c to "Reject all 3" in its decision bar, Enter; the
            # confirmation's Reject button has the focus: Enter.
            await tab_to(page, "nav a[href^='/console/queue']")
            async with page.expect_navigation():
                await keys.press("Enter")
            bulk = Keys(page)
            await bulk.press("j")
            await bulk.press("Enter", navigates=True)
            seen["campaign opened"] = await page.inner_text("h1")
            await bulk.press("c")
            seen["on the bulk button"] = await focused(page)
            await bulk.press("Enter", navigates=True)
            seen["confirm"] = await page.inner_text("main")
            seen["confirm focus"] = await page.evaluate("document.activeElement.textContent")
            await bulk.press("Enter", navigates=True)
            seen["done"] = await page.inner_text("main")
            seen["bulk keys"] = bulk.pressed

            # One held review, from the queue: j selects the first row, Enter opens it, r goes to the
            # reasons in the decision bar at the top, three arrows move to "Contains personal data",
            # Enter sends the rejection; the next review says what was done.
            await tab_to(page, "main a[href='/console/queue']")
            async with page.expect_navigation():
                await keys.press("Enter")
            single = Keys(page)
            await single.press("j")
            seen["j focuses"] = await focused(page)
            await single.press("Enter", navigates=True)
            seen["opened"] = await page.inner_text("h1")
            seen["burst chart"] = await page.locator("section svg.chart[role=img]").count()
            await single.press("r")
            for _ in range(3):
                await single.press("ArrowDown")
            seen["reason"] = await page.evaluate("document.activeElement.value")
            await single.press("Enter", navigates=True)
            seen["single keys"] = single.pressed
            seen["landed on"] = await page.inner_text("h1")  # the next held review
            seen["said"] = await page.inner_text("p.done[role=status]")
            await context.close()
            return seen

        seen = await browser.run(moderate)
        assert seen["after link"] == "Moderation"
        assert seen["signed out at"] == "/console/sign-in" and seen["tab from email"] == "password"
        assert seen["home"] == "Moderation" and seen["queue"] == "Queue: Held"
        assert seen["rows"] == len(AUTHORS) - 2  # the campaign's three reviews are one row
        assert f'href="/console/reviews/{shop.single}?' in seen["j focuses"]
        assert seen["opened"] == f"Review #{shop.single} · Demo Shop" and seen["burst chart"] == 1
        assert seen["reason"] == "personal_data"
        assert seen["landed on"] == f"Review #{shop.reviews['marta']} · Demo Shop"  # the campaign is decided
        assert seen["said"].startswith(f"#{shop.single} rejected as Contains personal data; the author will be")
        assert "3 distinct authors wrote texts linked to each other" in seen["campaign text"]
        assert seen["marks"] >= 2 and seen["sides"] >= 4
        assert seen["members"] == [f"#{rid}" for rid in shop.campaign[1:]]
        assert seen["campaign opened"] == "Campaign of 3 reviews"  # its own page, the texts side by side
        assert "Reject all 3…" in seen["on the bulk button"]
        assert "3 reviews at Demo Shop" in seen["confirm"] and seen["confirm focus"] == "Reject 3 reviews"
        assert "3 reviews decided." in seen["done"]
        assert seen["single keys"] == ["j", "Enter", "r", "ArrowDown", "ArrowDown", "ArrowDown", "Enter"]
        assert seen["bulk keys"] == ["j", "Enter", "c", "Enter", "Enter"]
        print(f"\nkeystrokes to decide one held review from the queue: {len(seen['single keys'])} "
              f"({' '.join(seen['single keys'])})")
        print(f"keystrokes to reject a whole campaign from the queue: {len(seen['bulk keys'])} "
              f"({' '.join(seen['bulk keys'])})")
        rows = await services.pool.fetch("SELECT id, state, reject_reason FROM reviews WHERE method = 'invited'")
        states = {r["id"]: (r["state"], r["reject_reason"]) for r in rows}
        assert states[shop.single] == ("rejected", "personal_data")
        assert all(states[rid] == ("rejected", "bought") for rid in shop.campaign)
        assert sorted(rid for rid, s in states.items() if s[0] == "held") == [shop.reviews["marta"],
                                                                               shop.reviews["ana"]]

        # The authors' notices: the reason, and the link to mend the review where the reason allows
        # (sent once the console's grace period for an undo is over).
        services.clock.advance(seconds=services.settings.undo_seconds)  # type: ignore[attr-defined]
        async with make_worker(services) as worker:
            await worker.drain()
        notices = {m["To"].addresses[0].addr_spec: m for m in outbox(services) if m["Subject"] == NOT_PUBLISHED}
        assert sorted(notices) == ["camille@example.com", "jonas@example.com", "lea@example.com", "luca@example.com"]
        camille = text_of(notices["camille@example.com"])
        assert "Reason: Contains personal data" in camille
        edit = re.search(re.escape(live) + r"(/r/\S+)", camille)
        assert edit is not None and edit.group(1).split(".")[0] == shop.links["camille"].split(".")[0]  # her invitation
        for address in ("jonas@example.com", "luca@example.com", "lea@example.com"):
            text = text_of(notices[address])
            assert "Reason: Copied or bought review" in text and "/r/" not in text

        omar_id, omar_link = await moderator(services, "omar@example.org")
        assert omar_id != ines_id

        async def appeal_then_decide() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            # The author, on a phone, from the link in the email.
            author = await new_context(browser.browser, Traffic(live), viewport=PHONE)  # type: ignore[arg-type]
            page = await author.new_page()
            await page.goto(live + edit.group(1))
            await tab_to(page, "textarea[name=appeal]")
            await page.keyboard.type(APPEAL)
            await page.keyboard.press("Tab")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            seen["appealed"] = await page.inner_text("h1")
            await author.close()

            # The first moderator may not decide the appeal.
            first = await new_context(browser.browser, Traffic(live), viewport=DESKTOP)  # type: ignore[arg-type]
            page = await first.new_page()
            await page.goto(f"{live}/console/sign-in")
            await page.fill("#email", "ines@example.org")
            await page.fill("#password", PASSWORD)
            async with page.expect_navigation():
                await page.click("form[action='/console/sign-in'] button")
            await page.goto(f"{live}/console/queue?tab=appealed")
            async with page.expect_navigation():
                await page.click(f"table a[href^='/console/reviews/{shop.single}?']")
            # She reads the rule before any click: no Publish or Reject, a sentence instead.
            seen["first refused"] = await page.inner_text(".appeal-rule")
            seen["first buttons"] = await page.locator("button[data-key=p], select[data-key=r]").count()
            await first.close()

            # A second moderator, in a browser of their own, sees it in the Appealed tab and publishes it.
            second = await new_context(browser.browser, Traffic(live), viewport=DESKTOP)  # type: ignore[arg-type]
            page = await second.new_page()
            seen["second signed in"] = await set_password(page, omar_link)
            await page.goto(f"{live}/console/queue")
            async with page.expect_navigation():
                await page.click(".tabs a[href^='/console/queue?tab=appealed']")
            seen["appealed tab"] = await page.inner_text("table[data-list] tbody")
            async with page.expect_navigation():
                await page.click(f"table a[href^='/console/reviews/{shop.single}?']")
            seen["appeal shown"] = await page.inner_text("#provenance + ul")
            async with page.expect_navigation():
                await page.click("button[data-key=p]")
            seen["after publish"] = page.url.removeprefix(live)
            await second.close()
            return seen

        seen = await browser.run(appeal_then_decide)
        assert seen["appealed"] == "Your appeal was received"
        assert seen["first refused"].startswith("You decided this review first (")
        assert "so you cannot decide its appeal: another moderator does." in seen["first refused"]
        assert seen["first buttons"] == 0
        assert seen["second signed in"] == "Moderation"
        assert f"#{shop.single}" in seen["appealed tab"] and APPEAL in seen["appealed tab"]
        assert f"The author's appeal: {APPEAL}" in seen["appeal shown"]
        assert seen["after publish"].startswith("/console/")
        assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", shop.single) == "published"
        assert await services.pool.fetchval("SELECT state FROM appeals") == "decided"
        decisions = await services.pool.fetch(
            "SELECT decision, user_id, on_appeal FROM moderation_decisions WHERE review_id = $1 ORDER BY id",
            shop.single)
        assert [tuple(d) for d in decisions] == [("reject", ines_id, False), ("publish", omar_id, True)]
        services.clock.advance(seconds=services.settings.undo_seconds)  # type: ignore[attr-defined]
        async with make_worker(services) as worker:
            await worker.drain()
        assert any(m["Subject"] == "Your review for Demo Shop is now published" and
                   m["To"].addresses[0].addr_spec == "camille@example.com" for m in outbox(services))


async def test_every_console_page_passes_axe_at_phone_and_desktop_widths_and_the_docs_screenshots(
        browser: BrowserThread, services: Services, merchant: Fixture, tmp_path: Path) -> None:
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        shop = await seed(services, merchant, live, tmp_path)
        ines_id, ines_link = await moderator(services, "ines@example.org")
        # Camille's review was rejected by this moderator: her appeal is then hers to refuse.
        async with services.pool.acquire() as conn:
            await decide(conn, shop.single, "reject", moderator="ines@example.org", now=services.clock.now(),
                         code="personal_data", user_id=ines_id)
        campaign_page = f"{live}/console/reviews/{shop.campaign[0]}"

        async def steps() -> tuple[dict[str, list[dict[str, Any]]], dict[str, bool], dict[str, set[str]]]:
            found: dict[str, list[dict[str, Any]]] = {}
            overflow: dict[str, bool] = {}
            roles: dict[str, set[str]] = {}
            shown: dict[str, bool] = {}

            async def check(page: Page, name: str) -> None:
                for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                    await page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
                    violations = await axe_violations(page)
                    if violations:
                        found[f"{name} ({width})"] = violations
                    if width == "phone":
                        overflow[name] = await page.evaluate(
                            "document.documentElement.scrollWidth > window.innerWidth")

            # axe is injected as an inline script, which the buyer page's CSP rightly refuses.
            author = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                       bypass_csp=True)
            page = await author.new_page()
            await page.goto(live + shop.links["camille"])
            await check(page, "the author's page with the appeal form")
            await page.fill("textarea[name=appeal]", APPEAL)
            async with page.expect_navigation():
                await page.click("form[action*='/appeal'] button")
            shown["appeal received"] = await page.locator("[role=status]").count() == 1
            await check(page, "appeal received")
            await author.close()

            context = await new_context(browser.browser, Traffic(live), viewport=DESKTOP,  # type: ignore[arg-type]
                                        bypass_csp=True)
            page = await context.new_page()
            await page.goto(f"{live}/console/sign-in")
            await check(page, "sign-in")
            await page.fill("#email", "ines@example.org")
            await page.fill("#password", "not the password")
            async with page.expect_navigation():
                await page.click("form[action='/console/sign-in'] button")
            await check(page, "sign-in with an error")
            await page.goto(ines_link)
            await check(page, "link page")
            await page.fill("#password", "short")
            await page.evaluate("document.querySelector('#password').removeAttribute('minlength')")
            async with page.expect_navigation():
                await page.click("main form button")
            await check(page, "link page with an error")
            await page.fill("#password", PASSWORD)
            async with page.expect_navigation():
                await page.click("main form button")
            await check(page, "home")
            await page.goto(ines_link)
            await check(page, "a used link")
            for tab in ("held", "reported", "appealed", "decided"):
                await page.goto(f"{live}/console/queue?tab={tab}")
                await check(page, f"queue: {tab}")
                if tab == "held":
                    await page.screenshot(path=str(DOCS / "console-queue.png"))
                    await page.set_viewport_size(ViewportSize(width=PHONE["width"], height=PHONE["height"]))
                    await page.screenshot(path=artifact("console-queue-phone.png"), full_page=True)
                    # Stacked at this width, the queue is still a table to a screen reader.
                    cdp = await context.new_cdp_session(page)
                    tree = await cdp.send("Accessibility.getFullAXTree")
                    roles["phone queue"] = {n["role"]["value"] for n in tree["nodes"] if "role" in n}
                    await page.set_viewport_size(ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"]))
                    await page.keyboard.press("j")
                    await page.keyboard.press("x")
                    await check(page, "queue: held, a row selected and ticked")
            await page.goto(campaign_page)
            await check(page, "a campaign review with its evidence and a burst chart")
            shown["chart and marks"] = await page.locator("svg.chart[role=img]").count() == 1 and \
                await page.locator(".pair mark").count() > 0
            await page.locator("section", has=page.locator("h2", has_text="Flag: burst")).evaluate(
                "e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -16); }")
            await page.screenshot(path=str(DOCS / "console-evidence.png"))
            await page.keyboard.press("?")
            shown["dialog"] = await page.locator("#keys-help[open]").count() == 1
            await check(page, "the shortcuts dialog")
            await page.keyboard.press("Escape")
            await page.goto(f"{live}/console/reviews/{shop.single}?tab=appealed")
            shown["refusal"] = (await page.locator(".appeal-rule").count() == 1
                                and await page.locator("button[data-key=p]").count() == 0)
            await check(page, "an appeal's rule shown to its first moderator")
            await page.goto(campaign_page)
            async with page.expect_navigation():
                await page.click("form[action='/console/bulk'] button")
            shown["confirmation"] = await page.locator("form[action='/console/bulk'] button[autofocus]").count() == 1
            await check(page, "the bulk confirmation")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            shown["done"] = await page.locator("main [role=status]").count() == 1
            await check(page, "bulk done")
            await page.goto(f"{live}/console/reviews/999999")
            await check(page, "not found")
            await context.close()
            assert shown == dict.fromkeys(shown, True), shown  # each page is the one meant
            return found, overflow, roles

        found, overflow, roles = await browser.run(steps)
    assert found == {}, describe(found)  # type: ignore[arg-type]
    assert [name for name, wider in overflow.items() if wider] == []  # no page scrolls sideways at 390 px
    assert {"table", "row", "columnheader", "cell"} <= roles["phone queue"]
    for name in ("console-queue.png", "console-evidence.png"):
        size = (DOCS / name).stat().st_size
        print(f"docs/{name}: {size} bytes")
        assert size < 300_000
