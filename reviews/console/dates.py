"""Dates as people read them: in the visitor's time zone (their browser's, which console.js records
in a cookie; UTC until it has), in their language, with the exact time and zone on hover and the
machine-readable instant in `<time datetime>`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from babel.core import Locale
from babel.dates import format_date, format_datetime, format_time
from markupsafe import Markup, escape

ZONE_COOKIE = "attest_console_tz"


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_of(value: str | None) -> str:
    """A time zone name the server knows, or UTC."""
    value = unquote(value or "")
    return value if value and len(value) <= 64 and value in _zones() else "UTC"


def text(value: datetime | date | None, zone: str, locale: Locale) -> str:
    """The short human form: "7 Dec 2026 13:32" (a date alone: "7 Dec 2026")."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return format_date(value, "medium", locale=locale)
    local = _local(value, zone)
    return f"{format_date(local, 'medium', locale=locale)} {format_time(local, 'short', locale=locale)}"


def exact(value: datetime, zone: str, locale: Locale) -> str:
    local = _local(value, zone)
    return f"{format_datetime(local, 'long', tzinfo=local.tzinfo, locale=locale)} ({zone})"


def element(value: datetime | date | None, zone: str, locale: Locale) -> Markup:
    """A `<time>` with the human form, the exact one in its title."""
    if value is None:
        return Markup("")
    if not isinstance(value, datetime):
        return Markup('<time datetime="{0}">{1}</time>').format(value.isoformat(), text(value, zone, locale))
    instant = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return Markup('<time datetime="{0}" title="{1}">{2}</time>').format(
        instant.isoformat(timespec="seconds").replace("+00:00", "Z"), exact(value, zone, locale),
        escape(text(value, zone, locale)))


def _local(value: datetime, zone: str) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(ZoneInfo(zone))
