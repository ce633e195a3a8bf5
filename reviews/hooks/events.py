"""What an outgoing webhook says: the event types, the message every attempt sends (and signs),
and a review's `data` in every review event.

Every message is `{"type", "timestamp", "data"}`. A review's `data` is the review as the widgets
show it, its times, state and whether it came from a verified order, never the buyer's address nor
any hash of theirs; `reviews.collection.hook_events` reads the review and emits its events in the
transaction of each change:

- `review.published`: the review is now public (after its scan, a moderator's decision, or again
  after an edit or a hold). The same review may be published more than once: keep the latest.
- `review.updated`: a review that was public changed: its author edited the text (it is `pending`
  until checked again, then `review.published` follows), or moderation held or rejected it
  (`state` says which). It is not public until a later `review.published`.
- `review.withdrawn`: its author withdrew it, or the buyer's data was erased (the text and name
  are then empty).
- `review.replied`: the shop replied publicly, or edited its reply.

A review's `photos` are those shoppers see (approved, in a published review; none otherwise), each
`{url, thumb_url, width, height, alt}`. The body is stored when the event happens, with the photos'
addresses as paths (`reviews.media.serving.public_path`); each attempt makes them absolute with the
service's base URL (`with_base_url`) before it signs and sends, so a message never carries a stale
host and the stored body needs no settings to be written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

REVIEW_PUBLISHED = "review.published"
REVIEW_UPDATED = "review.updated"
REVIEW_WITHDRAWN = "review.withdrawn"
REVIEW_REPLIED = "review.replied"
EVENT_TYPES = (REVIEW_PUBLISHED, REVIEW_UPDATED, REVIEW_WITHDRAWN, REVIEW_REPLIED)
# What the console's "send a test event" button sends, whatever the endpoint subscribed to.
TEST_EVENT = "webhook.test"


def message(event_type: str, data: dict[str, Any], now: datetime) -> str:
    """The body sent (and signed) on every attempt."""
    return json.dumps({"type": event_type, "timestamp": iso(now), "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


def iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


def review_data(row: Any, photos: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A review's `data` in every event (the OpenAPI document's `ReviewEventData`), from a row of the
    review, its shop's `slug` and its public reply (`reply_body`, `reply_created_at`, `reply_updated_at`),
    and the photos shoppers see of it (`photo`'s, in the author's order)."""
    reply = None
    if row["reply_body"]:
        reply = {"body": row["reply_body"], "created_at": iso(row["reply_created_at"]),
                 "updated_at": iso(row["reply_updated_at"])}
    return {
        "id": row["id"],
        "merchant": row["slug"],
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "rating": row["rating"],
        "title": row["title"],
        "body": row["body"],
        "display_name": row["display_name"],
        "language": row["locale"],
        "state": row["state"],
        "verified": row["method"] == "invited",
        "source": row["method"],
        "submitted_at": iso(row["submitted_at"]),
        "published_at": iso(row["published_at"]),
        "edited_at": iso(row["edited_at"]),
        "reply": reply,
        "photos": list(photos) if row["state"] == "published" else [],
    }


def photo(url: str, thumb_url: str, width: int, height: int, alt: str) -> dict[str, Any]:
    """One photo in a review's `data`: its addresses as paths (see the module docstring), its size, its alt text."""
    return {"url": url, "thumb_url": thumb_url, "width": width, "height": height, "alt": alt}


def with_base_url(body: str, base_url: str) -> str:
    """The stored body as an attempt sends it: the photos' paths made absolute with `base_url`."""
    if '"photos":[{' not in body:
        return body
    sent = json.loads(body)
    for shown in (sent.get("data") or {}).get("photos") or []:
        for key in ("url", "thumb_url"):
            if isinstance(shown.get(key), str) and shown[key].startswith("/"):
                shown[key] = base_url.rstrip("/") + shown[key]
    return json.dumps(sent, ensure_ascii=False, separators=(",", ":"))
