"""The dates a public surface shows of a review.

"The date" of a review, anywhere a shopper or a search engine reads it, is when its author wrote it:
`submitted_at`. An imported review keeps there the date its source gave it, so a review written in
2024 and imported today says 2024. `published_at` is only when Attest showed it (the import day for
every imported review) and is never shown as the review's date. An edit keeps the written date and
adds its own (`edited_at`), shown as "edited".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# The column, for SQL that sorts or filters by it.
WRITTEN_AT_COLUMN = "submitted_at"


def written_at(row: Any) -> datetime:
    """When the author wrote the review (a row of `reviews`, or anything with its columns)."""
    value: datetime = row[WRITTEN_AT_COLUMN]
    return value


def edited_at(row: Any) -> datetime | None:
    """When the author last changed the text, or None if they never did."""
    value: datetime | None = row["edited_at"]
    return value
