"""The transparency figures (`widgets.transparency`) formatted for the visitor: numbers, shares and
durations in their locale, each reject reason with its label (translated by the template)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from babel import Locale
from babel.dates import format_timedelta
from babel.numbers import format_percent

from widgets.pages.present import Day
from widgets.transparency import Figures


@dataclass(frozen=True)
class Shown:
    figures: Figures
    start: Day
    end: Day
    reasons: list[tuple[str | None, int]]  # (English label, or None for a code the application did not name; count)
    to_publication: str | None
    to_decision: str | None
    to_reply: str | None
    answered_share: str | None  # "80 %", None when nothing could be answered
    negative_answered_share: str | None


def duration(value: timedelta | None, locale: Locale) -> str | None:
    if value is None:
        return None
    return format_timedelta(value, granularity="minute", threshold=1.5, format="long", locale=locale)


def share(part: int, whole: int, locale: Locale) -> str | None:
    return format_percent(part / whole, locale=locale) if whole else None


def shown(figures: Figures, reasons: Mapping[str, str], locale: Locale) -> Shown:
    return Shown(
        figures=figures, start=Day.of(figures.start, locale), end=Day.of(figures.end, locale),
        reasons=[(reasons.get(code), n) for code, n in figures.rejected_by_reason],
        to_publication=duration(figures.to_publication, locale), to_decision=duration(figures.to_decision, locale),
        to_reply=duration(figures.to_reply, locale),
        answered_share=share(figures.answered, figures.answerable, locale),
        negative_answered_share=share(figures.negative_answered, figures.negative, locale),
    )
