"""The fixed reasons a moderator may refuse a photo for. A refused photo is not shown; its author
is told why and may remove it and add another (`reviews.moderation.photos`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # English, translated through the pages', the console's and the emails' catalogs


REASONS = (
    Reason("personal_data", "Shows personal data, such as a face or an address label"),
    Reason("not_product", "Not a photo of the product"),
    Reason("offensive", "Offensive"),
    Reason("not_own", "Not the author's own photo"),
)
BY_CODE = {r.code: r for r in REASONS}


def reason(code: str | None) -> Reason | None:
    return BY_CODE.get(code or "")
