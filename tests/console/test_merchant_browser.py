"""The merchants' console in a real Chromium against the real app under uvicorn, as issue 12's
"done when" tells it: an owner signs in, connects the shop (Shopify secret, an API key, an outgoing
webhook endpoint), invites an agent and a viewer; an order's invitation shows in the funnel; the
agent replies to the review that came from it and the reply shows in the widget on a shop's page;
the endpoint (a real HTTP server on loopback) gets a signed review.published that the
standardwebhooks library verifies, then a retry of review.replied after it answered 500; a viewer
cannot reply, even with a forged POST; a report reaches the moderators' Reported tab; the key is
revoked and refused; the shop's reviews are exported. axe-core checks every page on the way at
390 px and 1280 px, and nothing scrolls sideways on a phone."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, ViewportSize
from standardwebhooks import Webhook

from reviews.accounts import manage
from reviews.merchants.model import Merchant
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.browser_support import (
    DESKTOP,
    PHONE,
    ROOT,
    BrowserThread,
    Traffic,
    axe_violations,
    browser,
    describe,
    live_server,
    new_context,
)
from tests.helpers import FormParser, auth, order_event
from tests.intake.platforms import BUYER, SHOPIFY_SECRET, fulfilled_order, sign
from tests.webhook_receiver import Receiver, receiver

__all__ = ["browser", "receiver"]  # the fixtures, used by name

# Real Chromium: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

Fixture = tuple[Merchant, str]
PASSWORD = "correct horse battery staple"
DOCS = ROOT / "docs"
SHOE = "8901234567881"  # the Shopify fixture's first product
REPLY = "Danke, Lena! <b>Viel Spaß</b> auf dem Trail & bis bald."
API_BUYER = "piotr.nowak@example.com"
REPORT_NOTE = "We never sold socks to this address."


def outbox(services: Services, to: str) -> list[EmailMessage]:
    found = []
    for path in sorted(services.settings.outbox_dir.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        if msg["To"].addresses[0].addr_spec == to:
            found.append(msg)
    return found


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def mailed_link(services: Services, live: str, to: str, path: str) -> str:
    """The newest link under `path` in the mail `to` received (a sign-in link, a review link)."""
    for msg in reversed(outbox(services, to)):
        found = re.search(re.escape(live) + "(" + re.escape(path) + r"[^\s\"<>]+)", text_of(msg))
        if found:
            return found.group(1)
    raise AssertionError(f"no {path} link was mailed to {to}")


# What sticks out of a phone's width, to say why a page scrolls sideways.
WIDER = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))"""


class Pages:
    """axe-core and the 390 px overflow check on every page visited, kept by name."""

    def __init__(self) -> None:
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.wider: dict[str, list[str]] = {}
        self.names: list[str] = []

    async def check(self, page: Page, name: str) -> None:
        self.names.append(name)
        for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            await page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
            violations = await axe_violations(page)
            if violations:
                self.violations[f"{name} ({width})"] = violations
            if width == "phone" and await page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
                self.wider[name] = await page.evaluate(WIDER)


async def go(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)


async def submit(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def use_link(page: Page, live: str, link: str) -> None:
    """A mailed sign-in link: choose the password, and be signed in."""
    await go(page, live + link)
    await page.fill("#password", PASSWORD)
    await submit(page, "main form button")


async def console(browser: BrowserThread, live: str, viewport: dict[str, int] = DESKTOP) -> BrowserContext:
    # axe is injected as an inline script, which the pages' CSP rightly refuses.
    return await new_context(browser.browser, Traffic(live), viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]


async def test_an_owner_connects_the_shop_the_team_replies_and_reports_and_every_page_passes_axe(
        browser: BrowserThread, services: Services, merchant: Fixture, clock: FrozenClock,
        receiver: Receiver, tmp_path: Path) -> None:
    # The webhook library verifies a timestamp within five minutes of the real time.
    clock.set(datetime.now(UTC).replace(microsecond=0))
    services.settings = replace(services.settings, webhooks_allow_private=True)
    pages = Pages()
    async with live_server(services) as live:
        services.settings = replace(services.settings, base_url=live)
        shop = f"{live}/console/m/{merchant[0].slug}"
        _owner, owner_link = await manage.invite(services, "olga@example.com", "owner", merchant[0].slug,
                                                   actor="test")
        contexts: dict[str, BrowserContext] = {}

        async def connect() -> dict[str, Any]:
            """The owner, on a desktop: settings, the Shopify secret, a key, an endpoint, the team."""
            seen: dict[str, Any] = {}
            contexts["owner"] = await console(browser, live)
            page = await contexts["owner"].new_page()
            await use_link(page, live, owner_link.removeprefix(live))
            await go(page, shop)
            await pages.check(page, "inbox, empty")

            await go(page, f"{shop}/settings")
            await pages.check(page, "settings")
            await page.fill("#s-invite_delay_days", "45")
            await submit(page, "form[action$='/settings'] button[type=submit]")
            seen["delay refused"] = await page.inner_text("#invite_delay_days-error")
            await pages.check(page, "settings with a refused value")
            await page.fill("#s-invite_delay_days", "0")
            await submit(page, "form[action$='/settings'] button[type=submit]")
            seen["settings saved"] = await page.inner_text("main [role=status]")
            seen["webhook address"] = await page.input_value("[data-webhook=shopify]")
            await page.fill("#secret-shopify", SHOPIFY_SECRET)
            await submit(page, "form[action$='/settings/platform'] button[type=submit]")
            seen["secret saved"] = await page.inner_text("#platform ~ [role=status]")
            seen["secret shown back"] = SHOPIFY_SECRET in await page.content()
            await pages.check(page, "settings, the secret saved")
            await go(page, f"{shop}/settings?preview=pl&kind=reminder")
            seen["preview subject"] = await page.inner_text("#preview ~ p strong[lang=pl]")

            await go(page, f"{shop}/developers")
            await pages.check(page, "developers")
            await page.fill("#k-name", "Shop backend")
            await submit(page, "form[action$='/developers/keys'] button[type=submit]")
            seen["key"] = await page.input_value("[data-new-key]")
            await pages.check(page, "developers, a key shown once")
            await go(page, f"{shop}/developers")
            seen["key shown again"] = seen["key"] in await page.content()

            await go(page, f"{shop}/developers/webhooks")
            await pages.check(page, "webhooks")
            await page.fill("#w-url", receiver.url())
            for box in await page.locator("input[name=events]").all():
                await box.check()
            await submit(page, "form[action$='/developers/webhooks'] button[type=submit]")
            seen["signing secret"] = await page.input_value("[data-secret]")
            await pages.check(page, "webhooks, the secret shown once")

            await go(page, f"{shop}/team")
            await pages.check(page, "team")
            for address, role in (("aron@example.com", "agent"), ("vera@example.com", "viewer")):
                await page.fill("#t-email", address)
                await page.select_option("#t-role", role)
                await submit(page, "form[action$='/team/invite'] button[type=submit]")
            seen["team"] = {await row.get_attribute("data-member"): await row.locator("select").input_value()
                            for row in await page.locator("tr[data-member]").all()}
            await pages.check(page, "team, two invited")
            return seen

        seen = await browser.run(connect)
        assert "30" in seen["delay refused"] and seen["settings saved"] == "Saved."
        assert seen["secret saved"] == "The secret was saved." and not seen["secret shown back"]
        assert seen["preview subject"]  # the reminder's subject, in Polish
        assert seen["key"].startswith("atk_") and not seen["key shown again"]
        assert seen["signing secret"].startswith("whsec_")
        assert seen["team"] == {"olga@example.com": "owner", "aron@example.com": "agent", "vera@example.com": "viewer"}
        hook_path = seen["webhook address"].removeprefix(live)
        assert hook_path == f"/hooks/shopify/{merchant[0].slug}"
        key, secret = seen["key"], seen["signing secret"]

        # The shop: a Shopify order shipped (signed with the secret just set), another through the API.
        now = clock.now().isoformat()
        order = fulfilled_order(updated_at=now, created_at=now, processed_at=now)
        body = json.dumps(order).encode()
        async with httpx.AsyncClient(base_url=live) as http:
            r = await http.post(hook_path, content=body, headers={
                "Content-Type": "application/json", "X-Shopify-Topic": "orders/fulfilled",
                "X-Shopify-Hmac-Sha256": sign(SHOPIFY_SECRET, body), "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Shop-Domain": "bergwerk-outdoor.myshopify.com"})
            assert r.status_code == 200, r.text
            r = await http.post("/api/v1/orders", headers=auth(key), json=order_event(
                "API-1", occurred_at=now, email=API_BUYER, name="Piotr Nowak", locale="pl",
                products=[{"id": "SOCK-1", "name": "Merino socks"}]))
            assert r.status_code == 200, r.text
            async with make_worker(services) as worker:
                await worker.drain()  # both invitations mailed at once: the delay is 0 days
            assert len(outbox(services, BUYER)) == 1 and len(outbox(services, API_BUYER)) == 1

            async def funnel() -> dict[str, Any]:
                """The owner sees both invitations in the funnel, then revokes the key."""
                seen: dict[str, Any] = {}
                page = await contexts["owner"].new_page()
                await go(page, f"{shop}/invitations")
                seen["totals"] = {await c.get_attribute("data-total"): await c.inner_text()
                                  for c in await page.locator("[data-total]").all()}
                seen["charts"] = await page.locator("svg[role=img]").count()
                await pages.check(page, "invitations with the funnel")
                await go(page, f"{shop}/developers")
                await submit(page, "tr[data-api-key]:has-text('Shop backend') form[action$='/revoke'] button")
                seen["revoked"] = await page.inner_text("main [role=status]")
                await pages.check(page, "developers, a key revoked")
                await go(page, f"{shop}/settings")
                seen["last delivery"] = await page.inner_text("#platform ~ form fieldset")
                await page.close()
                return seen

            seen = await browser.run(funnel)
            assert seen["totals"]["ordered"] == "2" and seen["totals"]["sent"] == "2", seen["totals"]
            assert seen["charts"] >= 1
            assert seen["revoked"] == "The key was revoked: it no longer works."
            assert "Last verified delivery:" in seen["last delivery"]
            r = await http.post("/api/v1/orders", headers=auth(key), json=order_event("API-2", occurred_at=now))
            assert r.status_code == 401 and r.json()["error"]["code"]
            r = await http.post("/api/v1/orders", headers=auth(merchant[1]), json=order_event("API-3", occurred_at=now,
                                                                                               consent=False))
            assert r.status_code == 200  # the shop's other key still works

            # Both buyers review from their emails' links.
            for address, text in ((BUYER, "Bequem ab dem ersten Kilometer, und das Profil greift auch auf nassem "
                                           "Fels. Nach zwei Wochen keine Blasen."),
                                  (API_BUYER, "Ciepłe i miękkie, nie gryzą. Po praniu w 30 stopniach bez zmian.")):
                link = mailed_link(services, live, address, "/r/")
                form = FormParser()
                form.feed((await http.get(link)).text)
                assert form.action is not None
                r = await http.post(form.action, data={**form.fields, "rating_0": "5", "body_0": text})
                assert r.status_code == 200, r.text
        async with make_worker(services) as worker:
            await worker.drain()  # scanned and published; review.published posted to the endpoint
        reviews = {row["buyer_email"]: row["id"] for row in await services.pool.fetch(
            "SELECT r.id, o.buyer_email FROM reviews r JOIN orders o ON o.id = r.order_id WHERE r.state = 'published' "
            "AND r.product_id IN ($1, 'SOCK-1')", SHOE)}
        assert set(reviews) == {BUYER, API_BUYER}
        published = [Webhook(secret).verify(q.body, q.headers) for q in receiver.requests]
        assert sorted((e["type"], e["data"]["id"]) for e in published) == sorted(
            ("review.published", rid) for rid in reviews.values())
        assert all(e["data"]["merchant"] == merchant[0].slug and e["data"]["reply"] is None for e in published)
        lena = reviews[BUYER]

        receiver.status = 500  # the endpoint breaks just before the reply's event
        agent_link = mailed_link(services, live, "aron@example.com", "/console/link/")

        async def answer() -> dict[str, Any]:
            """The agent, on a phone: the inbox, a reply to Lena's review, a report on the other one."""
            seen: dict[str, Any] = {}
            contexts["agent"] = await console(browser, live, PHONE)
            page = await contexts["agent"].new_page()
            await use_link(page, live, agent_link)
            await go(page, shop)
            seen["inbox rows"] = await page.locator("a[href*='/reviews/']").count()
            await pages.check(page, "inbox with two reviews")
            await go(page, f"{shop}?stars=5&lang=de")
            seen["filtered"] = await page.locator(f"a[href$='/reviews/{lena}']").count()
            await pages.check(page, "inbox, filtered")
            await go(page, f"{shop}/reviews/{lena}")
            seen["nav"] = await page.locator("nav .tabs a").all_inner_texts()
            await pages.check(page, "a review, the agent's reply form")
            await page.fill("textarea[name=reply]", REPLY)
            await submit(page, "form[action$='/reply'] button")
            seen["replied"] = await page.inner_text("main [role=status]")
            seen["reply shown"] = await page.inner_text("#public-reply ~ blockquote")
            await pages.check(page, "a review with its reply")
            await page.set_viewport_size(ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"]))
            await page.locator("#public-reply").evaluate("e => e.scrollIntoView({block: 'center'})")
            await page.screenshot(path=str(DOCS / "merchant-reply.png"))
            await go(page, f"{shop}/reviews/{reviews[API_BUYER]}")
            await page.check("#reason-not_a_buyer")
            await page.fill("#note", REPORT_NOTE)
            await submit(page, "form[action$='/report'] button")
            seen["reported"] = await page.inner_text("main [role=status]")
            seen["report state"] = await page.inner_text("#reports ~ ul")
            await pages.check(page, "a review, reported")
            return seen

        seen = await browser.run(answer)
        assert seen["inbox rows"] == 2 and seen["filtered"] == 1
        assert "Team" not in seen["nav"] and "Developers" not in seen["nav"]  # an agent's tabs
        assert seen["replied"] == "Your reply is saved and shown under the review."
        assert seen["reply shown"] == REPLY  # the markup is text
        assert "Waiting for a moderator." in seen["report state"] and REPORT_NOTE in seen["report state"]
        assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", reviews[API_BUYER]) == \
            "published"  # a report never hides the review

        # review.replied: the endpoint answered 500, then gets the same message again a minute later.
        async with make_worker(services) as worker:
            await worker.drain()
        assert len(receiver.requests) == 3 and receiver.requests[-1].body.count(b"review.replied") == 1
        receiver.status = 200
        clock.advance(minutes=1)
        async with make_worker(services) as worker:
            await worker.drain()
        assert len(receiver.requests) == 4
        failed, retried = receiver.requests[2:]
        assert failed.headers["webhook-id"] == retried.headers["webhook-id"]
        event = Webhook(secret).verify(retried.body, retried.headers)
        assert event["type"] == "review.replied" and event["data"]["id"] == lena
        assert event["data"]["reply"]["body"] == REPLY
        # Lena is told once, in her language, with the link to her review.
        told = [m for m in outbox(services, BUYER) if m["Subject"] != outbox(services, BUYER)[0]["Subject"]]
        assert len(told) == 1 and told[0]["Content-Language"] == "de", [m["Subject"] for m in told]
        assert f"{live}/r/" in text_of(told[0]) or f"{live}/widgets/" in text_of(told[0])

        async def product_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            """The shop's own product page, served from another origin, embedding the review list."""
            await reader.readuntil(b"\r\n\r\n")
            html = ('<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Trail-Laufschuh</title>'
                    '<meta name="viewport" content="width=device-width"></head><body><main><h1>Trail-Laufschuh</h1>'
                    f'<div id="reviews" data-attest-widget="reviews" data-merchant="{merchant[0].slug}" '
                    f'data-product="{SHOE}"></div></main>'
                    f'<script async src="{live}/widgets/v1/embed.js"></script></body></html>').encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                         b"Content-Length: " + str(len(html)).encode() + b"\r\n\r\n" + html)
            await writer.drain()
            writer.close()

        # A real server on loopback: a page Playwright made up would be "public" to Chromium's Private
        # Network Access, which then keeps it from loading a script from loopback.
        shop_server = await asyncio.start_server(product_page, "127.0.0.1", 0)
        shop_page = f"http://127.0.0.1:{shop_server.sockets[0].getsockname()[1]}/products/trail-shoe"

        async def on_the_shop() -> dict[str, Any]:
            """A shop's product page on its own origin embeds the review list: the reply is under the review."""
            context = await new_context(browser.browser, Traffic(live), viewport=PHONE)  # type: ignore[arg-type]
            await context.route(shop_page, lambda route: route.continue_())
            page = await context.new_page()
            await page.goto(shop_page)
            # The list draws in its shadow root, which Playwright's selectors go into.
            await page.wait_for_selector("#reviews >> .rep")
            seen = {"reply": await page.inner_text("#reviews >> .rep"),
                    "markup": await page.locator("#reviews >> .rep b").count(),
                    "reviews": await page.locator("#reviews >> .list > li").count()}
            await context.close()
            return seen

        try:
            seen = await browser.run(on_the_shop)
        finally:
            shop_server.close()
        assert REPLY in seen["reply"] and seen["markup"] == 0 and seen["reviews"] == 1

        viewer_link = mailed_link(services, live, "vera@example.com", "/console/link/")
        _mod, moderator_link = await manage.invite(services, "mona@example.org", "moderator", None, actor="test",
                                                   all_merchants=True)

        async def read_only_and_the_moderators() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            viewer = await console(browser, live)
            page = await viewer.new_page()
            await use_link(page, live, viewer_link)
            await go(page, f"{shop}/reviews/{lena}")
            seen["viewer forms"] = await page.locator("textarea[name=reply], form[action$='/report']").count()
            seen["viewer sees the reply"] = await page.inner_text("#public-reply ~ blockquote")
            await pages.check(page, "a review, read only")
            # A forged POST with the viewer's own session and a valid CSRF token is refused all the same.
            token = await page.input_value("form[action='/console/sign-out'] input[name=csrf]")
            forged = await page.request.post(f"{shop}/reviews/{lena}/reply", form={"csrf": token, "reply": "Forged"})
            seen["forged"] = forged.status
            await go(page, f"{shop}/widgets?product={SHOE}")
            seen["snippets"] = await page.locator("[data-snippet^='product-']").count()
            await pages.check(page, "widgets for a product")
            await viewer.close()

            moderator = await console(browser, live)
            page = await moderator.new_page()
            await use_link(page, live, moderator_link.removeprefix(live))
            await go(page, f"{live}/console/queue?tab=reported")
            seen["reported tab"] = await page.inner_text("table[data-list] tbody")
            await moderator.close()

            # The owner: the delivery log, one buyer's data, and the export of every review.
            page = await contexts["owner"].new_page()
            await go(page, f"{shop}/developers/webhooks")
            await page.click("tr[data-endpoint] a")
            await page.wait_for_load_state()
            seen["log"] = [await row.inner_text() for row in await page.locator("tr[data-delivery]").all()]
            await pages.check(page, "a webhook endpoint and its delivery log")
            await go(page, f"{shop}/invitations")
            seen["funnel"] = {await c.get_attribute("data-total"): await c.inner_text()
                              for c in await page.locator("[data-total]").all()}
            await page.set_viewport_size(ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"]))
            await page.locator("svg[role=img]").first.evaluate("e => e.scrollIntoView({block: 'center'})")
            await page.screenshot(path=str(DOCS / "merchant-invitations.png"))
            await go(page, f"{shop}/privacy")
            await pages.check(page, "privacy")
            await page.fill("#p-email", BUYER)
            await submit(page, "form[action$='/privacy/export'] button:not([formaction])")
            seen["exported"] = await page.inner_text("main p.card[role=status]")
            await pages.check(page, "privacy, an export ready")
            await page.fill("#p-email", BUYER)
            await submit(page, "button[formaction$='/privacy/erase']")
            seen["confirm"] = await page.inner_text("h1")
            await pages.check(page, "privacy, confirm an erasure")
            await go(page, f"{shop}/widgets")
            await pages.check(page, "widgets")
            await go(page, shop)
            async with page.expect_download() as download:
                await page.click("a[href$='/export.csv']")
            path = tmp_path / "reviews.csv"
            await (await download.value).save_as(path)
            seen["csv"] = path.read_text(encoding="utf-8-sig")
            for context in contexts.values():
                await context.close()
            return seen

        seen = await browser.run(read_only_and_the_moderators)
    assert seen["viewer forms"] == 0 and seen["viewer sees the reply"] == REPLY
    assert seen["forged"] == 403
    assert await services.pool.fetchval("SELECT body FROM review_replies WHERE review_id = $1", lena) == REPLY
    assert seen["snippets"] >= 4
    assert f"#{reviews[API_BUYER]}" in seen["reported tab"] and REPORT_NOTE in seen["reported tab"]
    assert len(seen["log"]) == 3 and any("review.replied" in row and "200" in row for row in seen["log"])
    assert (seen["funnel"]["sent"], seen["funnel"]["reviewed"]) == ("2", "2"), seen["funnel"]
    assert seen["exported"].startswith("The export of l***@example.de is ready below")
    assert seen["confirm"] == "Confirm the erasure"
    rows = {int(row["attest_id"]): row for row in csv.DictReader(io.StringIO(seen["csv"]))}
    assert set(rows) == set(reviews.values())
    assert rows[lena]["reply"] == REPLY and rows[lena]["collection_method"] == "invited"
    assert rows[lena]["verification"] and rows[lena]["order_id"] == str(order["id"])

    print(f"\npages checked with axe-core at 390 px and 1280 px: {len(pages.names)}")
    assert pages.violations == {}, describe(pages.violations)  # type: ignore[arg-type]
    assert pages.wider == {}  # no page scrolls sideways at 390 px
    for name in ("merchant-invitations.png", "merchant-reply.png"):
        size = (DOCS / name).stat().st_size
        print(f"docs/{name}: {size} bytes")
        assert size < 300_000
