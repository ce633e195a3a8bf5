"""Detection quality on a labeled corpus, end to end through the real commands, on two variants:
the corpus as it is (its campaigns posted within days) and "spread" (every bought line's time
redrawn over the corpus' period: a patient farm).

    .venv/bin/python bench/detection.py tests/data/dev.jsonl [--spread-seeds 1-8] [--json]

Imports the corpus (without its label fields) into a fresh embedded database with
`attest import`, drains the worker with `attest worker --drain`, reads `attest flags
--format jsonl`, and prints the corpus as it is and each draw of the spread variant side by side,
with the worst of each figure over the draws: precision, recall per variant, the false-positive
rates on genuine reviews (all, under 60 characters, in each shop's first 30 days, by star rating),
recall and false flags per language, and the run's time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import cell, table

from embedding.evaluation import SPREAD_SEED, draws_failures, failures, parse_seeds, score, spread, worst

LABEL_FIELDS = ("label", "campaign", "variant")


def attest(env: dict[str, str], *args: str) -> str:
    exe = Path(sys.executable).with_name("attest")
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"attest {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def run_variant(labeled: list[dict], tmp: Path) -> dict:
    """One variant of the corpus through import, worker and flags in its own embedded database."""
    unlabeled = tmp / "corpus.jsonl"
    unlabeled.write_text("".join(
        json.dumps({k: v for k, v in row.items() if k not in LABEL_FIELDS}, ensure_ascii=False) + "\n"
        for row in labeled))
    # The tree this bench is in first on the path: the `attest` script would otherwise import whatever
    # checkout the virtualenv's editable install points at.
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "ATTEST_DATA_DIR": str(tmp / "data"), "ATTEST_LOG_LEVEL": "WARNING", "PYTHONPATH": path}
    env.pop("DATABASE_URL", None)
    t0 = time.perf_counter()
    attest(env, "import", str(unlabeled), "--create-merchants")
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    attest(env, "worker", "--drain")
    t_scan = time.perf_counter() - t0
    flags = [json.loads(line) for line in attest(env, "flags", "--format", "jsonl").splitlines() if line]
    flagged = {f["external_id"] for f in flags if f.get("external_id")}
    result = score(labeled, flagged)
    # Recall per language of the campaign text, and false flags per language of genuine reviews.
    by_lang: dict[str, dict[str, list[bool]]] = {}
    for row in labeled:
        entry = by_lang.setdefault(row.get("lang") or "?", {"recall": [], "fpr": []})
        if row.get("label") == "bought":
            entry["recall"].append(row["id"] in flagged)
        elif row.get("label") == "genuine":
            entry["fpr"].append(row["id"] in flagged)
    def share(hits: list[bool]) -> float | None:
        return round(sum(hits) / len(hits), 3) if hits else None

    result["by_language"] = {
        lang: {"positives": len(v["recall"]), "recall": share(v["recall"]), "genuine": len(v["fpr"]),
               "fpr": share(v["fpr"])}
        for lang, v in sorted(by_lang.items())}
    result["seconds"] = {"import": round(t_import, 1), "scan": round(t_scan, 1)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--spread-seeds", "--spread-seed", default=str(SPREAD_SEED),
                        help=f"the spread variant's draws of times, e.g. 1-8 or {SPREAD_SEED},1-4 (default "
                             f"{SPREAD_SEED}, the quality gate's pipeline run); each draw is a run of its own")
    args = parser.parse_args()
    labeled = [json.loads(line) for line in args.corpus.read_text().splitlines() if line.strip()]
    seeds = parse_seeds(args.spread_seeds)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name, rows in [("burst", labeled), *((f"s{seed}", spread(labeled, seed=seed)) for seed in seeds)]:
        print(f"[{time.perf_counter() - started:6.1f}s] {name}: import, scan, read flags ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="attest-bench-") as tmp:
            results[name] = run_variant(rows, Path(tmp))
    draws = {seed: results[f"s{seed}"] for seed in seeds}
    report = {"burst": results["burst"], "draws": draws, "worst": worst(list(draws.values()))}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(table(report))
    print("per language (recall of bought / false flags on genuine), burst and each draw:")
    for lang in sorted({lang for r in results.values() for lang in r["by_language"]}):
        found = [r["by_language"].get(lang, {}) for r in results.values()]
        cells = [f"{cell(f.get('recall'))}/{cell(f.get('fpr'))}" for f in found]
        print(f"  {lang:<4} " + " ".join(f"{c:>13}" for c in cells))
    for name, result in results.items():
        print(f"{name}: false positives {result['false_positives']}; missed {result['missed']}; "
              f"time {result['seconds']}")
    print(f"time: {time.perf_counter() - started:.1f}s")
    problems = failures(results["burst"], "burst") + draws_failures(draws, "spread")
    print("targets: " + ("all met" if not problems else "; ".join(problems)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
