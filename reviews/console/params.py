"""A page's query string read leniently: a value that makes no sense is left out (None), not an
error, so that a hand-edited or stale URL still shows the page."""

from __future__ import annotations

from datetime import date


def whole(value: str | None, low: int, high: int) -> int | None:
    if value and value.strip().isdigit():
        n = int(value)
        return n if low <= n <= high else None
    return None


def day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def share(value: str | None) -> float | None:
    """A fraction from 0 to 1."""
    try:
        n = float(value) if value else None
    except ValueError:
        return None
    return n if n is not None and 0.0 <= n <= 1.0 else None
