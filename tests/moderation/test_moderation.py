import asyncio
import json

import pytest

from reviews import cli
from reviews.accounts import manage
from reviews.moderation.decisions import Conflict, decide
from reviews.platform.errors import ValidationError
from reviews.platform.services import Services


async def held_review(services: Services) -> int:
    async with services.pool.acquire() as conn:
        mid = await conn.fetchval("INSERT INTO merchants (slug, name) VALUES ('m', 'M') RETURNING id")
        rid = await conn.fetchval(
            """INSERT INTO reviews (merchant_id, method, rating, body, state, submitted_at)
               VALUES ($1, 'imported', 1, 'Terrible, buy from the shop next door instead', 'held', now())
               RETURNING id""", mid)
        await conn.execute("INSERT INTO flags (review_id, kind, score) VALUES ($1, 'campaign', 4)", rid)
    return rid


@pytest.mark.slow
async def test_publish_dismisses_the_flags_and_is_audited(services: Services) -> None:
    rid = await held_review(services)
    async with services.pool.acquire() as conn:
        result = await decide(conn, rid, "publish", moderator="ana", now=services.clock.now())
    assert result["state"] == "published"
    flag = await services.pool.fetchrow("SELECT state, decided_by FROM flags")
    assert (flag["state"], flag["decided_by"]) == ("dismissed", "ana")
    audit = await services.pool.fetchrow("SELECT actor, action, before, after FROM audit_log")
    assert (audit["actor"], audit["action"]) == ("ana", "moderation.publish")
    assert (audit["before"]["state"], audit["after"]["state"]) == ("held", "published")


@pytest.mark.slow
async def test_reject_needs_a_reason_code_and_keeps_it(services: Services) -> None:
    rid = await held_review(services)
    async with services.pool.acquire() as conn:
        with pytest.raises(ValidationError):
            await decide(conn, rid, "reject", moderator="ana", now=services.clock.now())
        with pytest.raises(ValidationError):
            await decide(conn, rid, "reject", moderator="ana", now=services.clock.now(), code="because")
        await decide(conn, rid, "reject", moderator="ana", now=services.clock.now(), code="bought",
                     note="Posted by a competitor's campaign")
    row = await services.pool.fetchrow("SELECT state, reject_reason FROM reviews")
    assert (row["state"], row["reject_reason"]) == ("rejected", "bought")
    assert await services.pool.fetchval("SELECT state FROM flags") == "upheld"
    decision = await services.pool.fetchrow("SELECT decision, code, note, moderator FROM moderation_decisions")
    assert tuple(decision) == ("reject", "bought", "Posted by a competitor's campaign", "ana")
    # The author is told, through a job (the same mail path as invitations).
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'moderation.notice'") == 1


@pytest.mark.slow
async def test_a_decision_on_a_changed_review_is_refused(services: Services) -> None:
    rid = await held_review(services)
    seen = (await services.pool.fetchrow("SELECT state, edited_at, submitted_at FROM reviews WHERE id = $1", rid))
    version = f"{seen['state']}:{(seen['edited_at'] or seen['submitted_at']).isoformat()}"
    async with services.pool.acquire() as conn:
        await decide(conn, rid, "publish", moderator="ana", now=services.clock.now(), version=version)
        with pytest.raises(Conflict):  # ana's decision changed its state: lea's view is stale
            await decide(conn, rid, "reject", moderator="lea", now=services.clock.now(), code="offensive",
                         version=version)
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", rid) == "published"


@pytest.mark.slow
async def test_moderate_command(services: Services, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    rid = await held_review(services)
    assert await asyncio.to_thread(cli.main, ["moderate", str(rid), "--reject"]) == 2
    assert "code" in capsys.readouterr().err
    assert await asyncio.to_thread(cli.main, ["moderate", str(rid), "--publish", "--by", "lea"]) == 1  # no such one
    assert "lea is not a console moderator" in capsys.readouterr().err
    await manage.invite(services, "lea@example.com", "moderator", None, actor="test", all_merchants=True)
    assert await asyncio.to_thread(cli.main, ["moderate", str(rid), "--publish", "--by", "lea@example.com"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "published"
    assert await asyncio.to_thread(cli.main, ["moderate", "999999", "--publish"]) == 2
