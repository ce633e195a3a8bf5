"""Passwords as NIST SP 800-63B asks (length; nothing common, repeated, sequential, blank or about the
account), and a lockout that stops a guesser without locking the owner out: another client still signs
in, the sign-in link is still sent, and every 429 says when to come back (Retry-After)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from reviews.accounts import manage, users
from reviews.app import create_app
from reviews.platform.services import Services
from tests.helpers import FormParser

OWNER = "anna.kowalska@example.com"
GOOD = "correct horse battery staple"


@pytest.mark.parametrize(("password", "problem"), [
    (" " * 12, "guessable"), ("\t" * 20, "guessable"), ("short", "length"), ("x" * 257, "length"),
    ("password1234", "guessable"), ("PasswordPassword", "guessable"), ("123456789012", "guessable"),
    ("qwertyuiopas", "guessable"), ("1qaz2wsx3edc", "guessable"), ("abcabcabcabc", "guessable"),
    ("aaaaaaaaaaaaaaaa", "guessable"), ("leavemealone", "guessable"), ("!!Attest2026!!", "guessable"),
    ("anna.kowalska99!", "email"), (OWNER, "email"),
    (GOOD, None), ("Tr0ub4dor&3-zebra", None), ("zażółć gęślą jaźń", None),
])
def test_what_a_password_may_be(password: str, problem: str | None) -> None:
    assert users.password_problem(password, OWNER) == problem


@pytest.fixture
async def app_clients(services: Services) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    app = create_app(services)
    async with app.router.lifespan_context(app):
        def client(address: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 50000)),
                                     base_url="http://testserver")
        async with client("203.0.113.7") as guesser, client("198.51.100.4") as owner:
            yield guesser, owner


def _fields(html: str, action: str | None = None) -> dict[str, str]:
    """The fields of the form posting to `action` (None: the page's first form)."""
    start = html.index(f'action="{action}"') if action else html.index("<form") + len("<form")
    parser = FormParser()
    parser.feed(html[html.rindex("<form", 0, start):html.index("</form>", start)])
    return dict(parser.fields)


async def test_a_blank_or_guessable_password_is_refused_when_it_is_chosen(
        app_clients: tuple[httpx.AsyncClient, httpx.AsyncClient], services: Services) -> None:
    client = app_clients[1]
    await services.pool.execute("INSERT INTO merchants (slug, name) VALUES ('demo-shop', 'Demo')")
    _user, link = await manage.invite(services, OWNER, "owner", "demo-shop", actor="test")
    path = link.removeprefix(services.settings.base_url)
    for password, words in ((" " * 12, "too easy to guess"), ("anna.kowalska-2026", "email address")):
        page = await client.get(path)
        r = await client.post(path, data={**_fields(page.text), "password": password})
        assert r.status_code == 422 and words in r.text
    page = await client.get(path)
    r = await client.post(path, data={**_fields(page.text), "password": GOOD})
    assert r.status_code == 303


async def _try(client: httpx.AsyncClient, password: str) -> httpx.Response:
    page = await client.get("/console/sign-in")
    return await client.post("/console/sign-in", data={**_fields(page.text, "/console/sign-in"),
                                                       "email": OWNER, "password": password})


@pytest.mark.slow
async def test_a_guesser_is_locked_out_and_the_owner_is_not(
        app_clients: tuple[httpx.AsyncClient, httpx.AsyncClient], services: Services) -> None:
    guesser, owner = app_clients
    await services.pool.execute("INSERT INTO merchants (slug, name) VALUES ('demo-shop', 'Demo')")
    user, _link = await manage.invite(services, OWNER, "owner", "demo-shop", actor="test")
    async with services.pool.acquire() as conn:
        await users.set_password(conn, user.id, GOOD)
    for _ in range(10):
        assert (await _try(guesser, "wrong password guess")).status_code == 401
    locked = await _try(guesser, GOOD)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 900
    # The owner, from their own client, signs in; and the guesser's client can still ask for the link.
    assert (await _try(owner, GOOD)).status_code == 303
    page = await guesser.get("/console/sign-in")
    asked = await guesser.post("/console/sign-in/link",
                               data={**_fields(page.text, "/console/sign-in/link"), "email": OWNER})
    assert asked.status_code == 200


async def test_link_requests_have_their_own_limit_with_a_retry_after(
        app_clients: tuple[httpx.AsyncClient, httpx.AsyncClient], services: Services) -> None:
    guesser = app_clients[0]
    statuses = []
    for _ in range(6):
        page = await guesser.get("/console/sign-in")
        r = await guesser.post("/console/sign-in/link",
                               data={**_fields(page.text, "/console/sign-in/link"), "email": OWNER})
        statuses.append(r.status_code)
    assert statuses == [200] * 5 + [429]
    assert int(r.headers["retry-after"]) > 0
