"""The moderators' console in-process: sign-in and sessions, the security rules, the queue, a
review's evidence, and decisions one by one and in bulk."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from reviews.accounts import manage
from reviews.collection.importing import import_file
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.conftest import METRICS_HEADERS
from tests.helpers import FormParser

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

CAMPAIGN = ("I was sceptical at first but this cordless drill changed my weekend projects completely. "
            "The battery lasts for hours, the torque settings are precise and the case is sturdy.")
HONEST = ["Solid drill for the price, the chuck holds bits firmly.",
          "Arrived a day late but works fine for hanging shelves.",
          "Battery died after twenty minutes of drilling into concrete, disappointing.",
          "Lighter than my old Bosch, which my wrists appreciate."]
PASSWORD = "correct horse battery staple"


def _row(i: int, merchant: str = "tools-shop", **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"{merchant}-{i}", "merchant": merchant, "product_id": "DRILL-1", "order_id": f"O-{i}", "lang": "en",
        "rating": 5, "title": "", "body": HONEST[i % len(HONEST)], "author_name": f"Buyer {i}",
        "author_email": f"buyer{i}@example.com", "created_at": f"2025-03-{(i % 27) + 1:02d}T10:00:00Z"}
    return {**base, **kw}


async def _import(services: Services, tmp_path: Path, rows: list[dict[str, object]]) -> None:
    path = tmp_path / f"reviews-{len(rows)}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert not report.errors
    async with make_worker(services) as worker:
        await worker.drain()


async def _campaign(services: Services, tmp_path: Path, merchant: str = "tools-shop",
                    body: str = CAMPAIGN) -> list[int]:
    rows = [_row(i, merchant) for i in range(6)] + [
        _row(100 + n, merchant, body=body, created_at=f"2025-04-01T{10 + n:02d}:00:00Z") for n in range(3)]
    await _import(services, tmp_path, rows)
    return [r["id"] for r in await services.pool.fetch(
        "SELECT r.id FROM reviews r JOIN merchants m ON m.id = r.merchant_id WHERE r.state = 'held' AND m.slug = $1 "
        "AND r.external_id LIKE $2 ORDER BY r.id", merchant, f"{merchant}-10_")]


def _form(html: str, action: str | None = None) -> dict[str, str]:
    """The fields of the page's form (the one posting to `action`, when given)."""
    if action is not None:
        start = html.index(f'action="{action}"')
        html = html[html.rindex("<form", 0, start):html.index("</form>", start)]
    parser = FormParser()
    parser.feed(html)
    return dict(parser.fields)


async def _sign_in(client: httpx.AsyncClient, services: Services, email: str, role: str = "moderator",
                   merchant: str | None = None) -> None:
    _user, link = await manage.invite(services, email, role, merchant, actor="test",
                                      all_merchants=role == "moderator" and merchant is None)
    path = link.removeprefix(services.settings.base_url)
    page = await client.get(path)
    assert page.status_code == 200
    r = await client.post(path, data={**_form(page.text), "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_every_console_url_without_a_session_goes_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/console", "/console/queue", "/console/queue?tab=decided", "/console/reviews/1"):
        r = await client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/console/sign-in?next=")
    for path in ("/console/bulk", "/console/reviews/1/decision", "/console/sign-out"):
        assert (await client.post(path, data={})).status_code == 303, path


async def test_invited_user_sets_a_password_from_the_link_and_the_link_works_once(
        client: httpx.AsyncClient, services: Services) -> None:
    _user, link = await manage.invite(services, "Mod@Example.com", "moderator", None, actor="test", all_merchants=True)
    # The link went out through the outbox like every email.
    mails = [email.message_from_bytes(m.read_bytes(), policy=email.policy.default)
             for m in services.settings.outbox_dir.glob("*.eml")]
    assert [m["To"] for m in mails] == ["mod@example.com"]
    assert link in mails[0].get_body().get_content()  # type: ignore[union-attr]
    path = link.removeprefix(services.settings.base_url)
    page = await client.get(path)
    assert "Choose your password" in page.text
    fields = _form(page.text)
    short = await client.post(path, data={**fields, "password": "short"})
    assert short.status_code == 422
    r = await client.post(path, data={**fields, "password": PASSWORD})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "attest_console=" in cookie and "Path=/console" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert (await client.get("/console")).status_code == 200
    again = await client.post(path, data={**fields, "password": PASSWORD})
    assert again.status_code == 410  # single use
    audit = [r["action"] for r in await services.pool.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert "console.sign_in" in audit and "console.password_set" in audit and "console.user_role" in audit
    # The password is stored as an argon2 hash, never as itself.
    stored = await services.pool.fetchval("SELECT password_hash FROM users")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_password_sign_in_starts_a_fresh_session_and_sign_out_ends_it(
        client: httpx.AsyncClient, services: Services) -> None:
    await _sign_in(client, services, "mod@example.com")
    first_cookie = client.cookies.get("attest_console", path="/console")
    page = await client.get("/console/sign-in")  # signed in: sent on
    assert page.status_code == 303
    client.cookies.clear()
    page = await client.get("/console/sign-in")
    r = await client.post("/console/sign-in", data={**_form(page.text, "/console/sign-in"),
                                                    "email": "mod@example.com", "password": PASSWORD})
    assert r.status_code == 303
    second_cookie = client.cookies.get("attest_console", path="/console")
    assert second_cookie and second_cookie != first_cookie  # the session id changes at sign-in
    home = await client.get("/console")
    r = await client.post("/console/sign-out", data={"csrf": _form(home.text, "/console/sign-out")["csrf"]})
    assert r.status_code == 303
    client.cookies.set("attest_console", second_cookie, path="/console")
    assert (await client.get("/console")).status_code == 303  # that session is over
    # And sign out everywhere ends every other session too.
    client.cookies.set("attest_console", first_cookie, path="/console")
    assert (await client.get("/console")).status_code == 200
    home = await client.get("/console")
    everywhere = _form(home.text.split('name="everywhere"')[0] + 'name="everywhere" value="1"></form>',
                       None)
    await client.post("/console/sign-out", data={"csrf": everywhere["csrf"], "everywhere": "1"})
    client.cookies.set("attest_console", first_cookie, path="/console")
    assert (await client.get("/console")).status_code == 303


async def test_wrong_passwords_are_limited_with_a_clear_message(client: httpx.AsyncClient,
                                                                services: Services) -> None:
    await _sign_in(client, services, "mod@example.com")
    client.cookies.clear()
    page = await client.get("/console/sign-in")
    fields = _form(page.text, "/console/sign-in")
    codes = []
    for _attempt in range(11):
        r = await client.post("/console/sign-in", data={**fields, "email": "mod@example.com", "password": "wrong!!"})
        codes.append(r.status_code)
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert "Too many attempts" in r.text
    # Even the right password waits out the window.
    r = await client.post("/console/sign-in", data={**fields, "email": "mod@example.com", "password": PASSWORD})
    assert r.status_code == 429
    services.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    r = await client.post("/console/sign-in", data={**fields, "email": "mod@example.com", "password": PASSWORD})
    assert r.status_code == 303
    failed = await services.pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'console.sign_in_failed'")
    assert failed == 10


async def test_a_form_without_its_csrf_token_is_refused(client: httpx.AsyncClient, services: Services,
                                                        tmp_path: Path) -> None:
    held = await _campaign(services, tmp_path)
    await _sign_in(client, services, "mod@example.com")
    page = await client.get(f"/console/reviews/{held[0]}")
    fields = _form(page.text, f"/console/reviews/{held[0]}/decision")
    fields.pop("csrf")
    r = await client.post(f"/console/reviews/{held[0]}/decision", data=fields)
    assert r.status_code == 400
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", held[0]) == "held"
    page = await client.get("/console/sign-in")


async def test_a_moderator_of_one_merchant_never_sees_another(client: httpx.AsyncClient, services: Services,
                                                              tmp_path: Path) -> None:
    mine = await _campaign(services, tmp_path, "tools-shop")
    theirs = await _campaign(services, tmp_path, "garden-shop",
                             body=CAMPAIGN.replace("cordless drill", "hedge trimmer"))
    assert mine and theirs
    await _sign_in(client, services, "mod@example.com", "moderator", "tools-shop")
    assert (await client.get(f"/console/reviews/{mine[0]}")).status_code == 200
    assert (await client.get(f"/console/reviews/{theirs[0]}")).status_code == 404
    queue = await client.get("/console/queue")
    assert f"#{mine[0]}" in queue.text and f"#{theirs[0]}<" not in queue.text
    page = await client.get(f"/console/reviews/{mine[0]}")
    fields = _form(page.text, f"/console/reviews/{mine[0]}/decision")
    r = await client.post(f"/console/reviews/{theirs[0]}/decision", data={**fields, "decision": "publish"})
    assert r.status_code == 404
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", theirs[0]) == "held"


async def test_the_queue_and_a_campaign_review_with_its_evidence(client: httpx.AsyncClient, services: Services,
                                                                 tmp_path: Path) -> None:
    held = await _campaign(services, tmp_path, body=CAMPAIGN + " <script>alert(1)</script>")
    await _sign_in(client, services, "mod@example.com")
    home = await client.get("/console")
    assert len(held) == 3 and "Held</a>: " in home.text and "the oldest has waited 0 minutes" in home.text
    services.clock.advance(timedelta(minutes=90))  # type: ignore[attr-defined]
    home = await client.get("/console")
    assert "the oldest has waited 90 minutes" in home.text
    queue = await client.get("/console/queue?tab=held")
    assert queue.status_code == 200
    assert all(f"#{rid}" in queue.text for rid in held)
    assert "<script>alert(1)</script>" not in queue.text and "&lt;script&gt;" in queue.text
    filtered = await client.get("/console/queue?tab=held&stars=1")
    assert f"#{held[0]}" not in filtered.text  # the filter lives in the URL
    page = await client.get(f"/console/reviews/{held[0]}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "<mark>" in page.text  # the shared passages, side by side
    assert "Every member of the campaign" in page.text and "distinct authors" in page.text
    assert "Timeline" in page.text and "Submitted" in page.text
    # Opening it claimed it: another moderator is told.
    await _sign_in(client, services, "lea@example.com")
    other = await client.get(f"/console/reviews/{held[0]}")
    assert "mod@example.com opened this review" in other.text
    metrics = (await client.get("/metrics", headers=METRICS_HEADERS)).text
    assert re.search(r"attest_oldest_held_review_seconds [1-9]", metrics)


async def test_a_stale_decision_is_refused_and_a_campaign_is_rejected_in_bulk(
        client: httpx.AsyncClient, services: Services, tmp_path: Path) -> None:
    held = await _campaign(services, tmp_path)
    await _sign_in(client, services, "mod@example.com")
    page = await client.get(f"/console/reviews/{held[0]}")
    stale = _form(page.text, f"/console/reviews/{held[0]}/decision")
    r = await client.post(f"/console/reviews/{held[0]}/decision", data={**stale, "decision": "publish"})
    assert r.status_code == 303
    r = await client.post(f"/console/reviews/{held[0]}/decision", data={**stale, "decision": "publish"})
    assert r.status_code == 409 and "changed after you opened it" in r.text
    # The whole campaign from the second member's page: a confirmation first, then each on its own.
    page = await client.get(f"/console/reviews/{held[1]}")
    bulk = page.text[page.text.index('action="/console/bulk"'):]
    ids = re.findall(r'name="ids" value="(\d+)"', bulk.split("</form>")[0])
    csrf = _form(page.text, "/console/bulk")["csrf"]
    confirm = await client.post("/console/bulk", data={"csrf": csrf, "ids": ids, "decision": "reject",
                                                       "code": "bought"})
    assert confirm.status_code == 200 and "3 reviews at" in confirm.text
    assert await services.pool.fetchval("SELECT count(*) FROM reviews WHERE state = 'rejected'") == 0
    done = await client.post("/console/bulk", data={"csrf": csrf, "ids": ids, "decision": "reject", "code": "bought",
                                                    "confirmed": "1"})
    assert done.status_code == 200 and "3 reviews decided" in done.text
    states = [r["state"] for r in await services.pool.fetch("SELECT state FROM reviews WHERE id = ANY($1)", held)]
    assert states == ["rejected"] * 3
    per_review = await services.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'moderation.reject' AND row_id = ANY($1)", held)
    assert per_review == 3
    # The authors' notices wait out the grace period for an undo, then leave.
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'moderation.release'") == 4  # +publish
    services.clock.advance(seconds=services.settings.undo_seconds)  # type: ignore[attr-defined]
    async with make_worker(services) as worker:
        await worker.drain()
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'moderation.notice'") == 3
    decided = await client.get("/console/queue?tab=decided")
    assert all(f"#{rid}" in decided.text for rid in held)


def test_every_reason_code_is_documented() -> None:
    from reviews.collection.reasons import REASONS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for reason in REASONS:
        assert f"`{reason.code}`" in readme


@pytest.fixture(autouse=True)
def _outbox(services: Services) -> None:
    services.settings.outbox_dir.mkdir(parents=True, exist_ok=True)


async def test_rejected_reviews_are_kept_a_year_then_purged_and_audited(services: Services, tmp_path: Path) -> None:
    from reviews.moderation.decisions import decide

    held = await _campaign(services, tmp_path)
    async with services.pool.acquire() as conn:
        await decide(conn, held[0], "reject", moderator="ana", now=services.clock.now(), code="bought")
    services.clock.advance(timedelta(days=364))  # type: ignore[attr-defined]
    async with make_worker(services) as worker:
        await worker.drain()
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", held[0]) == "rejected"
    # The period is ATTEST_RETENTION_DAYS (400 by default): after a year the job looks again later.
    services.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    async with make_worker(services) as worker:
        await worker.drain()
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", held[0]) == "rejected"
    services.clock.advance(timedelta(days=40))  # type: ignore[attr-defined]
    async with make_worker(services) as worker:
        await worker.drain()
    assert await services.pool.fetchval("SELECT count(*) FROM reviews WHERE id = $1", held[0]) == 0
    purge = await services.pool.fetchrow("SELECT actor, before FROM audit_log WHERE action = 'retention.purge'")
    assert purge["actor"] == "retention" and purge["before"]["state"] == "rejected"
    # A published review is never purged.
    assert await services.pool.fetchval("SELECT count(*) FROM reviews WHERE state = 'published'") > 0


def test_retention_below_a_year_is_refused() -> None:
    from reviews.platform.settings import Settings

    with pytest.raises(ValueError, match="at least 365"):
        Settings.from_env({"ATTEST_RETENTION_DAYS": "30", "ATTEST_SECRET_KEY": "x"})
