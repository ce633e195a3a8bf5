"""A review's photos in the merchants' inbox: each at a signed address (the shop sees them before
shoppers do), its moderation state in words, and which photo a report of the review is about."""

from __future__ import annotations

from typing import Any

from reviews.collection.listing import ReviewPage
from reviews.console.shops import Shop
from reviews.media import reasons, serving


def context(found: Shop, page: ReviewPage) -> dict[str, Any]:
    """What inbox_review.html's photos need: their signed addresses, positions, and refusal reasons."""
    signer = found.who.svc.signer
    return {"photo_urls": {p.id: (serving.signed_path(signer, p.id), serving.signed_path(signer, p.id, thumb=True))
                           for p in page.photos},
            "photo_numbers": {p.id: p.position + 1 for p in page.photos},
            "photo_reasons": {r.code: r.label for r in reasons.REASONS}}


def photo_id(value: str) -> int | None:
    """The photo a posted report names, if any (a report of the whole review names none). A malformed
    one is 0, which no photo has: the report is refused as one of another review's photo is."""
    if not value:
        return None
    return int(value) if value.isdigit() and len(value) < 19 else 0
