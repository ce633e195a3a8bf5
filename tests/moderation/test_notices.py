"""Issue 11: the author hears of a moderation decision (the notice email), and may appeal a
rejection once from their review link; the decision on the appeal is mailed too."""

from __future__ import annotations

import html as html_lib
import logging
import re
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
from babel.messages.pofile import read_po

from mailer.rendering import LOCALES_DIR as MAILER_LOCALES
from reviews.buyer.pages import LOCALES_DIR as PAGES_LOCALES
from reviews.collection.reasons import REASONS
from reviews.invitations import links, suppressions
from reviews.merchants.model import Merchant
from reviews.moderation import notices
from reviews.moderation.decisions import NOTICE_JOB, decide
from reviews.platform import jobs
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES
from reviews.worker import all_tasks
from tests.helpers import HOSTILE, FormParser, form_of, invite

Fixture = tuple[Merchant, str]
BODY = "The soles came off after two weeks of running on gravel."


@pytest.fixture
async def worker(services: Services) -> AsyncIterator[jobs.Worker]:
    """Only the notices: the review's scan (and the invitation itself) are not what is tested here."""
    async with jobs.Worker(pool=services.pool, dsn=services.dsn, tasks=notices.tasks(services),
                           clock=services.clock) as w:
        yield w


def outbox(svc: Services) -> list[EmailMessage]:
    folder = svc.settings.outbox_dir
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        found.append(msg)
    return found


def parts(msg: EmailMessage) -> tuple[str, str]:
    """The text part and the HTML part as they are (its non-ASCII characters as references)."""
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def reads(part: str) -> str:
    """What a reader sees of a part: references resolved, lines joined."""
    return " ".join(html_lib.unescape(part).split())


async def reviewed(client: httpx.AsyncClient, services: Services, key: str, **order: object) -> tuple[str, int]:
    """An invited buyer's review of the first product; its link and id."""
    path = await invite(client, services, key, **order)
    form = await form_of(client, path)
    assert form.action is not None
    r = await client.post(form.action, data={**form.fields, "rating_0": "2", "body_0": BODY})
    assert r.status_code == 200, r.text
    return path, int(await services.pool.fetchval("SELECT max(id) FROM reviews"))


async def reject(services: Services, review_id: int, code: str, *, note: str | None = None,
                 moderator: str = "ana") -> int:
    async with services.pool.acquire() as conn:
        result = await decide(conn, review_id, "reject", moderator=moderator, now=services.clock.now(), code=code,
                              note=note)
    return int(result["decision_id"])


async def notice_jobs(services: Services) -> list[str]:
    return [r["state"] for r in await services.pool.fetch("SELECT state FROM jobs WHERE kind = $1 ORDER BY id",
                                                          NOTICE_JOB)]


async def page_form(client: httpx.AsyncClient, path: str) -> tuple[str, FormParser]:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    form = FormParser()
    form.feed(page.text)
    return page.text, form


async def appeal(client: httpx.AsyncClient, path: str, text: str, csrf: str | None,
                 review: str = "0") -> httpx.Response:
    data = {"review": review, "appeal": text, **({"csrf": csrf} if csrf is not None else {})}
    return await client.post(path + "/appeal", data=data)


async def test_every_worker_has_the_notice_task(services: Services) -> None:
    assert NOTICE_JOB in all_tasks(services)


# --- the notice ------------------------------------------------------------------------------


async def test_a_rejected_author_hears_why_in_their_language_with_the_edit_link(
        client: httpx.AsyncClient, merchant: Fixture, services: Services, worker: jobs.Worker) -> None:
    _path, rid = await reviewed(client, services, merchant[1], locale="pl", email="jan.nowak@example.com",
                                name="Jan Nowak")
    decision_id = await reject(services, rid, "personal_data", note=f"Phone number removed? {HOSTILE}")
    await worker.drain()

    (msg,) = outbox(services)
    assert msg["To"].addresses[0].addr_spec == "jan.nowak@example.com"
    assert msg["Content-Language"] == "pl"
    assert msg["Subject"] == "Twoja opinia o sklepie Demo Shop nie została opublikowana"
    assert msg["Message-ID"] == links.message_id(services, "notice", decision_id)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"].startswith("<http://testserver/u/")
    text, html = parts(msg)
    for part in (reads(text), reads(html)):
        assert "Powód: Zawiera dane osobowe" in part  # the reason's label, translated
        assert "Dziękujemy za opinię o produkcie Trail running shoes." in part
        assert "możesz jeden raz złożyć odwołanie przez ten sam link" in part
    assert "Phone number removed? " + HOSTILE in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html  # the note, escaped
    link = re.search(r"http://testserver(/r/\S+)", text)
    assert link is not None and link.group(0) in html
    assert await notice_jobs(services) == ["done"]

    # The link opens the buyer's page, which says the same and offers the appeal form.
    page, form = await page_form(client, link.group(1))
    assert "Uzasadnienie moderatora: Zawiera dane osobowe" in page
    assert "Możesz zmienić opinię i wysłać ją ponownie" in page
    assert "body_0" in form.fields and "appeal" in form.fields

    await worker.drain()
    assert len(outbox(services)) == 1  # once


async def test_a_reason_that_allows_no_edit_sends_no_link_and_locks_the_review(
        client: httpx.AsyncClient, merchant: Fixture, services: Services, worker: jobs.Worker) -> None:
    path, rid = await reviewed(client, services, merchant[1])
    await reject(services, rid, "bought")
    await worker.drain()

    (msg,) = outbox(services)
    assert msg["Subject"] == "Your review for Demo Shop was not published"
    text, html = parts(msg)
    for part in (reads(text), reads(html)):
        assert "Reason: Copied or bought review" in part
        assert "This review cannot be changed and sent again." in part
        assert "appeal once from the link in your review invitation" in part
        assert "/r/" not in part and "Edit your review" not in part
        assert "Note from the moderator" not in part

    # The page shows the review without its fields, and no withdrawal that would let it be rewritten.
    page, form = await page_form(client, path)
    assert "This review cannot be changed and sent again. The moderator&#39;s reason: Copied or bought review" in page
    assert "body_0" not in form.fields and "appeal" in form.fields
    assert "/withdraw" not in page
    r = await client.post(path, data={**form.fields, "rating_0": "5", "body_0": "A completely different text now."})
    assert r.status_code == 422
    row = await services.pool.fetchrow("SELECT state, body FROM reviews WHERE id = $1", rid)
    assert (row["state"], row["body"]) == ("rejected", BODY)


async def test_a_suppressed_address_gets_no_notice(
        client: httpx.AsyncClient, merchant: Fixture, services: Services, worker: jobs.Worker) -> None:
    _path, rid = await reviewed(client, services, merchant[1])
    address_hash = await services.pool.fetchval("SELECT buyer_hash FROM orders")
    async with services.pool.acquire() as conn:
        await suppressions.add(conn, merchant[0].id, address_hash, "unsubscribed", services.clock.now())
    await reject(services, rid, "offensive")
    await worker.drain()
    assert outbox(services) == []
    assert await notice_jobs(services) == ["done"]


async def test_an_imported_review_without_an_address_completes_without_mail(
        services: Services, worker: jobs.Worker, caplog: pytest.LogCaptureFixture) -> None:
    mid = await services.pool.fetchval("INSERT INTO merchants (slug, name) VALUES ('m', 'M') RETURNING id")
    rid = await services.pool.fetchval(
        """INSERT INTO reviews (merchant_id, method, rating, body, state, submitted_at)
           VALUES ($1, 'imported', 1, 'Terrible, buy from the shop next door instead', 'held', now()) RETURNING id""",
        mid)
    decision_id = await reject(services, rid, "advertising")
    with caplog.at_level(logging.INFO, logger="attest.notices"):
        await worker.drain()
    assert outbox(services) == []
    assert await notice_jobs(services) == ["done"]
    skipped = [r for r in caplog.records if r.getMessage() == "notice not sent"]
    assert [(getattr(r, "decision", None), getattr(r, "reason", None)) for r in skipped] == [
        (decision_id, "no_address")]


async def test_a_legacy_reason_is_shown_as_written_and_the_review_stays_editable(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path, rid = await reviewed(client, services, merchant[1])
    await services.pool.execute("UPDATE reviews SET state = 'rejected', reject_reason = $2 WHERE id = $1", rid,
                                "Written before there were codes")
    page, form = await page_form(client, path)
    assert "The moderator&#39;s reason: Written before there were codes" in page
    assert "You can change your review and send it again." in page
    assert "body_0" in form.fields


def test_the_reason_labels_are_translated_for_pages_and_emails() -> None:
    for folder, domain in ((PAGES_LOCALES, "pages"), (MAILER_LOCALES, "mailer")):
        for lang in SUPPORTED_LOCALES:
            with (folder / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as f:
                catalog = read_po(f, locale=lang)
            for reason in REASONS:
                entry = catalog.get(reason.label)
                assert entry is not None and entry.string, (domain, lang, reason.code)
                if lang != "en":
                    assert entry.string != reason.label, (domain, lang, reason.code)


# --- the appeal ------------------------------------------------------------------------------


async def test_an_appeal_is_filed_once_with_its_form_token_and_shown_escaped(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path, rid = await reviewed(client, services, merchant[1])
    before = (await client.get(path)).text
    assert 'name="appeal"' not in before  # nothing to appeal yet
    await reject(services, rid, "offensive")
    page, form = await page_form(client, path)
    assert "The moderator&#39;s reason: Offensive" in page
    assert f'action="{path}/appeal?lang=en"' in page
    csrf = form.fields["csrf"]

    # Without the form's token, or with another link's: refused, and the text typed is kept (escaped).
    r = await appeal(client, path, HOSTILE, None)
    assert r.status_code == 400
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert(1)" not in r.text
    other = await invite(client, services, merchant[1], order_id="A-2002")
    r = await appeal(client, path, HOSTILE, (await form_of(client, other)).fields["csrf"])
    assert r.status_code == 400
    # Too short or too long: 422, the text kept.
    r = await appeal(client, path, "Unfair", csrf)
    assert r.status_code == 422 and "Write at least 10 characters." in r.text and ">Unfair</textarea>" in r.text
    r = await appeal(client, path, HOSTILE * 30, csrf)
    assert r.status_code == 422 and "Write at most 1,000 characters." in r.text
    assert "&lt;script&gt;" in r.text and "<script>alert" not in r.text
    assert await services.pool.fetchval("SELECT count(*) FROM appeals") == 0

    r = await appeal(client, path, HOSTILE, csrf)
    assert r.status_code == 200 and "Your appeal was received" in r.text
    filed = await services.pool.fetchrow("SELECT review_id, body, state FROM appeals")
    assert tuple(filed) == (rid, HOSTILE, "open")
    audit = await services.pool.fetchrow(
        "SELECT actor, action, table_name FROM audit_log WHERE action = 'review.appeal'")
    assert tuple(audit) == ("buyer", "review.appeal", "appeals")

    page, form = await page_form(client, path)
    assert "Another moderator is looking at your review." in page
    assert "appeal" not in form.fields and "/appeal" not in page  # no second form
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page

    r = await appeal(client, path, "Please look at it once more, I did buy these.", csrf)
    assert r.status_code == 409 and "already appealed" in r.text
    assert await services.pool.fetchval("SELECT count(*) FROM appeals") == 1


async def test_the_appeal_page_speaks_the_buyers_language(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path, rid = await reviewed(client, services, merchant[1], locale="de")
    await reject(services, rid, "conflict_of_interest")
    page, form = await page_form(client, path)
    assert "Begründung der Moderation: Interessenkonflikt" in page
    assert "Diese Bewertung kann nicht geändert und erneut gesendet werden." in page
    assert "Einspruch senden" in page
    r = await appeal(client, path, "Ich habe die Schuhe selbst gekauft und getragen.", form.fields["csrf"])
    assert r.status_code == 200 and "Ihr Einspruch ist eingegangen" in r.text


@pytest.mark.parametrize(("decision", "code", "subject", "says"), [
    ("publish", None, "Your review for Demo Shop is now published",
     "Another moderator looked at your review of Trail running shoes again and published it."),
    ("reject", "bought", "Your appeal about your review for Demo Shop",
     "again and upheld the decision: it will not be published."),
])
async def test_the_decision_on_an_appeal_emails_its_outcome(
        client: httpx.AsyncClient, merchant: Fixture, services: Services, worker: jobs.Worker,
        decision: str, code: str | None, subject: str, says: str) -> None:
    path, rid = await reviewed(client, services, merchant[1])
    await reject(services, rid, "duplicate")
    await worker.drain()
    _page, form = await page_form(client, path)
    r = await appeal(client, path, "This is my only review of these shoes, please check again.",
                     form.fields["csrf"])
    assert r.status_code == 200
    async with services.pool.acquire() as conn:
        result = await decide(conn, rid, decision, moderator="lea", now=services.clock.now(), code=code)
    assert result["on_appeal"] is True
    await worker.drain()

    first, outcome = outbox(services)
    assert first["Subject"] == "Your review for Demo Shop was not published"
    assert outcome["Subject"] == subject
    assert outcome["Message-ID"] == links.message_id(services, "notice", result["decision_id"])
    text, html = parts(outcome)
    assert says in reads(text) and says in reads(html)
    assert "appeal once" not in reads(text)  # an appeal is made once: no second invitation to appeal
    assert await services.pool.fetchval("SELECT state FROM appeals") == "decided"
    page = (await client.get(path)).text
    assert "/appeal" not in page
    if decision == "reject":
        assert "Reason: Copied or bought review" in text and "/r/" not in text
        assert "Another moderator looked at your appeal and upheld the decision." in page
    assert await notice_jobs(services) == ["done", "done"]
