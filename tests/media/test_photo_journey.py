"""Issue 23's "done when", end to end through the app: a buyer sends a phone photo with GPS in its EXIF
from the review page; a moderator approves it; shoppers get it without a byte of metadata; a second
buyer's review with the same photo, resized, is held with both photos side by side in its evidence;
the first buyer's erasure leaves no trace of the photo. (The consoles' Photos tab and the widgets
that show it are other pages over these same functions.)"""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image, ImageOps

from reviews.collection import store as reviews
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.platform.services import Services
from reviews.privacy import buyer_data
from tests.media import generated, photos
from tests.media.flow import review_with_photo

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]


async def test_a_photo_from_upload_to_erasure(client: httpx.AsyncClient, merchant: Fixture,
                                              services: Services) -> None:
    original = photos.phone_jpeg(90, (4000, 3000))
    assert b"SERIAL" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    _, first = await review_with_photo(client, services, merchant[1], original)
    now = services.clock.now()
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, first, now)  # its text passed the scan
        (waiting,), _ = await moderation.waiting(conn, None)
        await moderation.approve(conn, [waiting.photo.id], moderator="mod@attest.test", now=now)
    photo = waiting.photo
    served = await client.get(serving.public_path(photo.public_key))
    assert served.status_code == 200 and served.headers["cache-control"].endswith("immutable")
    shown = Image.open(io.BytesIO(served.content))
    assert shown.size == (1200, 1600) and not shown.getexif() and not shown.info.get("icc_profile")
    assert b"SERIAL" not in served.content and photos.webp_riff_chunks(served.content) in (["VP8"], ["VP8L"])

    saved = ImageOps.exif_transpose(Image.open(io.BytesIO(original)))  # as the page showed it, saved again
    copy = generated.jpeg(saved.resize((saved.width // 2, saved.height // 2)), quality=75)
    _, second = await review_with_photo(client, services, merchant[1], copy, order_id="B-2",
                                        email="jonas.becker@example.com", name="Jonas Becker")
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", second) == "held"
    (pair,) = await moderation.copies(services.pool, second)
    assert pair.other is not None and pair.other.id == photo.id and pair.photo is not None
    assert pair.other_review_id == first
    for side in (pair.photo, pair.other):  # side by side in the review's file, through signed addresses
        assert (await client.get(serving.signed_path(services.signer, side.id, thumb=True))).status_code == 200

    async with services.pool.acquire() as conn:
        await buyer_data.erase_buyer(conn, merchant[0].id, "anna.kowalska@example.com", hasher=services.hasher,
                                     now=services.clock.now(), actor="test")
    assert await photo_store.get(services.pool, photo.id) is None
    assert (await client.get(serving.public_path(photo.public_key))).status_code == 404
    for digest in (photo.image_digest, photo.thumb_digest):
        assert await services.pool.fetchval("SELECT count(*) FROM photo_blobs WHERE digest = $1", digest) == 0
    # The held review's evidence still names the pair; the erased side is simply gone.
    (after,) = await moderation.copies(services.pool, second)
    assert after.other is None and after.photo is not None
