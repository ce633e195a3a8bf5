"""Photos on reviews, as moderation leaves them: processed like an upload and decided by a moderator
(approved, refused) or still waiting."""

from __future__ import annotations

from reviews.media import processing
from reviews.media import store as photo_store
from reviews.moderation import photos as moderation
from reviews.platform.services import Services
from tests.media import photos

_n = 0


async def add_photo(services: Services, merchant_id: int, review_id: int, state: str = "approved", *,
                    size: tuple[int, int] = (2000, 1500), caption: str = "") -> photo_store.Photo:
    """A photo of the review in `state` (approved, pending or rejected)."""
    global _n
    _n += 1
    processed = processing.process(photos.phone_jpeg(100 + _n, size, orientation=1))
    now = services.clock.now()
    async with services.pool.acquire() as conn:
        found = await photo_store.add_imported(conn, review_id=review_id, merchant_id=merchant_id,
                                               source_url=f"https://img.example/{_n}.jpg", position=_n,
                                               processed=processed, now=now)
        assert found is not None
        if caption:
            await conn.execute("UPDATE photos SET caption = $2 WHERE id = $1", found.id, caption)
        if state == "approved":
            await moderation.approve(conn, [found.id], moderator="mod", now=now)
        elif state == "rejected":
            await moderation.reject(conn, [found.id], "not_product", moderator="mod", now=now)
    return found
