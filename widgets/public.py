"""The public shape of a review: what any website may read, nothing that identifies the author."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from asyncpg import Record

from widgets.dates import written_at

_LANGUAGE = re.compile("[a-z]{2,3}")
# Characters XML 1.0 forbids even when escaped (controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def is_verified(row: Record) -> bool:
    # Only a review written from an invitation sent after a real order is verified; imports never are.
    return bool(row["method"] == "invited")


def language(locale: str | None) -> str | None:
    """A review's language as its primary subtag ("pl" for "pl-PL"), or None when it is unknown or not
    a well-formed code (what `Intl.DisplayNames` and Babel name)."""
    code = (locale or "").replace("_", "-").split("-")[0].lower()
    return code if _LANGUAGE.fullmatch(code) else None


# A photo's alt text without a caption, in the visitor's language: whose photo of what it is. The
# application's buyer pages say the same under the same message ids.
PHOTO_BY = "Photo by %(name)s of %(subject)s"
PHOTO_OF = "Photo of %(subject)s"


def photo_path(key: str, *, thumb: bool = False) -> str:
    """Where Attest serves a photo shoppers may see (the application's `/photos` route)."""
    return f"/photos/{quote(key, safe='')}/{'thumb' if thumb else 'photo'}.webp"


def photo_alt(gettext: Callable[[str], str], caption: str, display_name: str | None, subject: str) -> str:
    """The author's caption, else "Photo by Anna K. of Trail shoes" (the product's name, or the shop's
    for a review of the shop)."""
    if caption.strip():
        return caption.strip()
    if (display_name or "").strip():
        return gettext(PHOTO_BY) % {"name": (display_name or "").strip(), "subject": subject}
    return gettext(PHOTO_OF) % {"subject": subject}


def photos(row: Record, *, base_url: str, gettext: Callable[[str], str], shop_name: str) -> list[dict[str, Any]]:
    """The approved photos of a listed review (`widgets.listing`), in its author's order: the photo and
    its thumbnail with their sizes (a page reserves their space before they load) and the alt text."""
    subject = row["product_name"] or row["product_id"] or shop_name
    return [{"url": base_url + photo_path(p["key"]), "thumb_url": base_url + photo_path(p["key"], thumb=True),
             "width": p["width"], "height": p["height"], "thumb_width": p["thumb_width"],
             "thumb_height": p["thumb_height"], "alt": photo_alt(gettext, p["caption"], row["display_name"], subject)}
            for p in row["photos"] or []]


def review(row: Record, shown_photos: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A review as reviews.json has it; under a topic, `mentions` are the spans that mention it."""
    out = {
        "id": row["id"],
        "rating": row["rating"],
        "title": row["title"],
        "body": row["body"],
        "display_name": row["display_name"],
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "published_at": iso(row["published_at"]),
        "submitted_at": iso(written_at(row)),  # when it was written: the date to show
        "edited": row["edited_at"] is not None,
        "edited_at": iso(row["edited_at"]),
        "verified": is_verified(row),
        "collection_method": row["method"],
        "locale": row["locale"],
        # When the author wrote it (an import keeps its source's date), when they last edited it, in
        # which language, and how it was collected: what a widget shows.
        "written_at": iso(written_at(row)),
        "language": language(row["locale"]),
        "method": row["method"],
        # The platform an imported review came from ("judgeme", "yotpo", "trustpilot"), or None.
        "import_source": row["import_source"],
        # The shop's public reply, or None. Text only: every page that shows it escapes it.
        "reply": {"body": row["reply"], "replied_at": iso(row["reply_at"])} if row["reply"] else None,
        "photos": shown_photos or [],
    }
    if row["mentions"] is not None:
        out["mentions"] = row["mentions"]
    return out
