"""Detection quality on a labeled corpus, offline: the detector (`embedding.detect.scan_corpus`)
replayed over vectors computed once, with both channels and each review's language, as the worker
reads them. For tuning loops; `bench/detection.py` is the same measure through the real pipeline.

    .venv/bin/python bench/detection_offline.py tests/data/dev.jsonl [--spread-seeds 1-8]
        [--cache DIR] [--set name=value ...] [--sensitivity] [--json] [--verbose]

Encodes the texts once per model (cached as .npy in --cache, keyed by the model and the texts),
then prints, for the corpus as it is ("burst") and for each draw of the spread variant, precision,
recall per variant, false flags on genuine reviews (all, short ones, in each shop's first 30 days,
by star rating), and the worst of each over the draws. `--set` overrides a detector parameter
(`--set z_far=1.4`); `--sensitivity` moves each numeric parameter by x0.8 and x1.2 and prints the
worst draw's figures for each.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import cell, table

from embedding import replay
from embedding.detect import Params
from embedding.evaluation import SPREAD_SEED, draws_failures, failures, parse_seeds, score, spread, worst
from embedding.model import DEFAULT_MODEL, MULTILINGUAL_MODEL, get_embedder


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def encode(model: str, texts: list[str], cache: Path) -> np.ndarray:
    key = hashlib.sha256("\x00".join([model, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{model}-{key}.npy"
    if path.exists():
        return np.load(path)
    t0 = time.perf_counter()
    vecs = get_embedder(model).encode(texts)
    print(f"encoded {len(texts)} texts with {model} in {time.perf_counter() - t0:.1f}s -> {path}", file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def params_with(overrides: list[str]) -> Params:
    base = Params()
    changes: dict[str, Any] = {}
    for item in overrides:
        name, _, value = item.partition("=")
        current = getattr(base, name)
        if isinstance(current, bool):
            changes[name] = value.lower() in ("1", "true", "yes")
        elif isinstance(current, timedelta):
            changes[name] = timedelta(hours=float(value))
        else:
            changes[name] = type(current)(float(value)) if isinstance(current, int) else float(value)
    return dataclasses.replace(base, **changes)


def evaluate(rows: list[dict[str, Any]], vectors: dict[str, np.ndarray], xvectors: dict[str, np.ndarray],
             params: Params, seeds: list[int]) -> dict[str, Any]:
    results: dict[str, Any] = {"burst": score(rows, replay.flagged(rows, vectors, xvectors, params))}
    results["draws"] = {seed: score(drawn, replay.flagged(drawn, vectors, xvectors, params))
                        for seed in seeds for drawn in [spread(rows, seed)]}
    results["worst"] = worst(list(results["draws"].values()))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--spread-seeds", default=f"{SPREAD_SEED},1-8", help="draws of the spread variant")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "attest-detect-cache")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a detector parameter")
    ap.add_argument("--sensitivity", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="list each draw's false flags and misses")
    args = ap.parse_args()
    rows = load(args.corpus)
    texts = [replay.review_text(r) for r in rows]
    ids = [r["id"] for r in rows]
    vectors = dict(zip(ids, encode(DEFAULT_MODEL, texts, args.cache), strict=True))
    xvectors = dict(zip(ids, encode(MULTILINGUAL_MODEL, texts, args.cache), strict=True))
    params = params_with(args.set)
    seeds = parse_seeds(args.spread_seeds)
    t0 = time.perf_counter()
    results = evaluate(rows, vectors, xvectors, params, seeds)
    seconds = time.perf_counter() - t0
    if args.json:
        print(json.dumps(results, indent=1, default=str))
        return 0
    print(table(results))
    print(f"{1 + len(seeds)} replays in {seconds:.1f}s")
    if args.verbose:
        by_id = {r["id"]: r for r in rows}
        for name, result in [("burst", results["burst"]), *((f"s{k}", v) for k, v in results["draws"].items())]:
            fps = ", ".join(f"{i} ({by_id[i]['rating']}★ {by_id[i]['merchant'][:6]})"
                            for i in result["false_positives"])
            missed = ", ".join(f"{i} {by_id[i]['variant']}" for i in result["missed"])
            print(f"{name}: false flags [{fps}] missed [{missed}]")
    problems = failures(results["burst"], "burst") + draws_failures(results["draws"], "spread")
    print("targets: " + ("all met" if not problems else "; ".join(problems)))
    if args.sensitivity:
        print("\nsensitivity (worst draw): param x mult: precision, paraphrase (worst/mean), translation, "
              "cross, false flags, first days, gap")
        for f in dataclasses.fields(Params):
            value = getattr(params, f.name)
            if isinstance(value, bool):
                continue
            for mult in (0.8, 1.2):
                if isinstance(value, int):
                    moved: Any = max(1, round(value * mult)) if round(value * mult) != value else value + (
                        1 if mult > 1 else -1)
                else:
                    moved = value * mult
                r = evaluate(rows, vectors, xvectors, dataclasses.replace(params, **{f.name: moved}), seeds)
                w = r["worst"]
                para = w["groups"].get("variant:paraphrase", {})
                print(f"  {f.name:16} x{mult}: {cell(w['precision'])} {cell(para.get('recall'))}/"
                      f"{cell(para.get('mean'))} {cell(w['groups']['variant:translation']['recall'])} "
                      f"{cell(w['groups']['variant:cross_merchant']['recall'])} {cell(w['fpr_genuine'])} "
                      f"{cell(w['by_history']['first_days']['fpr'])} {cell(w['star_gap'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
