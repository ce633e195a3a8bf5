"""The same photo in another review: held with a `photo_copy` flag and both photos as evidence when
another buyer (in any shop) or the same buyer for another order sends it, even resized; not when a
buyer uses their own photo again in their reviews of one order, nor for a different photo."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image, ImageOps

from reviews.collection import store as reviews
from reviews.media import fingerprint, processing
from reviews.media import store as photo_store
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.moderation import queue
from reviews.platform.services import Services
from reviews.screening import flags, photo_copies
from tests.helpers import invite
from tests.media import generated, photos
from tests.media.flow import TEXT, fields, review_with_photo, send

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]
OTHER = {"order_id": "B-2", "email": "jonas.becker@example.com", "name": "Jonas Becker"}


def _resized(data: bytes) -> bytes:
    """The photo as someone who saved it from a page sends it again: upright, a third of the size, re-encoded."""
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    return generated.jpeg(generated.resized(upright), quality=70)


async def _state_and_flags(services: Services, review_id: int) -> tuple[str, list[str]]:
    state = await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", review_id)
    kinds = [r["kind"] for r in await services.pool.fetch("SELECT kind FROM flags WHERE review_id = $1", review_id)]
    return state, kinds


async def test_another_buyers_review_with_the_same_photo_resized_is_held_with_both_photos(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    original = photos.phone_jpeg(50, (1600, 1200))
    _, first = await review_with_photo(client, services, merchant[1], original)
    _, second = await review_with_photo(client, services, merchant[1], _resized(original), **OTHER)
    assert await _state_and_flags(services, first) == ("pending", [])  # the earlier one may be the owner's
    assert await _state_and_flags(services, second) == ("held", [flags.PHOTO_COPY])
    evidence = await services.pool.fetchval("SELECT evidence FROM flags WHERE review_id = $1", second)
    assert evidence["related"] == [first] and evidence["threshold"] == fingerprint.THRESHOLD
    (pair,) = await moderation.copies(services.pool, second)
    assert pair.other_review_id == first and pair.distance <= fingerprint.THRESHOLD
    assert pair.photo is not None and pair.photo.review_id == second
    assert pair.other is not None and pair.other.review_id == first
    assert (pair.other_display_name, pair.other_state) == ("Anna K.", "pending")
    # The review's file in the moderators' console has both, side by side.
    file = await queue.review_file(services.pool, second, None)
    assert file is not None and [p.id for p in file.photos] == [pair.photo.id]
    assert [(c.photo and c.photo.id, c.other and c.other.id) for c in file.copies] == [(pair.photo.id, pair.other.id)]


async def test_a_copy_in_another_shop_is_found_too(client: httpx.AsyncClient, merchant: Fixture,
                                                   services: Services) -> None:
    original = photos.phone_jpeg(51, (1200, 900))
    _, first = await review_with_photo(client, services, merchant[1], original)
    async with services.pool.acquire() as conn:
        _, key = await merchants.create(conn, name="Second Shop", slug="second-shop",
                                        settings={"invite_delay_days": 0})
    _, second = await review_with_photo(client, services, key, _resized(original), **OTHER)
    assert await _state_and_flags(services, second) == ("held", [flags.PHOTO_COPY])
    evidence = await services.pool.fetchval("SELECT evidence FROM flags WHERE review_id = $1", second)
    assert evidence["related"] == [first]


async def test_a_buyers_own_photo_in_their_reviews_of_one_order_is_not_a_copy(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    same = photos.phone_jpeg(52, (1200, 900))
    r = await client.post(path, data={**(await fields(client, path)), "rating_0": "5", "body_0": TEXT,
                                      "rating_1": "4", "body_1": "Warm socks that dry overnight, good value."},
                          files=[("upload_0", ("a.jpg", same, "image/jpeg")),
                                 ("upload_1", ("a.jpg", _resized(same), "image/jpeg"))])
    assert r.status_code == 200, r.text
    ids = [r["id"] for r in await services.pool.fetch("SELECT id FROM reviews ORDER BY id")]
    assert len(ids) == 2
    for review_id in ids:
        assert await _state_and_flags(services, review_id) == ("pending", [])


async def test_the_same_buyers_photo_for_another_order_is_a_copy(client: httpx.AsyncClient, merchant: Fixture,
                                                                 services: Services) -> None:
    original = photos.phone_jpeg(53, (1200, 900))
    await review_with_photo(client, services, merchant[1], original)
    _, again = await review_with_photo(client, services, merchant[1], original, order_id="A-2")
    assert await _state_and_flags(services, again) == ("held", [flags.PHOTO_COPY])


async def test_a_different_photo_of_the_same_kind_is_not_a_copy(client: httpx.AsyncClient, merchant: Fixture,
                                                                services: Services) -> None:
    await review_with_photo(client, services, merchant[1], photos.phone_jpeg(54, (1200, 900)))
    _, other = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(55, (1200, 900)), **OTHER)
    assert await _state_and_flags(services, other) == ("pending", [])


async def test_a_copied_photo_added_to_a_published_review_holds_it(client: httpx.AsyncClient, merchant: Fixture,
                                                                    services: Services) -> None:
    original = photos.phone_jpeg(56, (1200, 900))
    await review_with_photo(client, services, merchant[1], original)
    path = await invite(client, services, merchant[1], **OTHER)
    assert (await send(client, path, rating_0="5", body_0=TEXT)).status_code == 200
    review_id = await services.pool.fetchval("SELECT max(id) FROM reviews")
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, review_id, services.clock.now())
    assert (await send(client, path, ("mine.jpg", _resized(original)))).status_code == 200  # the text unchanged
    assert await _state_and_flags(services, review_id) == ("held", [flags.PHOTO_COPY])


async def test_an_edit_of_the_text_leaves_the_photo_flag(client: httpx.AsyncClient, merchant: Fixture,
                                                         services: Services) -> None:
    original = photos.phone_jpeg(57, (1200, 900))
    await review_with_photo(client, services, merchant[1], original)
    _, second = await review_with_photo(client, services, merchant[1], original, **OTHER)
    async with services.pool.acquire() as conn:
        await flags.clear_stale(conn, second, services.clock.now())  # what the scan of an edited text does
    assert await _state_and_flags(services, second) == ("held", [flags.PHOTO_COPY])


async def test_the_check_job_flags_an_imported_reviews_photo(client: httpx.AsyncClient, merchant: Fixture,
                                                             services: Services) -> None:
    original = photos.phone_jpeg(58, (1200, 900))
    _, first = await review_with_photo(client, services, merchant[1], original)
    _, second = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(59, (1200, 900)), **OTHER)
    # The first review's photo in the second as well, as an import's fetch would store it later.
    processed = processing.process(original)
    async with services.pool.acquire() as conn:
        await photo_store.add_imported(conn, review_id=second, merchant_id=merchant[0].id,
                                       source_url="https://cdn.example/p.jpg", position=1, processed=processed,
                                       now=services.clock.now())
        async with conn.transaction():
            raised = await photo_copies.check(services, conn, [second], services.clock.now())
    assert [f.review_id for f in raised] == [second]
    assert raised[0].evidence["related"] == [first]


