"""The public shape of a review: what any website may read, nothing that identifies the author."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

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


def review(row: Record) -> dict[str, Any]:
    return {
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
    }
