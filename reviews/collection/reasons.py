"""The fixed list of reasons a moderator may reject a review for, documented in the README.

Each says whether its author may edit the review and send it again: a text that broke a rule of
form (personal data, a link) can be mended; a review that is not a buyer's own cannot.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # English, translated through the console's and the emails' catalogs
    may_resubmit: bool


REASONS = (
    Reason("bought", "Copied or bought review", False),
    Reason("duplicate", "Duplicate by the same buyer", False),
    Reason("not_experience", "Not about an experience of the product", True),
    Reason("personal_data", "Contains personal data", True),
    Reason("offensive", "Offensive", True),
    Reason("advertising", "Advertising or links", True),
    Reason("conflict_of_interest", "Conflict of interest", False),
)
BY_CODE = {r.code: r for r in REASONS}


def reason(code: str | None) -> Reason | None:
    return BY_CODE.get(code or "")
