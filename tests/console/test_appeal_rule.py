"""The appeal rule, visible before the click: the moderator who decided first sees who decided and a
sentence instead of Publish and Reject; another moderator sees who decided and the buttons. On a
single-moderator install (ATTEST_APPEAL_COOLING_OFF_HOURS) the first moderator may decide the appeal
after the cooling-off period, audited. `attest moderate --by EMAIL` names a console moderator and
counts as theirs; an unknown one is refused in one line."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from reviews import cli
from reviews.accounts import manage, users
from reviews.collection import appeals
from reviews.merchants.model import Merchant
from reviews.moderation.decisions import decide
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from tests.console.test_console import PASSWORD, _form
from tests.helpers import add_review

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]
APPEAL = "I bought it, here is what happened."


async def _appealed(services: Services, merchant: Fixture, first_moderator: str) -> tuple[int, dict[str, int]]:
    """A review rejected by `first_moderator` (a console user) and appealed by its author; the
    moderators' ids by address."""
    ids = {}
    for email in ("ana@example.com", "ben@example.com"):
        user, _link = await manage.invite(services, email, "moderator", None, actor="test", all_merchants=True)
        async with services.pool.acquire() as conn:
            await users.set_password(conn, user.id, PASSWORD)
        ids[email] = user.id
    rid = await add_review(services, merchant[0].id, 2, state="held", body="Not what the photos showed.")
    async with services.pool.acquire() as conn:
        await decide(conn, rid, "reject", moderator=first_moderator, now=services.clock.now(), code="offensive",
                     user_id=ids[first_moderator])
        await appeals.file(conn, rid, APPEAL, services.clock.now())
    return rid, ids


async def _sign_in(client: httpx.AsyncClient, email: str) -> None:
    page = await client.get("/console/sign-in")
    r = await client.post("/console/sign-in", data={**_form(page.text, "/console/sign-in"), "email": email,
                                                    "password": PASSWORD})
    assert r.status_code == 303, r.text


async def test_the_first_moderator_reads_the_rule_instead_of_the_buttons(
        client: httpx.AsyncClient, services: Services, merchant: Fixture) -> None:
    rid, _ids = await _appealed(services, merchant, "ana@example.com")
    await _sign_in(client, "ana@example.com")
    mine = (await client.get(f"/console/reviews/{rid}")).text
    assert "You decided this review first (" in mine and "so you cannot decide its appeal" in mine
    assert "ATTEST_APPEAL_COOLING_OFF_HOURS" in mine  # what a single-moderator install can do
    assert "data-publish-form" not in mine and "data-reject-form" not in mine
    await client.post("/console/sign-out", data=_form(mine, "/console/sign-out"))
    await _sign_in(client, "ben@example.com")
    theirs = (await client.get(f"/console/reviews/{rid}")).text
    assert "First decided by ana@example.com" in theirs and "you may decide it" in theirs
    assert "data-publish-form" in theirs and "data-reject-form" in theirs


async def test_a_single_moderator_install_allows_the_appeal_after_the_cooling_off(
        client: httpx.AsyncClient, services: Services, merchant: Fixture, clock: FrozenClock) -> None:
    services.settings = replace(services.settings, appeal_cooling_off_hours=24)
    rid, ids = await _appealed(services, merchant, "ana@example.com")
    await _sign_in(client, "ana@example.com")
    page = (await client.get(f"/console/reviews/{rid}")).text
    assert "after 24 hours of cooling off: from <time" in page and "data-publish-form" not in page
    # A forged decision before the cooling-off is over is refused all the same.
    forged = await client.post(f"/console/reviews/{rid}/decision", data={
        "csrf": _form(page, "/console/sign-out")["csrf"], "decision": "publish"})
    assert forged.status_code == 409
    clock.advance(timedelta(hours=25))
    await _sign_in(client, "ana@example.com")  # a new day, a new session
    page = (await client.get(f"/console/reviews/{rid}")).text
    assert "so you may decide it now; the audit log records it" in page and "data-publish-form" in page
    r = await client.post(f"/console/reviews/{rid}/decision",
                          data={**_form(page, f"/console/reviews/{rid}/decision"), "decision": "publish"})
    assert r.status_code == 303
    decided = await services.pool.fetch(
        "SELECT user_id, on_appeal FROM moderation_decisions WHERE review_id = $1 ORDER BY id", rid)
    assert [tuple(d) for d in decided] == [(ids["ana@example.com"], False), (ids["ana@example.com"], True)]
    audited = await services.pool.fetchrow(
        "SELECT actor, after FROM audit_log WHERE action = 'moderation.appeal_after_cooling_off'")
    assert audited["actor"] == "ana@example.com" and audited["after"]["cooling_off_hours"] == 24


async def test_moderate_by_names_a_console_moderator_and_counts_as_theirs(
        services: Services, merchant: Fixture, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    rid, ids = await _appealed(services, merchant, "ana@example.com")
    capsys.readouterr()
    assert await asyncio.to_thread(cli.main, ["moderate", str(rid), "--publish", "--by", "nobody@example.com"]) == 1
    err = capsys.readouterr().err
    assert err == "attest: nobody@example.com is not a console moderator (see `attest user list`); " \
                  "nothing was decided\n"
    # Ana decided first: by her name on the command line, the appeal is still not hers.
    assert await asyncio.to_thread(cli.main, ["moderate", str(rid), "--publish", "--by", "Ana@Example.com"]) == 2
    assert "different moderator" in capsys.readouterr().err
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", rid) == "rejected"
    assert await asyncio.to_thread(cli.main, ["moderate", str(rid), "--publish", "--by", "ben@example.com"]) == 0
    decided = await services.pool.fetchrow(
        "SELECT user_id, moderator, on_appeal FROM moderation_decisions WHERE review_id = $1 ORDER BY id DESC", rid)
    assert tuple(decided) == (ids["ben@example.com"], "ben@example.com", True)
