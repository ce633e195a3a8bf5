"""The moderators' Photos tab in-process: the grid oldest first with each photo's review, author, shop
and product and a copy's evidence side by side; approve, approve all of a review's, reject with a
reason (or Enter on the reason); the count in the queue's tabs; CSRF, roles, scopes and 404s. The
shop sees a review's photos in its inbox and reports one, which the Photos tab shows first."""

from __future__ import annotations

import re

import httpx
import pytest

from reviews.collection import store as reviews
from reviews.media import store as photo_store
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.platform.services import Services
from tests.console.test_console import _form, _sign_in
from tests.media import photos
from tests.media.flow import TEXT, review_with_photo, send
from tests.media.test_copies import OTHER, _resized

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]
DECIDE = "/console/photos/decide"


async def _two_reviews(client: httpx.AsyncClient, services: Services, key: str) -> tuple[int, int]:
    """Anna's review with two photos, then Jonas's with one: (Anna's review, Jonas's review)."""
    path, first = await review_with_photo(client, services, key, photos.phone_jpeg(70, (800, 600)))
    assert (await send(client, path, ("b.jpg", photos.phone_jpeg(71, (800, 600))))).status_code == 200
    _, second = await review_with_photo(client, services, key, photos.phone_jpeg(72, (800, 600)), **OTHER)
    return first, second


async def _states(services: Services) -> list[str]:
    return [r["state"] for r in await services.pool.fetch("SELECT state FROM photos ORDER BY id")]


def _card(page: str, photo_id: int) -> str:
    start = page.index(f'id="photo-{photo_id}"')
    end = re.compile(r"\n\s*</li>").search(page, start)  # the card's own end, not one of its list's items
    assert end is not None
    return page[start:end.start()]


async def test_the_grid_shows_each_waiting_photo_with_its_review_oldest_first(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    first, second = await _two_reviews(client, services, merchant[1])
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get("/console/photos")).text
    ids = [int(i) for i in re.findall(r'id="photo-(\d+)"', page)]
    assert len(ids) == 3 and ids == sorted(ids)  # oldest first
    card = _card(page, ids[0])
    assert f"Photo 1 of review #{first}" in card and TEXT in card
    assert "Anna K." in card and "Demo Shop" in card and "Trail running shoes" in card
    assert "The review is waiting for its check." in card
    assert "Approve this and 1 more of this review" in card and "Approve this and" not in _card(page, ids[2])
    assert "Shows personal data, such as a face or an address label" in card  # reasons in words
    thumb = re.search(r'<img src="(/photos/private/[^"]+)"', card)
    assert thumb is not None
    served = await client.get(thumb.group(1))
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert "Jonas B." in _card(page, ids[2]) and f"review #{second}" in _card(page, ids[2])
    assert "Photos (3)" in (await client.get("/console/queue")).text  # the count in the tabs


async def test_approve_reject_and_approve_all_of_a_review(client: httpx.AsyncClient, merchant: Fixture,
                                                          services: Services) -> None:
    first, _ = await _two_reviews(client, services, merchant[1])
    a, b, c = [int(r["id"]) for r in await services.pool.fetch("SELECT id FROM photos ORDER BY id")]
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get("/console/photos")).text
    fields = _form(page, DECIDE)
    # Without its CSRF token nothing happens.
    r = await client.post(DECIDE, data={**{k: v for k, v in fields.items() if k != "csrf"}, "photo": str(c),
                                        "do": "approve"})
    assert r.status_code == 400 and await _states(services) == ["pending"] * 3
    # A refusal needs a reason.
    r = await client.post(DECIDE, data={**fields, "photo": str(c), "do": "reject", "code": ""})
    assert r.status_code == 422 and "Choose approve, or reject with a reason." in r.text
    # Enter on the reason's list sends the form without a button: a refusal for that reason.
    r = await client.post(DECIDE, data={**fields, "photo": str(c), "code": "not_product"})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/photos?done=rejected")
    said = (await client.get(r.headers["location"])).text
    assert "Photo rejected as Not a photo of the product; its author will be emailed." in said
    # All of Anna's review's photos at once.
    r = await client.post(DECIDE, data={**fields, "photo": str(a), "review": str(first), "do": "approve_review"})
    assert r.status_code == 303
    assert "2 photos approved." in (await client.get(r.headers["location"])).text
    assert await _states(services) == ["approved", "approved", "rejected"]
    assert "No photo is waiting." in (await client.get("/console/photos")).text
    assert (await photo_store.get(services.pool, b)).state == "approved"  # type: ignore[union-attr]


async def test_scopes_roles_and_unknown_photos(client: httpx.AsyncClient, merchant: Fixture,
                                               services: Services) -> None:
    await _two_reviews(client, services, merchant[1])
    async with services.pool.acquire() as conn:
        await merchants.create(conn, name="Garden Shop", slug="garden-shop", locale="en", settings={})
    photo_id = int(await services.pool.fetchval("SELECT min(id) FROM photos"))
    assert (await client.get("/console/photos")).status_code in (302, 303)  # signed out: to sign in
    # A moderator of another shop sees none of these and cannot decide them.
    await _sign_in(client, services, "garden@example.com", "moderator", "garden-shop")
    page = await client.get("/console/photos")
    assert page.status_code == 200 and "No photo is waiting." in page.text and "/photos/private/" not in page.text
    fields = _form((await client.get("/console/account")).text, "/console/sign-out")
    for form in ({"photo": str(photo_id), "do": "approve"}, {"photo": str(photo_id), "do": "reject",
                                                              "code": "offensive"},
                 {"photo": str(photo_id), "review": "1", "do": "approve_review"},
                 {"photo": "999999", "do": "approve"}, {"photo": "x", "do": "approve"}):
        r = await client.post(DECIDE, data={"csrf": fields["csrf"], **form})
        assert r.status_code == 404, form
    assert await _states(services) == ["pending"] * 3
    # A shop's owner moderates nothing: no Photos tab.
    client.cookies.clear()
    await _sign_in(client, services, "owner@shop.example", "owner", merchant[0].slug)
    assert (await client.get(f"/console/m/{merchant[0].slug}")).status_code == 200
    assert (await client.get("/console/photos")).status_code == 404


async def test_a_copied_photo_is_shown_beside_the_other_reviews(client: httpx.AsyncClient, merchant: Fixture,
                                                                 services: Services) -> None:
    original = photos.phone_jpeg(73, (1600, 1200))
    _, first = await review_with_photo(client, services, merchant[1], original)
    _, second = await review_with_photo(client, services, merchant[1], _resized(original), **OTHER)
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get("/console/photos")).text
    mine = int(await services.pool.fetchval("SELECT id FROM photos WHERE review_id = $1", second))
    card = _card(page, mine)
    assert "The same photo is in another author's review." in card
    assert re.search(r"Distance \d+: photos 27 or less apart are one photo\.", card)
    assert f'href="/console/reviews/{first}">Review #{first}</a> · Anna K. · demo-shop' in card
    assert len(re.findall(r'<img src="/photos/private/', card)) == 3  # its own, then both side by side
    # A moderator of another shop only would not see the other review; here both are the same shop.
    assert "The other photo is in a shop you do not moderate" not in card
    # The held review's file names its flag in words and lays out both photos there too.
    assert "same photo as another author's" in (await client.get("/console/queue")).text
    file = (await client.get(f"/console/reviews/{second}")).text
    assert "Flag: same photo as another author's" in file
    section = file[file.index('id="review-photos"'):file.index("</section>", file.index('id="review-photos"'))]
    assert "Waiting for a moderator" in section and "The same photo is in another author's review." in section
    assert len(re.findall(r'<img src="/photos/private/', section)) == 3


async def test_the_shop_sees_a_reviews_photos_and_reports_one_to_the_photos_tab(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    first, second = await _two_reviews(client, services, merchant[1])
    a, b, c = [int(r["id"]) for r in await services.pool.fetch("SELECT id FROM photos ORDER BY id")]
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, first, services.clock.now())
        await moderation.approve(conn, [a], moderator="mod@example.com", now=services.clock.now())
        await moderation.reject(conn, [b], "not_product", moderator="mod@example.com", now=services.clock.now())
    shop = f"/console/m/{merchant[0].slug}"
    await _sign_in(client, services, "owner@shop.example", "owner", merchant[0].slug)
    page = (await client.get(f"{shop}/reviews/{first}")).text
    assert "Shown to shoppers" in _card(page, a) and "Not shown" in _card(page, b)
    assert "Not a photo of the product" in _card(page, b) and "Report this photo" not in _card(page, b)
    thumb = re.search(r'<img src="(/photos/private/[^"]+)"', _card(page, a))
    assert thumb is not None and (await client.get(thumb.group(1))).status_code == 200
    assert "Waiting for a moderator" in (await client.get(f"{shop}/reviews/{second}")).text
    form = _form(page, f"{shop}/reviews/{first}/report")
    action = f"{shop}/reviews/{first}/report"
    # Another review's photo, or a malformed one, is no photo of this review.
    for photo in (str(c), "x1"):
        assert (await client.post(action, data={**form, "photo": photo, "reason": "offensive"})).status_code == 404
    r = await client.post(action, data={**form, "photo": str(a), "reason": "personal_data",
                                        "note": "A parcel label with an address"})
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=photo-report")
    page = (await client.get(r.headers["location"])).text
    assert "Your report of the photo was sent to Attest's moderators." in page
    assert "About photo 1: <strong>Personal data</strong>: A parcel label with an address" in page
    # The moderators see it first in the Photos tab, with the shop's words, and keep it shown.
    client.cookies.clear()
    await _sign_in(client, services, "mod@example.com")
    queue_page = (await client.get("/console/queue")).text
    assert "Photos (2)" in queue_page  # Jonas's waiting one and the reported one
    # A photo's report waits in the Photos tab only: the review itself was not reported.
    assert f'href="/console/reviews/{first}' not in (await client.get("/console/queue?tab=reported")).text
    tab = (await client.get("/console/photos")).text
    ids = [int(i) for i in re.findall(r'id="photo-(\d+)"', tab)]
    assert ids == [a, c]
    card = _card(tab, a)
    assert "Reported by the shop" in card and "Personal data: A parcel label with an address" in card
    assert "Keep it shown" in card and "Approved" in card
    r = await client.post(DECIDE, data={**_form(tab, DECIDE), "photo": str(a), "do": "approve"})
    assert r.status_code == 303
    assert [int(i) for i in re.findall(r'id="photo-(\d+)"', (await client.get("/console/photos")).text)] == [c]
    client.cookies.clear()
    await _sign_in(client, services, "owner2@shop.example", "owner", merchant[0].slug)
    page = (await client.get(f"{shop}/reviews/{first}")).text
    assert "Outcome: a moderator looked at the photo and kept it." in page
