"""The merchant's CSV/JSONL export names the photos shoppers see with each review (their addresses,
in order), and none that waits for a moderator or was refused."""

from __future__ import annotations

import httpx
import pytest

from reviews.collection import listing
from reviews.collection import store as reviews
from reviews.media import serving
from reviews.media import store as photo_store
from reviews.merchants.model import Merchant
from reviews.moderation import photos as moderation
from reviews.platform.services import Services
from tests.media import photos
from tests.media.flow import review_with_photo, send

Fixture = tuple[Merchant, str]


@pytest.mark.slow
async def test_the_export_lists_the_shown_photos_addresses(client: httpx.AsyncClient, merchant: Fixture,
                                                          services: Services) -> None:
    path, review_id = await review_with_photo(client, services, merchant[1], photos.phone_jpeg(85, (800, 600)))
    assert (await send(client, path, ("b.jpg", photos.phone_jpeg(86, (800, 600))))).status_code == 200
    assert (await send(client, path, ("c.jpg", photos.phone_jpeg(87, (800, 600))))).status_code == 200
    first, second, third = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, review_id, services.clock.now())
        await moderation.approve(conn, [first.id, third.id], moderator="mod", now=services.clock.now())
        await moderation.reject(conn, [second.id], "not_product", moderator="mod", now=services.clock.now())
    base = "https://reviews.example"
    rows = [row async for row in listing.export(services.pool, merchant[0].id, base_url=base)]
    assert set(rows[0]) == set(listing.EXPORT_FIELDS)
    assert rows[0]["photos"] == " ".join(base + serving.public_path(p.public_key) for p in (first, third))
    relative = [row async for row in listing.export(services.pool, merchant[0].id)]
    assert relative[0]["photos"].startswith("/photos/")
    # The shop's page of the review has every photo, refused ones too, for its owner to see or report.
    page = await listing.review(services.pool, merchant[0].id, review_id)
    assert page is not None and [(p.id, p.state) for p in page.photos] == [
        (first.id, "approved"), (second.id, "rejected"), (third.id, "approved")]
