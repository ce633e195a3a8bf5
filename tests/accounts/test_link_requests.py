""""Email me a sign-in link" tells nobody who has an account: the request mails nothing itself and does
the same work (one queued job) for a known and an unknown address; the worker then mails the known one,
through the one message builder (Auto-Submitted and all)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest

from reviews.accounts import links, manage
from reviews.platform import jobs
from reviews.platform.services import Services
from tests.helpers import FormParser

KNOWN = "owner@example.com"


def _outbox(services: Services) -> list[EmailMessage]:
    folder = services.settings.outbox_dir
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        found.append(msg)
    return found


async def _ask_for_link(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/console/sign-in")
    html = page.text
    start = html.index('action="/console/sign-in/link"')
    parser = FormParser()
    parser.feed(html[html.rindex("<form", 0, start):html.index("</form>", start)])
    return await client.post("/console/sign-in/link", data={**dict(parser.fields), "email": email})


async def _queued(services: Services) -> list[dict[str, object]]:
    rows = await services.pool.fetch("SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", links.MAIL_JOB)
    return [r["payload"] for r in rows]


@pytest.mark.slow
async def test_a_link_request_mails_nothing_itself_and_queues_the_same_for_anyone(
        client: httpx.AsyncClient, services: Services) -> None:
    user, _link = await manage.invite(services, KNOWN, "moderator", None, actor="test", all_merchants=True)
    for path in services.settings.outbox_dir.glob("*.eml"):  # the invitation's own email
        path.unlink()

    known = await _ask_for_link(client, KNOWN.upper())
    unknown = await _ask_for_link(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert _outbox(services) == []  # nothing was mailed inside either request
    assert await _queued(services) == [{"user_id": user.id, "locale": "en"}, {"user_id": None, "locale": "en"}]

    async with jobs.Worker(pool=services.pool, dsn=services.dsn, tasks=links.tasks(services),
                           clock=services.clock) as worker:
        assert await worker.drain() == 2
    (mail,) = _outbox(services)
    assert mail["To"] == KNOWN
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_body(("plain",))
    assert body is not None and "/console/link/" in body.get_content()
    states = await services.pool.fetch("SELECT state FROM jobs WHERE kind = $1", links.MAIL_JOB)
    assert [r["state"] for r in states] == ["done", "done"]


@pytest.mark.slow
async def test_a_disabled_account_gets_no_link(client: httpx.AsyncClient, services: Services) -> None:
    await manage.invite(services, KNOWN, "moderator", None, actor="test", all_merchants=True)
    await manage.disable(services, KNOWN, actor="test")
    for path in services.settings.outbox_dir.glob("*.eml"):
        path.unlink()
    assert (await _ask_for_link(client, KNOWN)).status_code == 200
    assert await _queued(services) == [{"user_id": None, "locale": "en"}]
    async with jobs.Worker(pool=services.pool, dsn=services.dsn, tasks=links.tasks(services),
                           clock=services.clock) as worker:
        await worker.drain()
    assert _outbox(services) == []
