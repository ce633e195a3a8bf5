"""How an author is named in public: the same rule for collected and imported reviews."""

from __future__ import annotations


def default_display_name(name: str | None) -> str:
    """First name and the initial of the last: "Anna K."."""
    parts = (name or "").split()
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."
