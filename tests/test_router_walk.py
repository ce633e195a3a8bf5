"""No byte in any URL makes Attest answer 5xx: every route of the app's router, by construction (a new
route is walked the day it is added), with each path parameter and every query parameter the code reads
filled with a NUL, an encoded lone surrogate, invalid percent-encoding, 10,000 characters and `../`,
anonymous, with a console session (an operator's and a shop owner's) and with an API key.
Every console page answered also carries the console's Content-Security-Policy."""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from reviews.accounts import manage
from reviews.app import create_app
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import FormParser

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
# Already percent-encoded: what goes into the URL as it is.
HOSTILE = {
    "nul": "%00",
    "surrogate": "%ED%A0%80",  # the UTF-8 bytes of U+D800, which no valid text holds
    "bad-encoding": "%zz%E2%82",
    "long": "a" * 10_000,
    "dots": "..%2F..%2F..%2Fetc%2Fpasswd",
}
# A plausible value for each path parameter that is not the one being tried.
PLAUSIBLE = {"slug": "demo-shop", "product_id": "SKU-1", "token": "abc", "lang": "en", "name": "review.js"}


def _walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str], list[str]]]:
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes or []
            if inner:
                yield from _walk(list(inner), prefix + route.path)
            else:  # a mounted app (static files): its path is all it has
                yield prefix + route.path + "/{path}", {"GET"}, ["path"]
        elif isinstance(route, Route):
            path = prefix + route.path
            yield path, set(route.methods or {"GET"}) - {"HEAD"}, list(route.param_convertors)


def _query_names() -> list[str]:
    """Every query parameter name the code reads (`query_params.get("x")`, `["x"]`, `.getlist("x")`)."""
    names: set[str] = set()
    for package in ("reviews", "widgets"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                target = None
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                    if node.func.attr in ("get", "getlist") and _is_query(node.func.value):
                        target = node.args[0]
                elif isinstance(node, ast.Subscript) and _is_query(node.value):
                    target = node.slice
                if isinstance(target, ast.Constant) and isinstance(target.value, str):
                    names.add(target.value)
    return sorted(names)


def _is_query(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "query_params") or (
        isinstance(node, ast.Name) and node.id in ("q", "query", "params"))


def _fill(template: str, params: list[str], hostile_param: str | None, value: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == hostile_param:
            return value
        return "1" if match.group(2) in (":int", ":id") else quote(PLAUSIBLE.get(name, "x"), safe="")
    return re.sub(r"\{(\w+)(:\w+)?\}", one, template)


def _queries(names: list[str], value: str, limit: int = 60_000) -> Iterator[str]:
    """Every name with the value, as few query strings as fit in a URL httpx sends (64 KiB)."""
    chunk: list[str] = []
    for name in names:
        pair = f"{name}={value}"
        if chunk and len("&".join([*chunk, pair])) > limit:
            yield "&".join(chunk)
            chunk = []
        chunk.append(pair)
    if chunk:
        yield "&".join(chunk)


async def _console_client(app: object, services: Services, email: str, role: str,
                          merchant: str | None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 50000)),  # type: ignore[arg-type]
                               base_url="http://testserver")
    _user, link = await manage.invite(services, email, role, merchant, actor="test")
    path = link.removeprefix(services.settings.base_url)
    page = await client.get(path)
    parser = FormParser()
    parser.feed(page.text)
    r = await client.post(path, data={**parser.fields, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return client


@pytest.fixture
async def clients(services: Services, merchant: tuple[Merchant, str]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    app = create_app(services)
    async with app.router.lifespan_context(app):
        anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        keyed = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                  headers={"Authorization": f"Bearer {merchant[1]}"})
        found = {"anonymous": anonymous, "api key": keyed,
                 "operator": await _console_client(app, services, "op@example.com", "operator", None),
                 "owner": await _console_client(app, services, "owner@example.com", "owner", "demo-shop")}
        try:
            yield found
        finally:
            for c in found.values():
                await c.aclose()


@pytest.mark.slow  # some 3,000 requests: `make test` runs it, `make check` leaves it
async def test_no_route_answers_5xx_to_any_byte_in_its_url(services: Services,
                                                          clients: dict[str, httpx.AsyncClient]) -> None:
    app = create_app(services)
    routes = list(_walk(list(app.routes)))
    assert len(routes) > 60 and any(p.startswith("/console/m/") for p, _, _ in routes)
    queries = _query_names()
    assert {"product", "page", "lang", "merchant"} <= set(queries), queries
    failures: list[str] = []
    missing_csp: list[str] = []
    sent = 0
    for template, methods, params in routes:
        if template in ("/metrics",):
            who = ["anonymous"]
        elif template.startswith("/console"):
            who = ["anonymous", "operator", "owner"]
        elif template.startswith("/api/"):
            who = ["anonymous", "api key"]
        else:
            who = ["anonymous"]
        for label, value in HOSTILE.items():
            urls = [_fill(template, params, param, value) for param in params]
            base = _fill(template, params, None, value)
            urls += [base + "?" + query for query in _queries(queries, value)]
            for url in urls:
                for method in sorted(methods):
                    for name in who:
                        r = await clients[name].request(method, url, data={} if method == "POST" else None)
                        sent += 1
                        if r.status_code >= 500:
                            failures.append(f"{method} {url[:120]} ({label}, {name}): {r.status_code}")
                        if (url.startswith("/console") and r.headers.get("content-type", "").startswith("text/html")
                                and "content-security-policy" not in r.headers):
                            missing_csp.append(f"{method} {url[:80]} ({name}): {r.status_code}")
    assert sent > 1000
    assert failures == [], "\n".join(failures[:40])
    assert missing_csp == [], "\n".join(missing_csp[:20])


async def test_every_console_page_carries_the_content_security_policy(
        services: Services, clients: dict[str, httpx.AsyncClient]) -> None:
    app = create_app(services)
    checked = 0
    for template, methods, params in _walk(list(app.routes)):
        if not template.startswith("/console") or "GET" not in methods or "static" in template:
            continue
        url = _fill(template, params, None, "")
        for name in ("anonymous", "operator", "owner"):
            r = await clients[name].get(url)
            if r.headers.get("content-type", "").startswith("text/html"):
                checked += 1
                csp = r.headers.get("content-security-policy", "")
                scripts = csp.split("script-src")[1].split(";")[0] if "script-src" in csp else ""
                # our own script files only, or (the email preview) no script at all
                assert scripts.strip() == "'self'" or ("script-src" not in csp and "default-src 'none'" in csp), \
                    (url, name, csp)
    assert checked > 20
