"""Photos on the review page, as a buyer without JavaScript sends them: a phone photo with GPS in its
EXIF becomes a clean WebP waiting for a moderator; a form sent back keeps every photo accepted and
everything typed; each hostile file is refused with a message next to its field and nothing of it
stored; an edit adds or removes photos; a withdrawal hides them at once."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from reviews.buyer import review_guard
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.platform.services import Services
from tests.helpers import invite
from tests.media import generated, photos
from tests.media.flow import TEXT, fields, hidden, review_with_photo, send

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]


async def _stored(services: Services) -> tuple[int, int]:
    return (await services.pool.fetchval("SELECT count(*) FROM photos"),
            await services.pool.fetchval("SELECT count(*) FROM photo_blobs"))


async def test_a_phone_photo_is_stored_clean_and_waits_for_a_moderator(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    _, review_id = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(1, (4000, 3000)))
    (photo,) = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    assert (photo.state, photo.source, photo.width, photo.height) == ("pending", "upload", 1200, 1600)
    data = await photo_store.blob(services.pool, photo.image_digest)
    assert data is not None and photos.webp_riff_chunks(data) in (["VP8"], ["VP8L"])
    assert photos.SERIAL.encode() not in data
    # Shoppers do not see it yet; its author does, through the signed address on their page.
    assert (await client.get(serving.public_path(photo.public_key))).status_code == 404
    assert (await client.get(serving.signed_path(services.signer, photo.id))).content == data


async def test_the_review_page_shows_the_photos_to_their_author(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path, review_id = await review_with_photo(client, services, merchant[1], photos.phone_jpeg())
    (photo,) = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    page = (await client.get(path)).text
    assert 'enctype="multipart/form-data"' in page and hidden(page, "photos_0") == str(photo.id)
    assert "A moderator checks it before it is shown." in page
    assert f'width="{photo.thumb_width}" height="{photo.thumb_height}"' in page
    assert 'alt="Photo by Anna K. of Trail running shoes"' in page
    assert "blob:" in (await client.get(path)).headers["content-security-policy"]
    assert "/static/review-photos.js" in page


async def test_a_form_sent_back_keeps_the_photo_and_the_text(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    r = await send(client, path, ("shoes.jpg", photos.phone_jpeg()), rating_0="5", body_0="Too short")
    assert r.status_code == 422
    assert "Too short</textarea>" in r.text
    kept = hidden(r.text, "photos_0")
    assert kept and (await photo_store.get(services.pool, int(kept))) is not None
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0
    # Sent again with the text mended and no file: the photo kept is the review's.
    r = await client.post(path, data={**await fields(client, path), "photos_0": kept, "rating_0": "5",
                                      "body_0": TEXT, "caption_" + kept: "After a muddy run"})
    assert r.status_code == 200, r.text
    assert "A moderator looks at each of your photos" in r.text
    photo = await photo_store.get(services.pool, int(kept))
    assert photo is not None and photo.review_id is not None and photo.caption == "After a muddy run"


async def test_each_hostile_file_is_refused_next_to_its_field_and_nothing_is_stored(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    hostile = {
        "bomb.png": (generated.png_bomb_header(), "has too many pixels"),
        "cut.jpg": (photos.truncated_jpeg(), "is incomplete"),
        "page.jpg": (photos.HTML_AS_JPG, "could not be read as a photo"),
        "drawing.svg": (photos.SVG_WITH_SCRIPT, "could not be read as a photo"),
        "archive.jpg": (photos.zip_as_jpg(), "could not be read as a photo"),
        "text.png": (generated.png_with_text_chunk(generated.scene(9, (300, 200))), "could not be read"),
        "moving.webp": (photos.animated_webp(), "is an animation"),
    }
    for name, (data, message) in hostile.items():
        r = await send(client, path, (name, data), rating_0="4", body_0=TEXT)
        assert r.status_code == 422, name
        assert f"“{name}” {message}" in r.text, name
        assert 'id="photos-error-0"' in r.text and f"{TEXT}</textarea>" in r.text
        assert await _stored(services) == (0, 0), name
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0


async def test_six_photos_where_five_are_allowed_are_all_refused(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    six = [(f"p{n}.jpg", photos.phone_jpeg(20 + n, (400, 300))) for n in range(6)]
    r = await send(client, path, *six, rating_0="5", body_0=TEXT)
    assert r.status_code == 422
    assert "You can add at most 5 photos to a review." in r.text
    assert await _stored(services) == (0, 0)
    five = await send(client, path, *six[:5], rating_0="5", body_0=TEXT)
    assert five.status_code == 200, five.text
    assert (await _stored(services))[0] == 5
    # A sixth added later is refused too, naming how many there are.
    more = await send(client, path, six[5], rating_0="5", body_0=TEXT)
    assert more.status_code == 422 and "It has 5 already" in more.text
    assert (await _stored(services))[0] == 5


async def test_twenty_uploads_a_minute_from_one_link_are_refused_after_the_limit(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    photo = photos.phone_jpeg(30, (400, 300))
    answers = []
    for _ in range(20):  # the clock does not move: twenty within the same minute (each one a new photo)
        answers.append((await send(client, path, ("again.jpg", photo), rating_0="5", body_0="short",
                                   photos_0="")).status_code)
    assert answers[:10] == [422] * 10  # each photo taken, the text too short each time
    assert answers[10:] == [429] * 10
    assert (await _stored(services))[0] == 10  # the refused ones stored nothing


async def test_a_file_over_15_mb_is_refused_by_name(client: httpx.AsyncClient, merchant: Fixture,
                                                    services: Services) -> None:
    path = await invite(client, services, merchant[1])
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (15 * 1024 * 1024 + 10)
    r = await send(client, path, ("huge.jpg", big), rating_0="5", body_0=TEXT)
    assert r.status_code == 422 and "“huge.jpg” is larger than 15 MB" in r.text
    assert await _stored(services) == (0, 0)


async def test_a_body_over_the_upload_limit_is_a_413_page(client: httpx.AsyncClient, merchant: Fixture,
                                                          services: Services, monkeypatch: object) -> None:
    path = await invite(client, services, merchant[1])
    setattr_ = monkeypatch.setattr  # type: ignore[attr-defined]
    setattr_(review_guard, "UPLOAD_MAX", 300_000)
    r = await send(client, path, ("a.jpg", photos.phone_jpeg(31, (1200, 900))), ("b.jpg", b"\x00" * 400_000),
                   rating_0="5", body_0=TEXT)
    assert r.status_code == 413 and "too large together" in r.text
    assert await _stored(services) == (0, 0)


async def test_photos_without_a_rating_ask_for_one_and_stay(client: httpx.AsyncClient, merchant: Fixture,
                                                             services: Services) -> None:
    path = await invite(client, services, merchant[1])
    r = await send(client, path, ("shoes.jpg", photos.phone_jpeg()))
    assert r.status_code == 422
    assert 'id="rating-error-0"' in r.text and hidden(r.text, "photos_0")


async def test_the_language_switch_keeps_the_photos(client: httpx.AsyncClient, merchant: Fixture,
                                                    services: Services) -> None:
    path = await invite(client, services, merchant[1])
    # The language buttons submit the form to the page in their language (formaction).
    r = await send(client, path + "?lang=de", ("shoes.jpg", photos.phone_jpeg()), switch_lang="de", body_0=TEXT)
    assert r.status_code == 200 and hidden(r.text, "photos_0")
    assert "Fotos hinzufügen" in r.text and "Noch nicht gesendet" in r.text and f"{TEXT}</textarea>" in r.text
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0


async def test_a_caption_typed_with_the_page_script_becomes_the_alt_text(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    r = await send(client, path, ("shoes.jpg", photos.phone_jpeg()), rating_0="5", body_0=TEXT,
                   newcaption_0_0='Sole after 200 km <script>')
    assert r.status_code == 200
    page = (await client.get(path)).text
    assert 'alt="Sole after 200 km &lt;script&gt;"' in page and "<script>" not in page.split("</head>")[1].split(
        '<script src="/static/review.js"')[0]


async def test_an_edit_adds_and_removes_photos_and_a_new_caption_waits_again(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path, review_id = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(40))
    (first,) = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    async with services.pool.acquire() as conn:
        await moderation.approve(conn, [first.id], moderator="mod@attest.test", now=services.clock.now())
    # Add a second photo, the text unchanged.
    r = await send(client, path, ("second.jpg", photos.phone_jpeg(41)))
    assert r.status_code == 200, r.text
    both = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    assert [p.state for p in both] == ["approved", "pending"]
    # A caption on the approved one sends it back to a moderator; ticking "remove" deletes the other.
    data = {**await fields(client, path), f"caption_{first.id}": "Grip", f"remove_{both[1].id}": "1"}
    assert (await client.post(path, data=data)).status_code == 200
    (left,) = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    assert (left.id, left.caption, left.state) == (first.id, "Grip", "pending")
    assert await photo_store.get(services.pool, both[1].id) is None
    assert await services.pool.fetchval("SELECT count(*) FROM photo_blobs WHERE digest = $1",
                                        both[1].image_digest) == 0


async def test_a_withdrawal_hides_the_photos_at_once(client: httpx.AsyncClient, merchant: Fixture,
                                                     services: Services) -> None:
    path, review_id = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(42))
    (photo,) = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    async with services.pool.acquire() as conn:
        from reviews.collection import store as reviews

        await reviews.publish(conn, review_id, services.clock.now())
        await moderation.approve(conn, [photo.id], moderator="mod@attest.test", now=services.clock.now())
    public = serving.public_path(photo.public_key)
    assert (await client.get(public)).status_code == 200
    form = await fields(client, path)
    r = await client.post(path + "/withdraw", data={"csrf": form["csrf"], "review": "0", "confirm": "yes"})
    assert r.status_code == 200
    assert (await client.get(public)).status_code == 404
    assert (await client.get(serving.public_path(photo.public_key, thumb=True))).status_code == 404


async def test_another_links_photo_cannot_be_claimed(client: httpx.AsyncClient, merchant: Fixture,
                                                     services: Services) -> None:
    _, theirs = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(43),
                                        order_id="B-2", email="jonas@example.com")
    (photo,) = (await photo_store.of_reviews(services.pool, [theirs]))[theirs]
    path = await invite(client, services, merchant[1], order_id="C-3", email="eve@example.com")
    r = await client.post(path, data={**await fields(client, path), "photos_0": str(photo.id), "rating_0": "5",
                                      "body_0": TEXT})
    assert r.status_code == 200
    assert (await photo_store.get(services.pool, photo.id)).review_id == theirs  # type: ignore[union-attr]
    assert "Photo by" not in (await client.get(path)).text


async def test_a_photo_served_to_its_author_is_a_webp_without_metadata(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    r = await send(client, path, ("shoes.jpg", photos.phone_jpeg()), rating_0="5", body_0="short")
    photo = await photo_store.get(services.pool, int(hidden(r.text, "photos_0")))
    assert photo is not None
    served = await client.get(serving.signed_path(services.signer, photo.id, thumb=True))
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == serving.PRIVATE_CACHE
    img = Image.open(io.BytesIO(served.content))
    assert img.size == (photo.thumb_width, photo.thumb_height) and not img.getexif()
