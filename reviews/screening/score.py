"""How strongly a held review's flags say it is not an honest buyer's own words: one graded number
in [0, 1) that orders the moderators' queue, and the facts of the flag that weighs most, from which
the desk says why in one sentence ("0.93: a near copy of a review in another shop").

Each kind is graded by what its evidence measures, never saturating at 1.00: an exact copy above a
near copy, which rises with the share of text in common; a campaign with the number of its authors;
a burst with how unlikely it is against the shop's own history; a copy in another shop weighs more
than one in the same shop. A review's further flags add a little, each less than the last.
Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

CEILING = 0.99
_FURTHER = 0.3  # how much a further flag closes of the gap left to 1


@dataclass(frozen=True)
class Score:
    value: float
    kind: str  # the flag that weighs most
    facts: dict[str, Any] = field(default_factory=dict)  # what its sentence says: counts, shares, shops


def _shops(evidence: dict[str, Any]) -> int:
    merchants = evidence.get("merchants") or []
    return len(set(merchants)) if isinstance(merchants, list) else 1


def grade(kind: str, raw: float, evidence: dict[str, Any]) -> Score:
    """One flag's weight and the facts that say why."""
    elsewhere = _shops(evidence) > 1
    related = [i for i in evidence.get("related") or [] if isinstance(i, int)]
    if kind == "exact_duplicate":
        value = 0.88 + (0.06 if elsewhere else 0.0) + (0.03 if float(evidence.get("gap_hours", 1e9)) < 72 else 0.0)
        return Score(value, kind, {"num": max(len(related), 1), "elsewhere": elsewhere})
    if kind in ("near_duplicate", "self_duplicate"):
        share = min(max(float(raw), 0.5), 1.0)
        if kind == "self_duplicate":  # the same buyer twice: more often a double post than a fake
            return Score(0.3 + 0.2 * share, kind, {"share": share})
        value = 0.5 + 0.3 * (share - 0.5) / 0.5 + (0.05 if elsewhere else 0.0)
        return Score(value, kind, {"num": max(len(related), 1), "share": share, "elsewhere": elsewhere})
    if kind == "campaign":
        authors = max(int(evidence.get("authors") or raw or 3), 2)
        value = min(1.0 - 1.2 / authors + (0.04 if elsewhere else 0.0), CEILING)
        return Score(value, kind, {"num": authors, "shops": _shops(evidence), "elsewhere": elsewhere})
    if kind == "burst":  # about the window, not the text: never above a copy
        value = min(0.55, 0.2 + 0.035 * max(float(raw), 0.0))
        return Score(value, kind, {"num": int(evidence.get("count") or len(related)),
                                   "stars": int(evidence.get("rating") or 0)})
    if kind == "photo_copy":
        return Score(0.5 + 0.4 * min(max(float(raw), 0.0), 1.0), kind)
    if kind == "import_moderation":
        return Score(0.5, kind)
    return Score(0.5 * min(max(float(raw), 0.0), 1.0), kind)


def of_flags(flags: Iterable[tuple[str, float, dict[str, Any] | None]]) -> Score:
    """The review's score from its open flags as (kind, raw score, evidence)."""
    grades = sorted((grade(kind, raw, evidence or {}) for kind, raw, evidence in flags),
                    key=lambda s: s.value, reverse=True)
    if not grades:
        return Score(0.0, "")
    value = grades[0].value
    for further in grades[1:]:
        value += _FURTHER * further.value * (1.0 - value)
    return Score(round(min(value, CEILING), 2), grades[0].kind, grades[0].facts)

