"""A review as the public pages show it: the date its author wrote it, its verification and how it
was collected, the language it is written in when that is not the visitor's, the shop's reply, its
photos, and under a topic chip the words that mention the topic.

The words are the templates'; this module gives them the facts, with dates and numbers in the
visitor's locale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from widgets import dates
from widgets.pages import language
from widgets.public import is_verified, photo_alt, photo_path

# The platforms an import can come from (`reviews.import_source`), by the name they are known by (not
# translated). An import in Attest's own format names none, and says "another platform".
PLATFORMS = {"judgeme": "Judge.me", "yotpo": "Yotpo", "trustpilot": "Trustpilot"}


@dataclass(frozen=True)
class Day:
    text: str  # in the visitor's locale: "5 January 2026"
    iso: str  # for <time datetime>: "2026-01-05"

    @classmethod
    def of(cls, when: datetime, locale: Locale) -> Day:
        return cls(format_date(when, "long", locale=locale), when.date().isoformat())


@dataclass(frozen=True)
class Photo:
    href: str  # the full photo
    thumb: str
    width: int  # the thumbnail's, so the page reserves its space
    height: int
    alt: str


# A text in pieces, each marked or not: the words that mention a topic are <mark>ed.
Parts = list[tuple[str, bool]]


@dataclass(frozen=True)
class Shown:
    id: int
    rating: int
    stars: str
    title: str
    body: str
    author: str  # "" when the author showed no name
    product_id: str | None
    product_name: str | None
    written: Day
    edited: Day | None
    verified: bool
    imported: bool
    platform: str | None  # an import's platform, when known
    language: str | None  # the language it is written in (a subtag for the lang attribute), if known
    language_label: str | None  # "polaco": set only when it is not the visitor's language
    reply: str | None
    replied: Day | None
    photos: list[Photo]
    title_parts: Parts
    body_parts: Parts


def stars(rating: float) -> str:
    full = round(rating)
    return "★" * full + "☆" * (5 - full)


def average(value: float | None, locale: Locale) -> str:
    return "" if value is None else format_decimal(value, "0.0", locale=locale)


def parts(text: str, spans: list[tuple[int, int]]) -> Parts:
    """The text cut at the spans (overlapping ones joined), each span's piece marked."""
    out: Parts = []
    at = 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        if start > at:
            out.append((text[at:start], False))
        if out and out[-1][1] and start == at:
            out[-1] = (out[-1][0] + text[start:end], True)
        else:
            out.append((text[start:end], True))
        at = end
    if at < len(text) or not out:
        out.append((text[at:], False))
    return out


def _spans(row: Any, field: str) -> list[tuple[int, int]]:
    return [(m["start"], m["end"]) for m in row["mentions"] or [] if m["field"] == field]


def review(row: Any, visitor: str, locale: Locale, gettext: Callable[[str], str], shop_name: str) -> Shown:
    code = language.primary(row["locale"])
    name = language.name_in(locale, code) if code else None
    edited = dates.edited_at(row)
    source = row.get("import_source") if hasattr(row, "get") else None
    return Shown(
        id=row["id"], rating=row["rating"], stars=stars(row["rating"]), title=row["title"] or "",
        body=row["body"] or "", author=row["display_name"] or "", product_id=row["product_id"],
        product_name=row["product_name"] or row["product_id"],
        written=Day.of(dates.written_at(row), locale), edited=Day.of(edited, locale) if edited else None,
        verified=is_verified(row), imported=row["method"] == "imported", platform=PLATFORMS.get(source or ""),
        # Only a language babel knows becomes a lang attribute: an import may carry any two letters.
        language=code if name else None, language_label=name if code != visitor else None,
        reply=row["reply"] or None, replied=Day.of(row["reply_at"], locale) if row["reply"] else None,
        photos=[Photo(photo_path(p["key"]), photo_path(p["key"], thumb=True), p["thumb_width"], p["thumb_height"],
                      photo_alt(gettext, p["caption"], row["display_name"],
                                row["product_name"] or row["product_id"] or shop_name))
                for p in row["photos"] or []],
        title_parts=parts(row["title"] or "", _spans(row, "title")),
        body_parts=parts(row["body"] or "", _spans(row, "body")),
    )
