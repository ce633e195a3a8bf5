"""The detection benches' table: the corpus as it is, each draw of the spread variant, the worst."""

from __future__ import annotations

from typing import Any


def cell(value: object) -> str:
    return "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


ROWS = [
    ("precision", lambda r: r["precision"]),
    ("recall", lambda r: r["recall"]),
    *[(f"  {v}", lambda r, v=v: r["groups"].get(f"variant:{v}", {}).get("recall"))
      for v in ("exact", "light_edit", "resubmission", "cross_merchant", "translation", "paraphrase")],
    ("false flags, genuine", lambda r: r["fpr_genuine"]),
    ("  < 60 chars", lambda r: r["fpr_genuine_short"]),
    ("  shop's first 30 days", lambda r: r["by_history"]["first_days"]["fpr"]),
    ("  later", lambda r: r["by_history"]["later"]["fpr"]),
    ("  1-2★", lambda r: r["by_stars"]["1-2"]["fpr"]),
    ("  4-5★", lambda r: r["by_stars"]["4-5"]["fpr"]),
]


def table(results: dict[str, Any]) -> str:
    columns = [("burst", results["burst"])] + [(f"s{seed}", r) for seed, r in results["draws"].items()]
    lines = [f"{'':24}" + "".join(f"{name:>7}" for name, _ in columns) + f"{'worst':>7}{'mean':>7}"]
    w = results["worst"]
    for label, get in ROWS:
        line = f"{label:24}" + "".join(f"{cell(get(r)):>7}" for _, r in columns)
        if label.strip() in ("1-2★", "4-5★"):
            key = label.strip().rstrip("★")
            line += f"{cell(w['by_stars'][key]['fpr']):>7}"
        elif label.strip() == "shop's first 30 days":
            line += f"{cell(w['by_history']['first_days']['fpr']):>7}"
        elif label.strip() == "later":
            line += f"{cell(w['by_history']['later']['fpr']):>7}"
        elif label.strip() in ("precision", "recall", "false flags, genuine", "< 60 chars"):
            key = {"false flags, genuine": "fpr_genuine", "< 60 chars": "fpr_genuine_short"}.get(label.strip(),
                                                                                                   label.strip())
            line += f"{cell(w[key]):>7}"
        else:
            group = w["groups"].get(f"variant:{label.strip()}", {})
            line += f"{cell(group.get('recall')):>7}{cell(group.get('mean')):>7}"
        lines.append(line)
    lines.append(f"{'  1-2★ vs 4-5★ gap, worst':24}{cell(w['star_gap']):>7}")
    return "\n".join(lines)
