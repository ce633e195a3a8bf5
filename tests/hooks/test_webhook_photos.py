"""The photos in outgoing webhooks, against a real HTTP receiver on loopback: a published review's
approved photos reach the endpoint as `{url, thumb_url, width, height, alt}` with absolute addresses
from the base URL, inside the signed body; photos still waiting are not in it; the OpenAPI
document describes them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from reviews.collection import store as reviews
from reviews.hooks import endpoints
from reviews.hooks import events as hook_events
from reviews.intake import openapi
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.media import photos
from tests.media.flow import review_with_photo
from tests.webhook_receiver import Receiver, receiver

__all__ = ["receiver"]  # the fixture, used by name

Fixture = tuple[Merchant, str]
BASE = "https://reviews.shop.example"


@pytest.fixture
def svc(services: Services, clock: FrozenClock) -> Services:
    """Loopback endpoints allowed, a public base URL, and the clock at the real time (the library's
    verify() accepts a webhook-timestamp within five minutes of now)."""
    services.settings = replace(services.settings, webhooks_allow_private=True, base_url=BASE)
    clock.set(datetime.now(UTC).replace(microsecond=0))
    return services


async def _events(svc: Services, receiver: Receiver, secret: str) -> list[Any]:
    async with make_worker(svc) as worker:
        await worker.drain()
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]


@pytest.mark.slow
async def test_a_reviews_approved_photos_reach_the_endpoint_with_absolute_addresses(
        client: httpx.AsyncClient, svc: Services, merchant: Fixture, receiver: Receiver) -> None:
    async with svc.pool.acquire() as conn:
        _endpoint, secret = await endpoints.create(conn, merchant[0].id, receiver.url(), list(hook_events.EVENT_TYPES),
                                                   now=svc.clock.now(), actor="test", allow_private=True)
    _path, review_id = await review_with_photo(client, svc, merchant[1], photos.phone_jpeg(90, (1200, 900)))
    async with svc.pool.acquire() as conn:
        await reviews.publish(conn, review_id, svc.clock.now())
    (published,) = await _events(svc, receiver, secret)
    assert published["type"] == "review.published" and published["data"]["photos"] == []  # still waiting
    async with svc.pool.acquire() as conn:
        (photo,) = await moderation.approve(conn, [int(await conn.fetchval(
            "SELECT id FROM photos WHERE review_id = $1", review_id))], moderator="mod@example.com",
            now=svc.clock.now())
    updated = (await _events(svc, receiver, secret))[-1]
    assert updated["type"] == "review.updated" and updated["data"]["id"] == review_id
    key = photo.public_key
    assert updated["data"]["photos"] == [{
        "url": f"{BASE}/photos/{key}/photo.webp", "thumb_url": f"{BASE}/photos/{key}/thumb.webp",
        "width": photo.width, "height": photo.height, "alt": "Photo by Anna K. of Trail running shoes"}]
    # The addresses serve the photo shoppers see.
    for url in (updated["data"]["photos"][0]["url"], updated["data"]["photos"][0]["thumb_url"]):
        served = await client.get(url.removeprefix(BASE))
        assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    # The stored body keeps paths: the base URL is the one in force at each attempt.
    stored = await svc.pool.fetchval("SELECT body FROM webhook_deliveries ORDER BY id DESC LIMIT 1")
    assert f'"url":"/photos/{key}/photo.webp"' in stored


def test_the_openapi_document_describes_the_photos() -> None:
    data = openapi.document(BASE)["components"]["schemas"]["ReviewEventData"]
    assert "photos" in data["required"]
    item = data["properties"]["photos"]["items"]
    assert item["required"] == ["url", "thumb_url", "width", "height", "alt"]
    assert set(item["properties"]) == {"url", "thumb_url", "width", "height", "alt"}


def test_a_body_without_photos_is_sent_as_stored() -> None:
    body = hook_events.message("review.published", {"id": 1, "photos": []}, datetime(2026, 1, 1, tzinfo=UTC))
    assert hook_events.with_base_url(body, BASE) == body
