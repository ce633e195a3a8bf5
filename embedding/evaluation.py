"""Scoring detection against a labeled corpus (the `label`/`variant` fields of shared/eval).

A review counts as flagged when it has any flag. Every `bought` line is a positive, the
first of a campaign included. Of a `self_duplicate` pair the later line is a positive and
the earlier counts neither way. Every `genuine` line flagged is a false positive.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

SHORT = 60
# A shop's first days: too few older reviews for a background of its own (issue 26, thin history).
FIRST_DAYS = 30


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
    # Genuine reviews posted in their shop's first FIRST_DAYS days (counted from the shop's first
    # review of any label) against the rest: where a background is thin, false flags gather.
    opened: dict[str, datetime] = {}
    for row in labeled:
        at = _parse(row["created_at"])
        opened[row["merchant"]] = min(opened.get(row["merchant"], at), at)
    thin = [r for r in genuine if _parse(r["created_at"]) < opened[r["merchant"]] + timedelta(days=FIRST_DAYS)]
    settled = [r for r in genuine if r not in thin]
    by_history = {name: {"genuine": len(group), "fp": sum(r["id"] in flagged_ids for r in group),
                         "fpr": _ratio(sum(r["id"] in flagged_ids for r in group), len(group))}
                  for name, group in (("first_days", thin), ("later", settled))}
    return {
        "reviews": len(labeled), "flagged": len(flagged_ids), "positives": len(positives),
        "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
        "groups": per_group,
        "fpr_genuine": _ratio(sum(r["id"] in flagged_ids for r in genuine), len(genuine)),
        "fpr_genuine_short": _ratio(sum(r["id"] in flagged_ids for r in short), len(short)),
        "genuine": len(genuine), "genuine_short": len(short), "by_stars": by_stars,
        "by_history": by_history,
        "false_positives": sorted(negatives & flagged_ids),
        "missed": sorted(positives - flagged_ids),
    }


# The targets per variant of the corpus: "burst" as it is, "spread" with every campaign posted over
# months (`spread`), held on every draw of times (issue 26's table).
TARGETS: dict[str, dict[str, float]] = {
    "burst": {"variant:exact": 1.0, "variant:light_edit": 1.0, "variant:cross_merchant": 1.0,
              "variant:resubmission": 1.0, "variant:translation": 0.95, "variant:paraphrase": 0.90,
              "precision": 0.95},
    "spread": {"variant:exact": 1.0, "variant:light_edit": 1.0, "variant:cross_merchant": 1.0,
               "variant:resubmission": 1.0, "variant:translation": 0.80, "variant:paraphrase": 0.60,
               "precision": 0.95},
}
# Over the draws of times, on average: issue 26 asks paraphrase recall >= 0.70 (and >= 0.60 on every
# draw) and translation recall >= 0.90 (its figure of one draw; every draw keeps at least the 0.80 of
# before, above).
MEAN_TARGETS: dict[str, dict[str, float]] = {"burst": {},
                                             "spread": {"variant:paraphrase": 0.70, "variant:translation": 0.90}}
MAX_FPR = 0.01
MAX_FPR_SHORT = 0.02
MAX_STAR_GAP = 0.01


def failures(result: dict[str, Any], variant: str = "burst") -> list[str]:
    """What misses the targets in one run: recall per variant of campaign text, precision, false
    flags on genuine reviews (all, and short ones) and the gap between 1-2★ and 4-5★ false-flag rates."""
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
    for key, limit in (("fpr_genuine", MAX_FPR), ("fpr_genuine_short", MAX_FPR_SHORT)):
        if (result[key] or 0) > limit:
            problems.append(f"{key} {result[key]} > {limit}")
    low, high = (result["by_stars"][k]["fpr"] or 0.0 for k in ("1-2", "4-5"))
    if abs(low - high) > MAX_STAR_GAP + 1e-9:
        problems.append(f"false flags 1-2★ {low} vs 4-5★ {high}: more than {MAX_STAR_GAP} apart")
    return problems


def draws_failures(results: dict[int, dict[str, Any]], variant: str = "spread") -> list[str]:
    """What misses the targets over several draws of times: each draw held to `failures`, and the
    mean over the draws to MEAN_TARGETS."""
    problems = [f"draw {seed}: {problem}" for seed, result in results.items() for problem in failures(result, variant)]
    for group, target in MEAN_TARGETS[variant].items():
        values = [r["groups"][group]["recall"] for r in results.values() if group in r["groups"]]
        if values and sum(values) / len(values) < target:
            problems.append(f"{group} mean recall over {len(values)} draws {sum(values) / len(values):.4f} < {target}")
    return problems


def worst(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst of each figure over several runs (lowest precision and recalls, highest false-flag
    rates and star gap), with the mean recall per group: a table row of its own."""
    groups = sorted({g for r in results for g in r["groups"]})

    def low(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return min(known) if known else None

    def high(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return max(known) if known else None

    return {
        "precision": low([r["precision"] for r in results]),
        "recall": low([r["recall"] for r in results]),
        "groups": {g: {"n": results[0]["groups"].get(g, {}).get("n"),
                       "recall": low([r["groups"].get(g, {}).get("recall") for r in results]),
                       "mean": round(sum(r["groups"][g]["recall"] for r in results if g in r["groups"])
                                     / max(1, sum(g in r["groups"] for r in results)), 4)}
                   for g in groups},
        "fpr_genuine": high([r["fpr_genuine"] for r in results]),
        "fpr_genuine_short": high([r["fpr_genuine_short"] for r in results]),
        "by_stars": {k: {"fpr": high([r["by_stars"][k]["fpr"] for r in results])} for k in ("1-2", "3", "4-5")},
        "star_gap": high([abs((r["by_stars"]["1-2"]["fpr"] or 0) - (r["by_stars"]["4-5"]["fpr"] or 0))
                          for r in results]),
        "by_history": {k: {"fpr": high([r["by_history"][k]["fpr"] for r in results])}
                       for k in ("first_days", "later")},
    }


SPREAD_SEED = 20241
# The quality gate's draws of times for the spread variant, beside SPREAD_SEED's run through the
# real pipeline (tests/embedding/test_detection_quality.py).
GATE_SEEDS = (1, 2, 3, 4, 5)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def spread(labeled: list[dict[str, Any]], seed: int = SPREAD_SEED) -> list[dict[str, Any]]:
    """The same corpus with every bought line's time redrawn uniformly over the corpus' period
    (fixed seed): a patient farm's campaign, posted over months instead of in a burst. Genuine
    and self-duplicate lines keep their times, so only the farm's behaviour changes."""
    import random

    times = [_parse(r["created_at"]) for r in labeled]
    start, end = min(times).timestamp(), max(times).timestamp()
    rng = random.Random(seed)
    out = []
    for row in labeled:
        if row.get("label") == "bought":
            at = datetime.fromtimestamp(rng.uniform(start, end), tz=UTC).replace(microsecond=0)
            row = {**row, "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        out.append(row)
    return out


def parse_seeds(text: str) -> list[int]:
    """"1-8" or "1,3,5-7" as a list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds
