"""Detection quality on a labeled corpus, end to end through the real commands.

    .venv/bin/python bench/detection.py tests/data/dev.jsonl

Imports the corpus (without its label fields) into a fresh embedded database with
`attest import`, drains the worker with `attest worker --drain`, reads `attest flags
--format jsonl`, and prints precision, recall and F1 per label and per variant, the
false-positive rates on genuine reviews (all, and under 60 characters) and the run's time.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embedding.evaluation import failures, score

LABEL_FIELDS = ("label", "campaign", "variant")


def attest(env: dict[str, str], *args: str) -> str:
    exe = Path(sys.executable).with_name("attest")
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"attest {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args()
    labeled = [json.loads(line) for line in args.corpus.read_text().splitlines() if line.strip()]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="attest-bench-") as tmp:
        unlabeled = Path(tmp) / "corpus.jsonl"
        unlabeled.write_text("".join(
            json.dumps({k: v for k, v in row.items() if k not in LABEL_FIELDS}, ensure_ascii=False) + "\n"
            for row in labeled))
        env = {**os.environ, "ATTEST_DATA_DIR": str(Path(tmp) / "data"), "ATTEST_LOG_LEVEL": "WARNING"}
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
    result["seconds"] = {"total": round(time.perf_counter() - started, 1), "import": round(t_import, 1),
                         "scan": round(t_scan, 1)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"reviews {result['reviews']}  flagged {result['flagged']}  positives {result['positives']}")
    print(f"precision {result['precision']}  recall {result['recall']}  F1 {result['f1']}")
    for group, values in result["groups"].items():
        print(f"  {group:<24} n={values['n']:<4} recall={values['recall']}")
    print(f"false-positive rate: genuine {result['fpr_genuine']} (n={result['genuine']}), "
          f"genuine under 60 chars {result['fpr_genuine_short']} (n={result['genuine_short']})")
    print(f"false positives: {result['false_positives']}")
    print(f"time: {result['seconds']}")
    problems = failures(result)
    print("targets: " + ("all met" if not problems else "; ".join(problems)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
