"""Scoring detection against a labeled corpus (the `label`/`variant` fields of shared/eval).

A review counts as flagged when it has any flag. Every `bought` line is a positive, the
first of a campaign included. Of a `self_duplicate` pair the later line is a positive and
the earlier counts neither way. Every `genuine` line flagged is a false positive.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

SHORT = 60


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score(labeled: list[dict[str, Any]], flagged_ids: set[str]) -> dict[str, Any]:
    """Precision, recall and F1 per label and per variant, and false-positive rates."""
    firsts: dict[str, str] = {}
    for row in sorted((r for r in labeled if r.get("label") == "self_duplicate"),
                      key=lambda r: (r["created_at"], r["id"])):
        firsts.setdefault(row["campaign"], row["id"])
    positives: set[str] = set()
    negatives: set[str] = set()
    neutral: set[str] = set()
    for row in labeled:
        if row.get("label") == "bought":
            positives.add(row["id"])
        elif row.get("label") == "self_duplicate":
            (neutral if firsts[row["campaign"]] == row["id"] else positives).add(row["id"])
        else:
            negatives.add(row["id"])
    tp = len(positives & flagged_ids)
    fp = len(negatives & flagged_ids)
    fn = len(positives - flagged_ids)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else 0.0

    groups: dict[str, list[str]] = defaultdict(list)
    for row in labeled:
        if row["id"] in positives:
            groups[f"label:{row['label']}"].append(row["id"])
            groups[f"variant:{row.get('variant')}"].append(row["id"])
    per_group = {name: {"n": len(ids), "recall": _ratio(len(set(ids) & flagged_ids), len(ids))}
                 for name, ids in sorted(groups.items())}
    genuine = [r for r in labeled if r["id"] in negatives]
    short = [r for r in genuine if len((r.get("title") or "") + (r.get("body") or "")) < SHORT]
    return {
        "reviews": len(labeled), "flagged": len(flagged_ids), "positives": len(positives),
        "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
        "groups": per_group,
        "fpr_genuine": _ratio(sum(r["id"] in flagged_ids for r in genuine), len(genuine)),
        "fpr_genuine_short": _ratio(sum(r["id"] in flagged_ids for r in short), len(short)),
        "genuine": len(genuine), "genuine_short": len(short),
        "false_positives": sorted(negatives & flagged_ids),
        "missed": sorted(positives - flagged_ids),
    }


TARGETS = {
    "variant:exact": 0.95, "variant:light_edit": 0.95, "variant:cross_merchant": 0.95,
    "variant:resubmission": 0.95, "variant:paraphrase": 0.75,
}


def failures(result: dict[str, Any]) -> list[str]:
    """What misses the targets: recall per variant, precision >= 0.9, FPR <= 2% (all, short)."""
    problems = []
    for group, target in TARGETS.items():
        recall = result["groups"].get(group, {}).get("recall")
        if recall is not None and recall < target:
            problems.append(f"{group} recall {recall} < {target}")
    if (result["precision"] or 0) < 0.9:
        problems.append(f"precision {result['precision']} < 0.9")
    for key in ("fpr_genuine", "fpr_genuine_short"):
        if (result[key] or 0) > 0.02:
            problems.append(f"{key} {result[key]} > 0.02")
    return problems
