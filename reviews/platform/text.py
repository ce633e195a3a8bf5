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
