"""A buyer's photos in their data export (the stored WebP itself), and their erasure: every photo of
their reviews and every upload sent through their links, staged ones too, goes with its bytes, so
that no row of any table still holds a byte of it. Another buyer's photo stays whole."""

from __future__ import annotations

import base64

import httpx
import pytest

from reviews.collection import reports
from reviews.collection import store as reviews
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.platform.services import Services
from reviews.privacy import buyer_data
from tests.media import photos
from tests.media.flow import hidden, review_with_photo, send

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]
BUYER = "anna.kowalska@example.com"
OTHER = {"order_id": "B-2", "email": "jonas.becker@example.com", "name": "Jonas Becker"}


async def _tables_holding(services: Services, marker: str) -> list[str]:
    """Every table with a row whose text (all columns, bytea as hex) holds `marker`."""
    tables = [r["tablename"] for r in await services.pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
    return [t for t in tables
            if await services.pool.fetchval(f'SELECT count(*) FROM "{t}" x WHERE x::text ILIKE $1', f"%{marker}%")]


async def _traces(services: Services, photo: Photo, data: bytes) -> dict[str, str]:
    """What would show that a photo is still stored: its names, and slices of its bytes (hex, base64)."""
    thumb = await photo_store.blob(services.pool, photo.thumb_digest)
    assert thumb is not None
    return {"digest": photo.image_digest, "thumb digest": photo.thumb_digest, "public key": photo.public_key,
            "bytes": data[200:240].hex(), "thumb bytes": thumb[200:240].hex(),
            "base64": base64.b64encode(data[300:348]).decode()}


async def test_the_export_holds_the_photos_and_the_erasure_leaves_no_byte_of_them(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    shop = merchant[0]
    now = services.clock.now()
    path, mine = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(70, (1600, 1200)))
    # A second upload on the same link, for the socks, sent back for its short text and never sent again.
    r = await send(client, path, ("socks.jpg", photos.phone_jpeg(71, (800, 600))), field="upload_1", rating_1="4",
                   body_1="short")
    assert r.status_code == 422
    staged = await photo_store.get(services.pool, int(hidden(r.text, "photos_1")))
    _, theirs = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(72, (800, 600)), **OTHER)
    (photo,) = (await photo_store.of_reviews(services.pool, [mine]))[mine]
    (other,) = (await photo_store.of_reviews(services.pool, [theirs]))[theirs]
    assert staged is not None and staged.review_id is None
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, mine, now)
        await moderation.approve(conn, [photo.id, other.id], moderator="mod", now=now)
        await reports.report(conn, merchant_id=shop.id, review_id=mine, reason="personal_data",
                             note="Her street-xq9 is on the parcel", reporter="owner@shop.test", user_id=None,
                             now=now, photo_id=photo.id)
        data = await buyer_data.export(conn, shop.id, BUYER, hasher=services.hasher)
        (exported,) = data["reviews"][0]["photos"]
        stored = await photo_store.blob(conn, photo.image_digest)
        assert stored is not None and base64.b64decode(exported["data_base64"]) == stored
        assert (exported["state"], exported["media_type"], exported["width"]) == ("approved", "image/webp", 1200)
        assert [p["width"] for p in data["photos_not_sent"]] == [staged.width]
        await buyer_data.record_export(conn, shop.id, data, actor="test", now=now, hasher=services.hasher)
        traces = {**await _traces(services, photo, stored), **{
            f"staged {k}": v for k, v in (await _traces(services, staged, await photo_store.blob(
                conn, staged.image_digest) or b"")).items()}}
        for name, marker in traces.items():
            assert await _tables_holding(services, marker), name  # the markers do find what is there
        assert "data_exports" in await _tables_holding(services, traces["base64"])

        result = await buyer_data.erase_buyer(conn, shop.id, BUYER, hasher=services.hasher, now=now, actor="test")
    assert result["photos"] == 2
    for name, marker in traces.items():
        assert await _tables_holding(services, marker) == [], name
    assert await _tables_holding(services, "xq9") == []  # the shop's report of the photo, and its audit copy
    assert (await client.get(serving.public_path(photo.public_key))).status_code == 404
    # The other buyer's photo is whole.
    kept = await photo_store.get(services.pool, other.id)
    assert kept is not None and await photo_store.blob(services.pool, kept.image_digest)
    assert await services.pool.fetchval("SELECT count(*) FROM photos") == 1


async def test_the_retention_purge_takes_the_photos_with_the_review(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    _, mine = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(73, (800, 600)))
    (photo,) = (await photo_store.of_reviews(services.pool, [mine]))[mine]
    async with services.pool.acquire() as conn:
        await reviews.withdraw(conn, mine, services.clock.now())
        later = services.clock.now() + reviews.RETENTION_FLOOR
        assert await reviews.purge(conn, mine, later)
    assert await photo_store.get(services.pool, photo.id) is None
    assert await services.pool.fetchval("SELECT count(*) FROM photo_blobs") == 0
