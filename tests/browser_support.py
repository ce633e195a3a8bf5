"""Real-browser helpers: Debian's chromium driven by Playwright's async API, the app served by
uvicorn on loopback, axe-core, and a record of every request a page makes.

The browser lives in a thread with an event loop of its own, for a whole test module: each test
runs in its own event loop with its own database pool, so a browser bound to one test's loop could
not serve the next. Tests hand the browser work with `await browser.run(steps, ...)`, while the
app keeps answering in the test's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    ViewportSize,
    async_playwright,
)

from reviews.app import create_app
from reviews.platform.services import Services
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
# Debian's chromium, which `make test` installs; never a downloaded browser.
CHROMIUM = os.environ.get("ATTEST_CHROMIUM") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Stands in for the merchant's own image host (logo, product photos); see `Traffic`.
SHOP_IMAGES = "https://shop.example/"
_IMAGE = ('<svg xmlns="http://www.w3.org/2000/svg" width="160" height="48"><rect width="160" height="48" rx="8" '
          'fill="#0a7d5a"/><text x="80" y="31" font-family="sans-serif" font-size="20" fill="#fff" '
          'text-anchor="middle">SHOP</text></svg>')

T = TypeVar("T")


class BrowserThread:
    """One Chromium for a test module, in a thread and event loop of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="chromium", daemon=True)
        self._playwright: Playwright | None = None
        self.browser: Browser | None = None

    def start(self) -> None:
        if not os.path.exists(CHROMIUM):
            pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: run `make test`, which installs it "
                        "(never a downloaded browser)")
        if not AXE.exists():
            pytest.fail(f"axe-core is missing at {AXE}: run `make test`, which runs npm install")
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._launch(), self.loop).result(timeout=60)

    async def _launch(self) -> None:
        self._playwright = await async_playwright().start()
        self.browser = await self._playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)

    def stop(self) -> None:
        async def close() -> None:
            if self.browser:
                await self.browser.close()
            if self._playwright:
                await self._playwright.stop()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `fn(*args)` in the browser's loop; the caller's loop keeps serving the app meanwhile."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fn(*args), self.loop))  # type: ignore[arg-type]


@dataclass
class Traffic:
    """Every request a context made. Requests to the app go through; the merchant's image host gets
    a small picture; anything else is refused and kept in `refused`, so a test sees it."""

    origin: str = ""
    requests: list[Request] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/"):
            await route.continue_()
        elif url.startswith(SHOP_IMAGES):
            await route.fulfill(status=200, content_type="image/svg+xml", body=_IMAGE)
        else:
            self.refused.append(url)
            await route.abort()


async def new_context(browser: Browser, traffic: Traffic, **options: Any) -> BrowserContext:
    context = await browser.new_context(**options)
    await context.route("**/*", traffic.route)
    context.on("request", lambda request: traffic.requests.append(request))
    return context


@contextlib.asynccontextmanager
async def live_server(services: Services) -> AsyncIterator[str]:
    """The real app under uvicorn on a free loopback port, in the current event loop."""
    port = free_port()
    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # raises why it could not start
            raise AssertionError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the given impacts on the page as it is now (needs bypass_csp)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=AXE.read_text())
    found = await page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in found if v["impact"] in impacts]


async def axe_at_both_widths(page: Page, name: str, found: dict[str, list[dict[str, Any]]]) -> None:
    """axe at a phone's width and a desktop's, each width's violations kept in `found` under the page's name."""
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
        violations = await axe_violations(page)
        if violations:
            found[f"{name} ({width})"] = violations


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1, ensure_ascii=False)


async def tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


async def focused_id(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


def artifact(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / name)


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserThread]:
    """One Chromium for the test module that asks for it (import it by name)."""
    thread = BrowserThread()
    thread.start()
    yield thread
    thread.stop()
