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
    by_stars = {}
    for name, stars in (("1-2", (1, 2)), ("3", (3,)), ("4-5", (4, 5))):
        group = [r for r in genuine if int(r["rating"]) in stars]
        every = [r for r in labeled if int(r["rating"]) in stars]
        by_stars[name] = {"genuine": len(group),
                          "fpr": _ratio(sum(r["id"] in flagged_ids for r in group), len(group)),
                          "reviews": len(every),
                          "held": _ratio(sum(r["id"] in flagged_ids for r in every), len(every))}
    return {
        "reviews": len(labeled), "flagged": len(flagged_ids), "positives": len(positives),
        "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
        "groups": per_group,
        "fpr_genuine": _ratio(sum(r["id"] in flagged_ids for r in genuine), len(genuine)),
        "fpr_genuine_short": _ratio(sum(r["id"] in flagged_ids for r in short), len(short)),
        "genuine": len(genuine), "genuine_short": len(short), "by_stars": by_stars,
        "false_positives": sorted(negatives & flagged_ids),
        "missed": sorted(positives - flagged_ids),
    }


# The targets of issue 13, per variant of the corpus: "burst" as it is, "spread" with every
# campaign posted over months (`spread`).
TARGETS: dict[str, dict[str, float]] = {
    "burst": {"variant:exact": 0.95, "variant:light_edit": 0.95, "variant:cross_merchant": 0.95,
              "variant:resubmission": 0.95, "variant:translation": 0.95, "variant:paraphrase": 0.90,
              "precision": 0.95},
    "spread": {"variant:exact": 0.95, "variant:light_edit": 0.95, "variant:cross_merchant": 0.95,
               "variant:resubmission": 0.95, "variant:translation": 0.80, "variant:paraphrase": 0.60,
               "precision": 0.90},
}
MAX_FPR = 0.02
MAX_STAR_GAP = 0.02


def failures(result: dict[str, Any], variant: str = "burst") -> list[str]:
    """What misses the targets: recall per variant of campaign text, precision, false flags on
    genuine reviews (all, and short ones) and the gap between 1-2★ and 4-5★ false-flag rates."""
    problems = []
    targets = TARGETS[variant]
    for group, target in targets.items():
        if group == "precision":
            continue
        recall = result["groups"].get(group, {}).get("recall")
        if recall is not None and recall < target:
            problems.append(f"{group} recall {recall} < {target}")
    if (result["precision"] or 0) < targets["precision"]:
        problems.append(f"precision {result['precision']} < {targets['precision']}")
    for key in ("fpr_genuine", "fpr_genuine_short"):
        if (result[key] or 0) > MAX_FPR:
            problems.append(f"{key} {result[key]} > {MAX_FPR}")
    low, high = (result["by_stars"][k]["fpr"] or 0.0 for k in ("1-2", "4-5"))
    if abs(low - high) > MAX_STAR_GAP:
        problems.append(f"false flags 1-2★ {low} vs 4-5★ {high}: more than {MAX_STAR_GAP} apart")
    return problems


SPREAD_SEED = 20241


def spread(labeled: list[dict[str, Any]], seed: int = SPREAD_SEED) -> list[dict[str, Any]]:
    """The same corpus with every bought line's time redrawn uniformly over the corpus' period
    (fixed seed): a patient farm's campaign, posted over months instead of in a burst. Genuine
    and self-duplicate lines keep their times, so only the farm's behaviour changes."""
    import random
    from datetime import UTC, datetime

    def parse(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    times = [parse(r["created_at"]) for r in labeled]
    start, end = min(times).timestamp(), max(times).timestamp()
    rng = random.Random(seed)
    out = []
    for row in labeled:
        if row.get("label") == "bought":
            at = datetime.fromtimestamp(rng.uniform(start, end), tz=UTC).replace(microsecond=0)
            row = {**row, "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        out.append(row)
    return out
