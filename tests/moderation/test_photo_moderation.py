"""Moderators' decisions on photos: the Photos tab's grid oldest first, approve one or all of a review's,
refuse with a reason code (audited, the shop's reports of it closed, its author told), decisions
scoped to the moderator's shops; a published review whose shown photos change is touched and its
shop's webhooks hear it. The worker emails the refused photo's author which photo and why, in their
language, through the real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message

import httpx
import pytest
from aiosmtpd.controller import Controller

from reviews.collection import reports
from reviews.collection import store as reviews
from reviews.hooks import endpoints
from reviews.hooks import events as hook_events
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.merchants.model import Merchant
from reviews.moderation import photo_notices
from reviews.moderation import photos as moderation
from reviews.platform import jobs
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.conftest import RecordingHandler, smtp_url
from tests.media import photos
from tests.media.flow import review_with_photo, send

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]
MOD = "ana@attest.test"


async def _review_photos(client: httpx.AsyncClient, services: Services, key: str, *seeds: int,
                         **order: object) -> tuple[int, list[Photo]]:
    path, review_id = await review_with_photo(client, services, key, photos.phone_jpeg(seeds[0], (800, 600)),
                                              **order)
    for seed in seeds[1:]:
        assert (await send(client, path, (f"{seed}.jpg", photos.phone_jpeg(seed, (800, 600))))).status_code == 200
    return review_id, (await photo_store.of_reviews(services.pool, [review_id]))[review_id]


async def test_the_photos_tab_lists_waiting_photos_oldest_first_within_scope(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    first, (a, b) = await _review_photos(client, services, merchant[1], 60, 61)
    services.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    second, (c,) = await _review_photos(client, services, merchant[1], 62, order_id="B-2", email="jonas@example.com")
    async with services.pool.acquire() as conn:
        found, total = await moderation.waiting(conn, None)
        assert [w.photo.id for w in found] == [a.id, b.id, c.id] and total == 3
        assert [w.others_waiting for w in found] == [1, 1, 0]
        assert (found[0].merchant, found[0].product_name, found[0].display_name) == (
            "demo-shop", "Trail running shoes", "Anna K.")
        assert await moderation.waiting(conn, [merchant[0].id + 1]) == ([], 0)  # another shop's moderator
        assert await moderation.waiting_count(conn, None) == 3
        # Approving all of the first review's photos leaves the other review's.
        approved = await moderation.approve_review(conn, first, moderator=MOD, now=services.clock.now())
        assert sorted(p.id for p in approved) == [a.id, b.id] and {p.state for p in approved} == {"approved"}
        assert [w.photo.id for w in (await moderation.waiting(conn, None))[0]] == [c.id]
        assert await moderation.approve_review(conn, first, moderator=MOD, now=services.clock.now()) == []
        with pytest.raises(NotFound):
            await moderation.approve(conn, [c.id], moderator=MOD, now=services.clock.now(),
                                     merchants=[merchant[0].id + 1])
        assert second


async def test_a_refusal_has_a_reason_is_audited_and_queues_the_authors_email(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    _, (photo,) = await _review_photos(client, services, merchant[1], 63)
    async with services.pool.acquire() as conn:
        with pytest.raises(ValidationError):
            await moderation.reject(conn, [photo.id], "ugly", moderator=MOD, now=services.clock.now())
        (refused,) = await moderation.reject(conn, [photo.id], "personal_data", moderator=MOD,
                                             now=services.clock.now())
    assert (refused.state, refused.reject_reason, refused.decided_by) == ("rejected", "personal_data", MOD)
    audit = await services.pool.fetchrow("SELECT * FROM audit_log WHERE table_name = 'photos' AND row_id = $1",
                                         photo.id)
    assert audit["action"] == "photo.reject" and audit["after"]["reason"] == "personal_data"
    queued = await services.pool.fetch("SELECT kind, payload FROM jobs WHERE kind = ANY($1::text[]) ORDER BY kind",
                                       [moderation.NOTICE_JOB, photo_store.PURGE_JOB])
    assert [(r["kind"], r["payload"]["photo_id"]) for r in queued] == [
        (moderation.NOTICE_JOB, photo.id), (photo_store.PURGE_JOB, photo.id)]
    # The author's page says so, in their words.
    page = (await client.get(await _link(services))).text
    assert "Not shown. The moderator&#39;s reason: Shows personal data, such as a face or an address label" in page


async def test_a_decision_closes_the_shops_report_of_the_photo(client: httpx.AsyncClient, merchant: Fixture,
                                                               services: Services) -> None:
    review_id, (photo,) = await _review_photos(client, services, merchant[1], 64)
    async with services.pool.acquire() as conn:
        report = await reports.report(conn, merchant_id=merchant[0].id, review_id=review_id, reason="offensive",
                                      note="A rude gesture in the photo", reporter="owner@shop.test", user_id=None,
                                      now=services.clock.now(), photo_id=photo.id)
        whole = await reports.report(conn, merchant_id=merchant[0].id, review_id=review_id, reason="other", note="",
                                     reporter="owner@shop.test", user_id=None, now=services.clock.now())
        assert report.id != whole.id and report.photo_id == photo.id
        with pytest.raises(NotFound):
            await reports.report(conn, merchant_id=merchant[0].id, review_id=review_id, reason="other", note="",
                                 reporter="owner@shop.test", user_id=None, now=services.clock.now(),
                                 photo_id=photo.id + 99)
        await moderation.reject(conn, [photo.id], "offensive", moderator=MOD, now=services.clock.now())
        states = {r.id: (r.state, r.outcome) for r in await reports.for_review(conn, review_id)}
    assert states == {report.id: ("closed", "rejected"), whole.id: ("open", None)}  # the review's own stays


async def test_a_change_to_what_shoppers_see_touches_the_review_and_tells_the_webhooks(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    review_id, (photo,) = await _review_photos(client, services, merchant[1], 65)
    now = services.clock.now()
    async with services.pool.acquire() as conn:
        await endpoints.create(conn, merchant[0].id, "http://127.0.0.1:9/hooks", list(hook_events.EVENT_TYPES), now=now,
                           actor="test", allow_private=True)
        await reviews.publish(conn, review_id, now)
    later = services.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    async with services.pool.acquire() as conn:
        await moderation.approve(conn, [photo.id], moderator=MOD, now=later)
    assert await services.pool.fetchval("SELECT updated_at FROM reviews WHERE id = $1", review_id) == later
    events = [r["event_type"] for r in await services.pool.fetch(
        "SELECT event_type FROM webhook_deliveries ORDER BY id")]
    assert events == ["review.published", "review.updated"]


async def _link(services: Services) -> str:
    from reviews.platform import tokens

    invitation = await services.pool.fetchval("SELECT max(id) FROM invitations")
    return "/r/" + services.signer.sign(tokens.REVIEW, {"i": invitation})


@pytest.fixture
async def smtp_services(services: Services, smtp_server: tuple[Controller, RecordingHandler]
                        ) -> AsyncIterator[Services]:
    services.settings = replace(services.settings, smtp_url=smtp_url(smtp_server[0]))
    yield services


def _photo_notices(handler: RecordingHandler) -> list[Message]:
    """The photo notices among what the server received (the buyer's invitation is there too)."""
    return [m for m in handler.messages if "<photo-notice-" in str(m["Message-ID"])]


def _text(sent: Message) -> str:
    parts = sent.get_payload()
    assert isinstance(parts, list)
    return str(parts[0].get_payload(decode=True).decode())


@pytest.mark.parametrize(("locale", "subject", "says"), [
    ("en", "A photo in your review for Demo Shop was not published",
     ["A moderator looked at the photo you added as number 2 and could not publish it.",
      "Reason: Not a photo of the product", "Its caption: My dog on the trail"]),
    ("de", "Ein Foto Ihrer Bewertung für Demo Shop wurde nicht veröffentlicht",
     ["Ein Moderator hat sich das Foto angesehen, das Sie als Nummer 2 hinzugefügt haben",
      "Kein Foto des Produkts", "Ihre Bildunterschrift: My dog on the trail"]),
])
async def test_the_author_of_a_refused_photo_is_emailed_why_in_their_language(
        client: httpx.AsyncClient, merchant: Fixture, smtp_services: Services,
        smtp_server: tuple[Controller, RecordingHandler], locale: str, subject: str, says: list[str]) -> None:
    services = smtp_services
    _, (first, second) = await _review_photos(client, services, merchant[1], 66, 67, locale=locale)
    await services.pool.execute("UPDATE photos SET caption = 'My dog on the trail' WHERE id = $1", second.id)
    async with services.pool.acquire() as conn:
        await moderation.reject(conn, [second.id], "not_product", moderator=MOD, now=services.clock.now())
        await moderation.reject(conn, [first.id], "not_own", moderator=MOD, now=services.clock.now())
        await moderation.approve(conn, [first.id], moderator=MOD, now=services.clock.now())  # on second thoughts
    async with make_worker(services) as worker:  # the job kind is registered with the worker
        await worker.drain()
    (sent,) = _photo_notices(smtp_server[1])  # the approved one's refusal is not sent
    assert sent["To"].endswith("<anna.kowalska@example.com>") and sent["Auto-Submitted"] == "auto-generated"
    assert str(make_header(decode_header(sent["Subject"]))) == subject and sent["Content-Language"] == locale
    text = " ".join(_text(sent).split())
    assert all(s in text for s in says), text
    assert "/r/" in text  # the link to replace it
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND state <> 'done'",
                                        moderation.NOTICE_JOB) == 0


async def test_no_email_for_a_photo_deleted_before_the_job_ran(
        client: httpx.AsyncClient, merchant: Fixture, smtp_services: Services,
        smtp_server: tuple[Controller, RecordingHandler]) -> None:
    services = smtp_services
    _, (photo,) = await _review_photos(client, services, merchant[1], 69)
    async with services.pool.acquire() as conn:
        await moderation.reject(conn, [photo.id], "offensive", moderator=MOD, now=services.clock.now())
        assert (await photo_notices.build(services, conn, photo.id)).message is not None
        await photo_store.delete(conn, [photo.id])  # its author removed it meanwhile
        assert (await photo_notices.build(services, conn, photo.id)).skip == "photo_deleted"
    async with make_worker(services) as worker:
        await worker.drain()
    assert _photo_notices(smtp_server[1]) == []


async def test_a_refused_photo_is_deleted_after_the_retention_period(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    from reviews.media import sweeping

    _, (photo,) = await _review_photos(client, services, merchant[1], 68)
    async with services.pool.acquire() as conn:
        await moderation.reject(conn, [photo.id], "offensive", moderator=MOD, now=services.clock.now())
    services.clock.advance(timedelta(days=services.settings.retention_days + 1))  # type: ignore[attr-defined]
    async with jobs.Worker(pool=services.pool, dsn=services.dsn, tasks=sweeping.tasks(services),
                           clock=services.clock) as worker:
        await worker.drain()
    assert await photo_store.get(services.pool, photo.id) is None
    assert await services.pool.fetchval("SELECT count(*) FROM photo_blobs") == 0
