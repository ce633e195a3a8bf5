"""The one normaliser of strings that arrive from outside (API bodies, platform webhooks, imports)."""

from __future__ import annotations

from typing import Any


def clean(value: Any) -> str | None:
    """The value as trimmed text; numbers (ids) become strings; None for blanks, booleans and anything
    that is not text. Length rules are the caller's: the API refuses, a webhook truncates."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def unstorable(value: str) -> str | None:
    """Why PostgreSQL cannot store this text (a field error), or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (lone surrogates)"
    return None
