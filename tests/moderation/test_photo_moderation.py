"""Moderators' decisions on photos: the Photos tab's grid oldest first, approve one or all of a review's,
refuse with a reason code (audited, the shop's reports of it closed, its author told), decisions
scoped to the moderator's shops; a published review whose shown photos change is touched and its
shop's webhooks hear it. The refusal email's data is ready for mailer's builder; the test stands one
in and sends it through the real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller

from mailer.message import build
from mailer.wire import OutgoingMessage
from reviews.collection import reports
from reviews.collection import store as reviews
from reviews.hooks import endpoints
from reviews.hooks import events as hook_events
from reviews.media import reasons
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.merchants.model import Merchant
from reviews.moderation import photo_notices
from reviews.moderation import photos as moderation
from reviews.platform import jobs
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.services import Services
from tests.conftest import RecordingHandler, smtp_url
from tests.media import photos
from tests.media.flow import review_with_photo, send

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


def _stand_in(email: photo_notices.PhotoRefusal, now: datetime) -> OutgoingMessage:
    """What mailer's builder will do, plainly: the test's stand-in, not shipped."""
    reason = email.catalog.gettext(email.reason)
    text = f"Your photo {email.position} of {email.product_name} is not shown: {reason}. {email.review_url or ''}"
    return build(from_name=email.branding.sender_name or email.branding.shop_name, from_address=email.from_address,
                 to_address=email.to_address, to_name=email.to_name, message_id=email.message_id,
                 locale=email.locale, subject="Your photo is not shown", text=text, html=f"<p>{text}</p>",
                 unsubscribe_url=email.unsubscribe_url, now=now)


@pytest.fixture
async def smtp_services(services: Services, smtp_server: tuple[Controller, RecordingHandler]
                        ) -> AsyncIterator[Services]:
    services.settings = replace(services.settings, smtp_url=smtp_url(smtp_server[0]))
    yield services


async def test_the_refusal_job_hands_mailer_what_the_email_says_and_sends_it(
        client: httpx.AsyncClient, merchant: Fixture, smtp_services: Services,
        smtp_server: tuple[Controller, RecordingHandler]) -> None:
    services = smtp_services
    _, (first, second) = await _review_photos(client, services, merchant[1], 66, 67)
    async with services.pool.acquire() as conn:
        await moderation.reject(conn, [second.id], "not_product", moderator=MOD, now=services.clock.now())
        notice = await photo_notices.refusal(services, conn, second.id)
        await moderation.reject(conn, [first.id], "not_own", moderator=MOD, now=services.clock.now())
        await moderation.approve(conn, [first.id], moderator=MOD, now=services.clock.now())  # on second thoughts
    assert isinstance(notice, photo_notices.Notice)
    email = notice.email
    assert (email.to_address, email.locale, email.position, email.product_name) == (
        "anna.kowalska@example.com", "en", 2, "Trail running shoes")
    assert email.reason == reasons.BY_CODE["not_product"].label and email.review_url
    async with jobs.Worker(pool=services.pool, dsn=services.dsn, tasks=photo_notices.tasks(services, _stand_in),
                           clock=services.clock) as worker:
        await worker.drain()
    (sent,) = smtp_server[1].messages  # the approved one's refusal is not sent
    assert sent["To"].endswith("<anna.kowalska@example.com>")
    assert "is not shown: Not a photo of the product" in sent.get_payload()[0].get_payload(decode=True).decode()
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND state <> 'done'",
                                        moderation.NOTICE_JOB) == 0


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
