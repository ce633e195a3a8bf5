"""Serving photos from the database: shoppers get an approved photo of a published review at its
unguessable address, cached for a year, typed, unsniffable and unscriptable; everything else is the
same 404. The signed address serves any photo to whoever the page gave it, for a day."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import httpx
import pytest
from PIL import Image

from reviews.collection import store as reviews
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.platform.services import Services
from tests.media import photos
from tests.media.flow import review_with_photo

Fixture = tuple[Merchant, str]
MOD = "mod@attest.test"


async def _photo(client: httpx.AsyncClient, services: Services, key: str, seed: int = 1,
                 **order: str) -> tuple[int, Photo]:
    _, review_id = await review_with_photo(client, services, key, photos.phone_jpeg(seed), **order)
    (photo,) = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    return review_id, photo


@pytest.mark.slow
async def test_an_approved_photo_of_a_published_review_is_served_for_a_year(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    review_id, photo = await _photo(client, services, merchant[1])
    public, thumb = serving.public_path(photo.public_key), serving.public_path(photo.public_key, thumb=True)
    assert (await client.get(public)).status_code == 404  # pending, in a pending review
    async with services.pool.acquire() as conn:
        await moderation.approve(conn, [photo.id], moderator=MOD, now=services.clock.now())
    assert (await client.get(public)).status_code == 404  # approved, but the review is not published yet
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, review_id, services.clock.now())
    r = await client.get(public)
    assert r.status_code == 200
    assert r.content == await photo_store.blob(services.pool, photo.image_digest)
    assert r.headers["content-type"] == "image/webp"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["x-content-type-options"] == "nosniff"
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script" not in csp.replace("default-src", "")
    img = Image.open(io.BytesIO(r.content))
    assert img.format == "WEBP" and not img.getexif() and "icc_profile" not in img.info
    assert photos.webp_riff_chunks(r.content) in (["VP8"], ["VP8L"])
    small = await client.get(thumb)
    assert small.status_code == 200 and Image.open(io.BytesIO(small.content)).size == (photo.thumb_width,
                                                                                      photo.thumb_height)
    again = await client.get(public, headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content


@pytest.mark.slow
async def test_a_hold_or_a_rejection_hides_it_again(client: httpx.AsyncClient, merchant: Fixture,
                                                    services: Services) -> None:
    review_id, photo = await _photo(client, services, merchant[1])
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, review_id, services.clock.now())
        await moderation.approve(conn, [photo.id], moderator=MOD, now=services.clock.now())
    public = serving.public_path(photo.public_key)
    assert (await client.get(public)).status_code == 200
    async with services.pool.acquire() as conn:
        await reviews.hold(conn, review_id, services.clock.now())
    assert (await client.get(public)).status_code == 404
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, review_id, services.clock.now())
        await moderation.reject(conn, [photo.id], "not_product", moderator=MOD, now=services.clock.now())
    assert (await client.get(public)).status_code == 404


async def test_unknown_and_malformed_names_are_the_same_404(client: httpx.AsyncClient) -> None:
    for path in ("/photos/AAAAAAAAAAAAAAAAAAAAAA/photo.webp", "/photos/AAAAAAAAAAAAAAAAAAAAAA/other.webp",
                 "/photos/x/photo.webp", "/photos/%27%3B--/photo.webp", "/photos/private/nope"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.headers["cache-control"] == "no-store"


@pytest.mark.slow
async def test_the_signed_address_serves_any_photo_for_a_day(client: httpx.AsyncClient, merchant: Fixture,
                                                             services: Services) -> None:
    _, photo = await _photo(client, services, merchant[1])
    signed = serving.signed_path(services.signer, photo.id)
    r = await client.get(signed)
    assert r.status_code == 200 and r.headers["cache-control"] == "private, max-age=3600"
    assert r.headers["x-content-type-options"] == "nosniff" and r.content[:4] == b"RIFF"
    assert (await client.get(signed[:-2] + "xx")).status_code == 404
    services.clock.advance(timedelta(seconds=serving.SIGNED_MAX_AGE + 1))  # type: ignore[attr-defined]
    assert (await client.get(signed)).status_code == 404


@pytest.mark.slow
async def test_a_deleted_photo_is_gone_from_both_addresses(client: httpx.AsyncClient, merchant: Fixture,
                                                           services: Services) -> None:
    review_id, photo = await _photo(client, services, merchant[1])
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, review_id, services.clock.now())
        await moderation.approve(conn, [photo.id], moderator=MOD, now=services.clock.now())
    public, signed = serving.public_path(photo.public_key), serving.signed_path(services.signer, photo.id)
    assert (await client.get(public)).status_code == 200  # and now in this process's recent blobs
    async with services.pool.acquire() as conn:
        await photo_store.delete(conn, [photo.id])
    assert (await client.get(public)).status_code == 404
    assert (await client.get(signed)).status_code == 404
    assert await services.pool.fetchval("SELECT count(*) FROM photo_blobs") == 0


@pytest.mark.slow
async def test_requests_at_once_share_their_checks_and_each_gets_its_own_answer(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    shown_review, shown = await _photo(client, services, merchant[1], 3)
    _, hidden = await _photo(client, services, merchant[1], 4, order_id="B-2", email="jonas@example.com")
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, shown_review, services.clock.now())
        await moderation.approve(conn, [shown.id, hidden.id], moderator=MOD, now=services.clock.now())
    paths = [serving.public_path(p.public_key, thumb=n % 3 == 0) for n in range(30) for p in (shown, hidden)]
    answers = await asyncio.gather(*(client.get(path) for path in paths))
    assert [a.status_code for a in answers] == [200, 404] * 30  # the second photo's review is not published
    assert all(a.content[:4] == b"RIFF" for a in answers[::2])


async def test_a_database_out_of_reach_is_a_503_not_a_500(client: httpx.AsyncClient, monkeypatch: object) -> None:
    async def unreachable(conn: object, keys: object) -> None:
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr(photo_store, "published", unreachable)  # type: ignore[attr-defined]
    r = await client.get("/photos/AAAAAAAAAAAAAAAAAAAAAA/photo.webp")
    assert r.status_code == 503 and r.headers["retry-after"]
