"""Duplicate check at scale: candidate search (HNSW) and the worker's full check of one review.

    .venv/bin/python bench/search.py [--n 200000] [--channels 2] [--dim 384] [--xdim 512]
                                     [--queries 1000] [--random 200]
    .venv/bin/python bench/search.py --n 1000000 [--keep DIR]

Starts a fresh embedded PostgreSQL in a temporary folder and loads N synthetic reviews with
COPY (in a child process, so this process stays the size of a worker): unit vectors around a
few thousand cluster centres, short texts built from each cluster's vocabulary, 500 merchants,
timestamps over two years, and planted near-duplicates: each of `--queries` new reviews (the
newest ones, still pending) has 1-3 older copies at cosine 0.95-0.99 with near-identical text
(the detector's lexical path). `--random` further new reviews have no planted copy.

The detector reads two embedding channels, and with `--channels 2` (the default) so does the
bench, as production runs: besides its main vector (`--dim`, 384 as all-MiniLM-L6-v2) every
review has a second one (`--xdim`, 512 as use-multilingual-v3) under a second synthetic model
registered on the multilingual channel, with background profiles in both channels. The second
vectors have centres of their own but the same clusters (the same members, as tight as in the
main channel give or take 10%), and the planted copies are near there too (cosine 0.9-0.98).
`--channels 1` leaves the multilingual channel out (ATTEST_MULTILINGUAL_MODEL=off), for
comparison. The vectors are synthetic: the checks get stand-ins for the models (their names and
dimensions) that encode nothing.

Then it builds each channel's HNSW index with `embedding.store.ensure_index` and, playing the
worker, runs over every new review in submission order

- the candidate search alone: `store.nearest(k=20, before=submitted_at)` in each channel, one
  after the other;
- the full check: `reviews.screening.scanning.scan_one` with both channels (the candidate search
  in each channel with the neighbours' reviews, the merchant's recent reviews, the background
  profiles, prefetch, `Detector.scan`, writes);
- on every few reviews instead, scan_one with a clock between its steps;

and compares each channel's candidate search with an exact float32 numpy search over the same N
(recall@10 and the share of planted copies found; the exact search's time per query is the
baseline of the ANN speedup). Prints the load and index build times, table and index sizes,
p50/p95/p99 latencies, this process's RSS (the worker's, without the embedding models) and
the PostgreSQL server's memory, then the targets at 1M: p95 of the full check <= 20 ms, recall
>= 0.95 on planted near-duplicates (in each channel), worker RSS <= 1.5 GB.

Loading and indexing 1M reviews with one channel takes about 12 minutes on 2 cores. With
`--keep DIR` the loaded, indexed database stays in DIR, and a later run with the same parameters
(channels included, and the same migrations) checks a fresh copy of it instead of building it again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import multiprocessing as mp
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository before this folder (sys.path[0] when run as a script), whose embedding.py
# must not shadow the `embedding` package; this folder after it, for _common.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))

import asyncpg
import numpy as np
from _common import (
    Phases,
    copy_database,
    embedded_database,
    fresh_database,
    kept_database,
    percentile,
    record_kept,
    rss_mb,
    tree_memory_mb,
    verdict,
)

from embedding import shingles, store
from embedding import text as T
from embedding.detect import Detector, Params, lexical_keys
from reviews import runtime
from reviews.platform import db
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from reviews.screening import scanning

T_END = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
NEW_SPAN = timedelta(days=2)  # the reviews being checked arrived in the last two days
PARAMS = Params()  # the detector's, for which texts have bands
TARGET_P95_MS = 15.0
TARGET_RECALL = 0.98
TARGET_RSS_MB = 1536.0
K = 10
X_COPY_COSINE = (0.9, 0.98)  # a planted copy's cosine to its original in the multilingual channel
# Each channel's vectors, for the exact search (written by the loader).
VECTOR_FILES = {store.MAIN: "vectors.npy", store.MULTILINGUAL: "xvectors.npy"}

REVIEW_COLUMNS = ("id", "merchant_id", "product_id", "method", "rating", "title", "body", "display_name",
                  "author_hash", "locale", "state", "submitted_at", "published_at", "created_at", "updated_at")
EMBEDDING_COLUMNS = ("review_id", "model", "dim", "text_hash", "embedding", "submitted_at")
PROFILE_COLUMNS = ("review_id", "model", "bg_mean", "bg_sd")


# --------------------------------------------------------------------------- synthetic data


def _vocabulary(rng: np.random.Generator, size: int) -> np.ndarray:
    onsets = ["b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr", "pl", "ch"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ie"]
    words: set[str] = set()
    while len(words) < size:
        n = int(rng.integers(2, 5))
        words.add("".join(onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))] for _ in range(n)))
    return np.array(sorted(words))


class Corpus:
    """Everything about the synthetic data that both the loader and the checker need."""

    def __init__(self, n: int, dim: int, queries: int, random_queries: int, clusters: int, merchants: int,
                 merchant_skew: float, seed: int, channels: int = 2, xdim: int = 512) -> None:
        self.n, self.dim, self.seed = n, dim, seed
        self.xdim = xdim if channels == 2 else 0  # 0: no multilingual channel
        self.n_new = queries + random_queries
        if self.n_new * 4 > n:
            raise SystemExit("--n is too small for that many queries")
        self.n_old = n - self.n_new
        self.clusters, self.merchants = clusters, merchants
        rng = np.random.default_rng(seed)
        # Cluster centres share a common direction, as real embeddings do (unrelated texts ~0.2).
        common = rng.standard_normal(dim)
        common /= np.linalg.norm(common)
        centres = rng.standard_normal((clusters, dim))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        centres = centres + 0.5 * common
        self.centres = (centres / np.linalg.norm(centres, axis=1, keepdims=True)).astype(np.float32)
        # Per-cluster spread: mean cosine between two members of a cluster 0.42-0.68.
        self.sigma = rng.uniform(0.035, 0.06, clusters).astype(np.float32)
        self.vocab = _vocabulary(rng, 30_000)
        self.common_words = self.vocab[rng.choice(len(self.vocab), 60, replace=False)]
        self.topic = rng.integers(0, len(self.vocab), (clusters, 40))
        weights = 1.0 / np.arange(1, merchants + 1) ** merchant_skew
        self.merchant_p = weights / weights.sum()
        # The new reviews are the newest ids, n_old+1..n: first the planted ones, then the random ones.
        self.new_ids = np.arange(self.n_old + 1, n + 1)
        self.planted_ids = self.new_ids[:queries]
        # 1-3 older copies per planted review: 80% anywhere in the two years, 20% in the last days
        # before it (inside the detection window).
        n_copies = rng.integers(1, 4, queries)
        recent_from = max(1, int(self.n_old * (1 - 5 / 730)))
        picks: list[int] = []
        taken: set[int] = set()
        for _ in range(int(n_copies.sum())):
            while True:
                cand = int(rng.integers(recent_from, self.n_old + 1)) if rng.random() < 0.2 else \
                    int(rng.integers(1, self.n_old + 1))
                if cand not in taken:
                    taken.add(cand)
                    picks.append(cand)
                    break
        self.copies: dict[int, list[int]] = {}
        self.copy_of: dict[int, tuple[int, float, bool]] = {}  # copy id -> (query id, cosine, exact text)
        pos = 0
        for qid, m in zip(self.planted_ids.tolist(), n_copies.tolist(), strict=True):
            ids = picks[pos : pos + m]
            pos += m
            self.copies[qid] = ids
            for cid in ids:
                self.copy_of[cid] = (qid, float(rng.uniform(0.95, 0.99)), bool(rng.random() < 0.3))
        if self.xdim:
            # The multilingual channel, from a generator of its own (the main channel's vectors are
            # the same with one channel or two): its own centres and common direction, the same
            # clusters, each about as tight as in the main channel.
            xrng = np.random.default_rng([seed, 2])
            xcommon = xrng.standard_normal(xdim)
            xcommon /= np.linalg.norm(xcommon)
            xcentres = xrng.standard_normal((clusters, xdim))
            xcentres /= np.linalg.norm(xcentres, axis=1, keepdims=True)
            xcentres = xcentres + 0.5 * xcommon
            self.xcentres = (xcentres / np.linalg.norm(xcentres, axis=1, keepdims=True)).astype(np.float32)
            self.xsigma = (self.sigma * np.sqrt(dim / xdim) * xrng.uniform(0.9, 1.1, clusters)).astype(np.float32)

    def times(self, ids: np.ndarray) -> np.ndarray:
        """Seconds before T_END of each review: old ones evenly over two years (minus the last
        two days), new ones over the last two days, in id order."""
        ids = np.asarray(ids, dtype=np.int64)
        old = (SPAN - NEW_SPAN).total_seconds()
        return np.where(
            ids <= self.n_old,
            SPAN.total_seconds() - (ids - 1) / max(self.n_old, 1) * old,
            NEW_SPAN.total_seconds() * (1 - (ids - self.n_old) / (self.n_new + 1)),
        )

    def rows(self, start: int, end: int) -> dict[str, Any]:
        """Vectors (both channels'), texts and attributes of ids [start, end); deterministic per
        chunk, except planted copies, which derive from their new review (see `new_review`)."""
        rng = np.random.default_rng([self.seed, start])
        ids = np.arange(start, end)
        m = len(ids)
        cluster = rng.integers(0, self.clusters, m)
        vec = self.centres[cluster] + self.sigma[cluster, None] * rng.standard_normal((m, self.dim), dtype=np.float32)
        texts = []
        lengths = rng.integers(4, 31, m)
        kinds = rng.random((m, 30))
        common_pick = rng.integers(0, len(self.common_words), (m, 30))
        topic_pick = rng.integers(0, self.topic.shape[1], (m, 30))
        any_pick = rng.integers(0, len(self.vocab), (m, 30))
        for i in range(m):
            words = []
            for j in range(int(lengths[i])):
                if kinds[i, j] < 0.35:
                    words.append(self.common_words[common_pick[i, j]])
                elif kinds[i, j] < 0.85:
                    words.append(self.vocab[self.topic[cluster[i], topic_pick[i, j]]])
                else:
                    words.append(self.vocab[any_pick[i, j]])
            texts.append(" ".join(words).capitalize() + ".")
        out = {
            "ids": ids, "cluster": cluster, "vectors": vec, "texts": texts,
            "merchant": rng.choice(self.merchants, m, p=self.merchant_p) + 1,
            "rating": rng.choice([1, 2, 3, 4, 5], m, p=[0.06, 0.04, 0.1, 0.25, 0.55]),
            "author": rng.integers(0, max(self.n // 3, 1), m),
            "bg_mean": 1.0 / (1.0 + self.sigma[cluster] ** 2 * self.dim) + rng.uniform(0.03, 0.08, m),
            "bg_sd": rng.uniform(0.02, 0.04, m),
        }
        xvec = None
        if self.xdim:
            xr = np.random.default_rng([self.seed, start, 2])
            xsigma = self.xsigma[cluster]
            xvec = self.xcentres[cluster] + xsigma[:, None] * xr.standard_normal((m, self.xdim), dtype=np.float32)
            out["xvectors"] = xvec
            out["xbg_mean"] = 1.0 / (1.0 + xsigma**2 * self.xdim) + xr.uniform(0.03, 0.08, m)
            out["xbg_sd"] = xr.uniform(0.02, 0.04, m)
        for i, rid in enumerate(ids.tolist()):
            if rid > self.n_old:
                v, xv, text, merchant = self.new_review(rid, vec[i], texts[i], None if xvec is None else xvec[i])
                out["vectors"][i], out["texts"][i] = v, text
                if xvec is not None:
                    xvec[i] = xv
                out["merchant"][i] = merchant
            elif rid in self.copy_of:
                qid, cos, exact = self.copy_of[rid]
                qvec, qxvec, qtext, _ = self.new_review(qid)
                crng = np.random.default_rng([self.seed, rid, 7])
                out["vectors"][i] = _at_cosine(qvec, cos, crng)
                out["texts"][i] = qtext if exact else _mutate(qtext, crng)
                if xvec is not None and qxvec is not None:
                    xcrng = np.random.default_rng([self.seed, rid, 8])
                    xvec[i] = _at_cosine(qxvec, float(xcrng.uniform(*X_COPY_COSINE)), xcrng)
        out["vectors"] /= np.linalg.norm(out["vectors"], axis=1, keepdims=True)
        if xvec is not None:
            xvec /= np.linalg.norm(xvec, axis=1, keepdims=True)
        return out

    def new_review(self, rid: int, vec: np.ndarray | None = None, text: str | None = None,
                   xvec: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, str, int]:
        """A new review's vector, multilingual vector (None with one channel), text and merchant.
        Planted ones have long, specific texts (the detector only confirms copies of informative
        reviews)."""
        rng = np.random.default_rng([self.seed, rid, 3])
        merchant = int(rng.choice(self.merchants, p=self.merchant_p)) + 1
        if vec is None or rid in self.copies:
            c = int(rng.integers(self.clusters))
            vec = self.centres[c] + self.sigma[c] * rng.standard_normal(self.dim, dtype=np.float32)
            vec = (vec / np.linalg.norm(vec)).astype(np.float32)
            if rid in self.copies:
                words = [self.vocab[self.topic[c, j]] for j in rng.integers(0, 40, 8)]
                words += [self.vocab[j] for j in rng.integers(0, len(self.vocab), int(rng.integers(8, 20)))]
                rng.shuffle(words)
                text = " ".join(words).capitalize() + "!"
            if self.xdim:
                xr = np.random.default_rng([self.seed, rid, 4])
                xvec = self.xcentres[c] + self.xsigma[c] * xr.standard_normal(self.xdim, dtype=np.float32)
                xvec = (xvec / np.linalg.norm(xvec)).astype(np.float32)
        assert text is not None
        return vec, xvec, text, merchant


def _at_cosine(unit: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    """A vector at cosine `cos` to the unit vector `unit` (not normalised: its length is 1/cos)."""
    noise = np.asarray(rng.standard_normal(int(unit.shape[0])), dtype=np.float32)
    noise -= noise.dot(unit) * unit
    noise *= np.sqrt(1 / cos**2 - 1) / np.linalg.norm(noise)
    return unit + noise


def _mutate(text: str, rng: np.random.Generator) -> str:
    """A near-identical copy: one word swapped and different punctuation and case."""
    words = text.rstrip("!.").split()
    i = int(rng.integers(len(words)))
    words[i] = words[i][::-1]
    return " ".join(words).upper()[:1] + " ".join(words)[1:].lower() + "!!"


def _vector_bytes(matrix: np.ndarray) -> list[bytes]:
    """pgvector's binary format of a halfvec (uint16 dim, uint16 unused, float16 big-endian), one per row."""
    header = np.array([matrix.shape[1], 0], dtype=">u2").tobytes()
    body = matrix.astype(">f2").tobytes()
    step = matrix.shape[1] * 2
    return [header + body[i : i + step] for i in range(0, len(body), step)]


# --------------------------------------------------------------------------- load (child process)


def load(dsn: str, folder: str, params: dict[str, Any]) -> dict[str, Any]:
    """Generate and COPY the corpus; runs in a child process. Writes the vectors (float32) and
    times to .npy files for the exact search."""
    return asyncio.run(_load(dsn, Path(folder), params))


async def _load(dsn: str, folder: Path, params: dict[str, Any]) -> dict[str, Any]:
    corpus = Corpus(**params)
    model, xmodel, n, dim, xdim = params_model(params), params_xmodel(params), corpus.n, corpus.dim, corpus.xdim
    vectors = np.lib.format.open_memmap(folder / VECTOR_FILES[store.MAIN], mode="w+", dtype=np.float32,
                                        shape=(n, dim))
    xvectors = np.lib.format.open_memmap(folder / VECTOR_FILES[store.MULTILINGUAL], mode="w+", dtype=np.float32,
                                         shape=(n, xdim)) if xmodel else None
    conns = [await asyncpg.connect(dsn) for _ in range(4 if xmodel else 3)]
    for c in conns:
        await c.execute("SET synchronous_commit = off")
        await c.set_type_codec("halfvec", schema="public", encoder=lambda b: b, decoder=lambda b: b, format="binary")
    conn = conns[0]
    await conn.executemany(
        "INSERT INTO merchants (id, slug, name) VALUES ($1, $2, $3)",
        [(m, f"m-{m:04d}", f"Merchant {m}") for m in range(1, corpus.merchants + 1)],
    )
    await store.register_model(conn, model, dim, active=True, channel=store.MAIN)
    if xmodel:
        await store.register_model(conn, xmodel, xdim, active=True, channel=store.MULTILINGUAL)
    df: Counter[str] = Counter()
    t_gen = t_copy = 0.0
    chunk = 20_000
    for start in range(1, n + 1, chunk):
        end = min(start + chunk, n + 1)
        t0 = time.perf_counter()
        data = corpus.rows(start, end)
        vectors[start - 1 : end - 1] = data["vectors"]
        ago = corpus.times(data["ids"])
        when = [T_END - timedelta(seconds=float(s)) for s in ago]
        reviews, embeddings, xembeddings, counted, profiles, banded = [], [], [], [], [], []
        vbytes = _vector_bytes(data["vectors"])
        xbytes: list[bytes] = []
        if xvectors is not None:
            xvectors[start - 1 : end - 1] = data["xvectors"]
            xbytes = _vector_bytes(data["xvectors"])
        for i, rid in enumerate(data["ids"].tolist()):
            new = rid > corpus.n_old
            text = data["texts"][i]
            if not new:
                df.update(set(text_words(text)))
                counted.append((rid,))
                keys = lexical_keys(T.normalize(text), PARAMS)  # the lexical path's bands, as a scan stores them
                if keys is not None:
                    banded.extend((band, when[i], rid) for band in set(keys))
            cluster = int(data["cluster"][i])
            reviews.append((
                rid, int(data["merchant"][i]), f"p{cluster}", "imported", int(data["rating"][i]), "", text,
                f"Buyer {int(data['author'][i])}", hashlib.sha256(b"a%d" % int(data["author"][i])).hexdigest(),
                "en", "pending" if new else "published", when[i], None if new else when[i], when[i], when[i],
            ))
            embeddings.append((rid, model, dim, scanning.text_hash(text), vbytes[i], when[i]))
            if not new:
                profiles.append((rid, model, float(data["bg_mean"][i]), float(data["bg_sd"][i])))
            if xmodel:
                xembeddings.append((rid, xmodel, xdim, scanning.text_hash(text), xbytes[i], when[i]))
                if not new:
                    profiles.append((rid, xmodel, float(data["xbg_mean"][i]), float(data["xbg_sd"][i])))
        t1 = time.perf_counter()
        t_gen += t1 - t0
        await conns[0].copy_records_to_table("reviews", records=reviews, columns=REVIEW_COLUMNS)
        await asyncio.gather(
            conns[1].copy_records_to_table("review_embeddings", records=embeddings, columns=EMBEDDING_COLUMNS),
            conns[2].copy_records_to_table("term_counted", records=counted, columns=("review_id",)),
            *([conns[3].copy_records_to_table("review_embeddings", records=xembeddings, columns=EMBEDDING_COLUMNS)]
              if xmodel else []),
        )
        await asyncio.gather(
            conns[1].copy_records_to_table("review_profiles", records=profiles, columns=PROFILE_COLUMNS),
            conns[2].copy_records_to_table("review_bands", records=banded,
                                           columns=("band", "submitted_at", "review_id")))
        t_copy += time.perf_counter() - t1
        if (start // chunk) % 10 == 0 or end > n:
            print(f"    loaded {end - 1:>9,} / {n:,}  (generate {t_gen:.0f}s, copy {t_copy:.0f}s)", flush=True)
    vectors.flush()
    if xvectors is not None:
        xvectors.flush()
    np.save(folder / "times.npy", corpus.times(np.arange(1, n + 1)))
    t0 = time.perf_counter()
    await conn.copy_records_to_table("term_stats", records=list(df.items()), columns=("term", "df"))
    await conn.execute("UPDATE corpus_stats SET n_docs = $1", corpus.n_old)
    await conn.execute("INSERT INTO language_stats (language, n_docs) VALUES ('en', $1)", corpus.n_old)
    # The burst test's history, as the worker keeps it (see migrations/0003).
    await conn.execute(
        """INSERT INTO merchant_daily_ratings (merchant_id, day, rating, n)
           SELECT r.merchant_id, (r.submitted_at AT TIME ZONE 'UTC')::date, r.rating, count(*)
           FROM reviews r JOIN term_counted t ON t.review_id = r.id GROUP BY 1, 2, 3""")
    await conn.execute("SELECT setval('reviews_id_seq', $1)", n)
    await conn.execute("SELECT setval('merchants_id_seq', $1)", corpus.merchants)
    await conn.execute("VACUUM ANALYZE reviews")
    await conn.execute("VACUUM ANALYZE review_embeddings")
    await conn.execute("VACUUM ANALYZE review_profiles")
    await conn.execute("VACUUM ANALYZE term_counted")
    await conn.execute("VACUUM ANALYZE term_stats")
    await conn.execute("VACUUM ANALYZE review_bands")
    t_stats = time.perf_counter() - t0
    for c in conns:
        await c.close()
    return {"generate_s": t_gen, "copy_s": t_copy, "stats_s": t_stats, "terms": len(df)}


def text_words(text: str) -> list[str]:
    return T.tokens(T.normalize(text))


def params_model(params: dict[str, Any]) -> str:
    return f"bench-synthetic-{params['dim']}"


def params_xmodel(params: dict[str, Any]) -> str | None:
    """The multilingual channel's synthetic model, None with one channel."""
    return f"bench-synthetic-multilingual-{params['xdim']}" if params["channels"] == 2 else None


def channel_models(params: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(channel, model, dim) of each channel the bench loads, the main one first."""
    xmodel = params_xmodel(params)
    return [(store.MAIN, params_model(params), params["dim"])] + \
        ([(store.MULTILINGUAL, xmodel, params["xdim"])] if xmodel else [])


class SyntheticModel:
    """A stand-in for a channel's embedding model (`embedding.model.Embedder`): the name and
    dimension its synthetic vectors are stored under. The bench never embeds a text."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def encode(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError(f"{self.name} is a synthetic model: its vectors are loaded, no text is encoded")


def synthetic_channels(chans: list[tuple[str, str, int]]) -> scanning.Channels:
    models = {channel: SyntheticModel(model, dim) for channel, model, dim in chans}
    return scanning.Channels(models[store.MAIN], models.get(store.MULTILINGUAL))


# --------------------------------------------------------------------------- checks (this process)


async def build_index(dsn: str, chans: list[tuple[str, str, int]], mem: str, workers: int, m: int,
                      ef_construction: int) -> dict[str, Any]:
    """Each channel's HNSW index, one after the other, as the worker's `ensure_index` makes them."""
    conn = await db.connect(dsn)
    notices: list[str] = []
    conn.add_log_listener(lambda _c, msg: notices.append(str(msg)))
    built: dict[str, dict[str, Any]] = {}
    try:
        await conn.execute(f"SET maintenance_work_mem = '{mem}'")
        await conn.execute(f"SET max_parallel_maintenance_workers = {int(workers)}")
        for channel, model, dim in chans:
            t0 = time.perf_counter()
            await store.ensure_index(conn, model, dim, m=m, ef_construction=ef_construction)
            built[channel] = {"model": model, "dim": dim, "build_s": time.perf_counter() - t0}
        await conn.execute("ANALYZE review_embeddings")
        await conn.execute("CHECKPOINT")
        for value in built.values():
            size = await conn.fetchval("SELECT pg_relation_size($1::regclass)", store.index_name(value["model"]))
            value["hnsw_mb"] = size / 2**20
        sizes = await conn.fetchrow(
            """SELECT pg_relation_size('review_embeddings') AS heap,
                      pg_total_relation_size('review_embeddings') AS total,
                      pg_indexes_size('review_embeddings') AS indexes,
                      pg_total_relation_size('reviews') AS reviews,
                      pg_relation_size('review_profiles') AS profiles,
                      pg_relation_size('review_bands') AS bands,
                      pg_indexes_size('review_bands') AS bands_indexes""")
        assert sizes is not None
    finally:
        await conn.close()
    return {"channels": built, "build_s": sum(v["build_s"] for v in built.values()), "notices": notices,
            **{f"{k}_mb": v / 2**20 for k, v in dict(sizes).items()}}


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50) * 1e3, "p95": percentile(values, 95) * 1e3,
            "p99": percentile(values, 99) * 1e3, "mean": float(np.mean(values)) * 1e3}


async def _search_all(conn: store.Connection, chans: list[tuple[str, str, int]], rows: list[asyncpg.Record],
                      vecs: dict[str, dict[int, np.ndarray]], k: int) -> dict[str, Any]:
    """The candidate search of every row in each channel, one channel after the other: each
    channel's times and neighbours, and the time of both searches of a review."""
    times: dict[str, list[float]] = {channel: [] for channel, *_ in chans}
    found: dict[str, dict[int, list[int]]] = {channel: {} for channel, *_ in chans}
    short: Counter[str] = Counter()
    both: list[float] = []
    for row in rows:
        total = 0.0
        for channel, model, _dim in chans:
            t0 = time.perf_counter()
            near = await store.nearest(conn, model, vecs[channel][row["id"]], k, exclude=row["id"],
                                       before=row["submitted_at"])
            dt = time.perf_counter() - t0
            times[channel].append(dt)
            total += dt
            found[channel][row["id"]] = [nb.review_id for nb in near]
            short[channel] += len(near) < k
        both.append(total)
    return {"ms": {channel: _ms(t) for channel, t in times.items()}, "both_ms": _ms(both),
            "short": {channel: short[channel] for channel in times}, "found": found}


async def _lexical_all(conn: store.Connection, corpus: Corpus, rows: list[asyncpg.Record],
                       limit: int) -> dict[str, Any]:
    """The lexical candidate path alone (`embedding.shingles.candidates`) for every new review: its
    time, and the planted copies among what it returns."""
    times: list[float] = []
    hits = total = 0
    for row in rows:
        keys = lexical_keys(T.normalize(scanning.review_text(row)), PARAMS)
        if keys is None:
            continue
        t0 = time.perf_counter()
        found = await shingles.candidates(conn, keys, row["submitted_at"], row["id"], limit)
        times.append(time.perf_counter() - t0)
        copies = corpus.copies.get(row["id"], [])
        total += len(copies)
        hits += len(set(copies) & set(found))
    return {"ms": _ms(times), "n": len(times), "copies_found": hits / total if total else float("nan"),
            "copies": total}


async def run_checks(dsn: str, folder: Path, corpus: Corpus, chans: list[tuple[str, str, int]], breakdown: int,
                     ef_sweep: list[int]) -> dict[str, Any]:
    settings = Settings(data_dir=folder / "data", database_url=dsn, secret_key="bench-secret", dev=False,  # noqa: S106
                        log_level="WARNING")
    pool = await runtime.create_pool(dsn, min_size=1, max_size=4)
    svc = runtime.services(settings, FrozenClock(T_END), pool, dsn)
    detector = Detector()
    channels = synthetic_channels(chans)
    blas = scanning.quiet_blas()  # as the worker's scan task does (the exact baseline later has every core)
    k = detector.params.k
    out: dict[str, Any] = {}
    try:
        async with pool.acquire() as conn:
            new_ids = corpus.new_ids.tolist()
            rows = await conn.fetch(scanning._REVIEWS_SQL, new_ids)  # submission order
            vecs = {channel: await store.vectors(conn, model, new_ids) for channel, model, _ in chans}
            out["settings"] = {r["name"]: r["setting"] for r in await conn.fetch(
                "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1)",
                ["shared_buffers", "effective_cache_size", "work_mem", "jit", "hnsw.ef_search",
                 "hnsw.iterative_scan"])}
            # Warm up as a server that has been running is warm: the HNSW indexes and the tables a
            # check reads in PostgreSQL's buffers (pg_prewarm; a copied database starts cold),
            # the statements prepared.
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            for relation in (*(store.index_name(model) for _, model, _ in chans), "reviews", "review_profiles",
                             "term_stats", "merchant_daily_ratings", "merchant_daily_ratings_history", "term_counted",
                             "review_bands", "review_bands_pkey"):
                await conn.fetchval("SELECT pg_prewarm($1::regclass)", relation)
            rng = np.random.default_rng(1)
            picks = rng.integers(0, corpus.n_old, 100)
            for channel, model, _ in chans:
                warm = np.load(folder / VECTOR_FILES[channel], mmap_mode="r")
                for i in picks:
                    await store.nearest(conn, model, np.array(warm[i]), k)
                del warm
            out["rss_before_mb"] = rss_mb()
            searched = await _search_all(conn, chans, rows, vecs, k)
            out["search"], out["search_both"] = searched["ms"], searched["both_ms"]
            out["search_short"] = searched["short"]
            found = searched["found"]
            # Other hnsw.ef_search values, for the recall / latency trade-off (the full check
            # below runs with the store's own).
            out["sweep"] = {}
            try:
                for ef in ef_sweep:
                    await conn.execute(f"SET hnsw.ef_search = {int(ef)}")
                    swept = await _search_all(conn, chans, rows, vecs, k)
                    out["sweep"][ef] = {channel: {"ms": swept["ms"][channel], "found": swept["found"][channel]}
                                        for channel, *_ in chans}
            finally:
                await conn.execute(f"SET hnsw.ef_search = {store.EF_SEARCH}")
            out["rss_after_search_mb"] = rss_mb()
            out["lexical"] = await _lexical_all(conn, corpus, rows, detector.params.lexical_k)
            # Every few reviews, scan_one with a clock between its steps (the same queries, writes
            # and transaction); the others through scan_one without one.
            stride = max(1, len(rows) // breakdown) if breakdown else 0
            check_t: list[float] = []
            replica_t: list[float] = []
            steps: dict[str, list[float]] = {}
            kinds: Counter[str] = Counter()
            rss_peak = 0.0
            xvecs = vecs.get(store.MULTILINGUAL, {})
            async with scanning.side_connections(pool) as side:  # as the worker's scan holds them
                for i, row in enumerate(rows):
                    vec, xvec = vecs[store.MAIN][row["id"]], xvecs.get(row["id"])
                    t0 = time.perf_counter()
                    if stride and i % stride == 0:
                        flags = await _scan_one_timed(svc, conn, detector, channels, row, vec, xvec, side, steps)
                        replica_t.append(time.perf_counter() - t0)
                    else:
                        flags = await scanning.scan_one(svc, conn, detector, channels, row, vec, xvec, side=side)
                        check_t.append(time.perf_counter() - t0)
                    kinds.update(f.kind for f in flags if f.review_id == row["id"])
                    rss_peak = max(rss_peak, rss_mb())
            out["check"] = _ms(check_t)
            out["check_n"] = len(check_t)
            out["replica"] = _ms(replica_t) if replica_t else None
            out["steps"] = {name: _ms(values) for name, values in steps.items()}
            out["flags"] = dict(kinds)
            out["rss_after_mb"] = rss_mb()
            out["rss_peak_mb"] = rss_peak
    finally:
        blas.restore_original_limits()
        await pool.close()
    out["found"] = found
    return out


async def _scan_one_timed(svc: Services, conn: store.Connection, detector: Detector, channels: scanning.Channels,
                          row: asyncpg.Record, vec: np.ndarray, xvec: np.ndarray | None, side: scanning.Side,
                          steps: dict[str, list[float]]) -> list[Any]:
    """reviews.screening.scanning.scan_one itself, with a clock between its steps."""
    t = time.perf_counter()

    def tick(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps.setdefault(name, []).append(now - t)
        t = now

    return await scanning.scan_one(svc, conn, detector, channels, row, vec, xvec, side=side, tick=tick)


def exact_search(folder: Path, corpus: Corpus, chans: list[tuple[str, str, int]],
                 found: dict[str, dict[int, list[int]]], timed: int,
                 sweep: dict[int, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Each channel's search against the exact one (see `_exact`), and the planted copies found
    by either channel."""
    out: dict[str, Any] = {}
    for channel, *_ in chans:
        best_i, times = _exact(folder / VECTOR_FILES[channel], folder / "times.npy", corpus, timed)
        for by_channel in sweep.values():
            by_channel[channel].update(_recall(corpus, best_i, by_channel[channel].pop("found")))
        out[channel] = {"exact_ms": _ms(times), **_recall(corpus, best_i, found[channel])}
    out["either"] = _either(corpus, found)
    return out


def _exact(vectors: Path, times_file: Path, corpus: Corpus, timed: int) -> tuple[np.ndarray, list[float]]:
    """Exact top-10 by float32 cosine over all N vectors, with the same filters as the search
    (submitted no later than the query, not the query itself), and the time of the first
    `timed` queries searched one by one."""
    matrix = np.load(vectors)  # into memory: the baseline searches RAM
    ago = np.load(times_file)
    ids = corpus.new_ids
    queries = matrix[ids - 1]
    q_ago = ago[ids - 1]
    best_s = np.full((len(ids), K), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(ids), K), dtype=np.int64)
    step = 50_000
    for start in range(0, corpus.n, step):
        block = matrix[start : start + step]
        sims = queries @ block.T
        sims[ago[start : start + step][None, :] < q_ago[:, None]] = -np.inf  # submitted after the query
        own = (ids - 1 >= start) & (ids - 1 < start + len(block))
        sims[np.nonzero(own)[0], (ids - 1 - start)[own]] = -np.inf
        cand_s = np.concatenate([best_s, sims], axis=1)
        cand_i = np.concatenate([best_i, np.arange(start + 1, start + 1 + len(block))[None, :].repeat(len(ids), 0)],
                                axis=1)
        top = np.argpartition(-cand_s, K - 1, axis=1)[:, :K]
        best_s = np.take_along_axis(cand_s, top, axis=1)
        best_i = np.take_along_axis(cand_i, top, axis=1)
    # Baseline: one query at a time, as the worker would search without an index.
    times = []
    for j in range(min(timed, len(ids))):
        t0 = time.perf_counter()
        sims = matrix @ queries[j]
        sims[ago < q_ago[j]] = -np.inf
        sims[ids[j] - 1] = -np.inf
        np.argpartition(-sims, K - 1)[:K]
        times.append(time.perf_counter() - t0)
    return best_i, times


def _recall(corpus: Corpus, best_i: np.ndarray, found: dict[int, list[int]]) -> dict[str, Any]:
    ids = corpus.new_ids
    recall_planted, recall_random, copies_10, copies_k, n_copies = [], [], 0, 0, 0
    for j, qid in enumerate(ids.tolist()):
        exact = set(best_i[j].tolist())
        ann = found[qid]
        r = len(exact & set(ann[:K])) / K
        if qid in corpus.copies:
            recall_planted.append(r)
            cps = corpus.copies[qid]
            n_copies += len(cps)
            copies_10 += len(set(cps) & set(ann[:K]))
            copies_k += len(set(cps) & set(ann))
        else:
            recall_random.append(r)
    return {
        "recall10_planted": float(np.mean(recall_planted)) if recall_planted else float("nan"),
        "recall10_random": float(np.mean(recall_random)) if recall_random else float("nan"),
        "copies": n_copies, "copies_in_top10": copies_10 / max(n_copies, 1),
        "copies_in_topk": copies_k / max(n_copies, 1),
    }


def _either(corpus: Corpus, found: dict[str, dict[int, list[int]]]) -> dict[str, Any]:
    """The planted copies in the top 10 (top k) of at least one channel: what scan_one loads."""
    copies_10 = copies_k = n_copies = 0
    for qid, cps in corpus.copies.items():
        top10 = {rid for hits in found.values() for rid in hits[qid][:K]}
        topk = {rid for hits in found.values() for rid in hits[qid]}
        n_copies += len(cps)
        copies_10 += len(set(cps) & top10)
        copies_k += len(set(cps) & topk)
    return {"copies": n_copies, "copies_in_top10": copies_10 / max(n_copies, 1),
            "copies_in_topk": copies_k / max(n_copies, 1)}


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="stored reviews (default 200000)")
    parser.add_argument("--channels", type=int, choices=(1, 2), default=2,
                        help="embedding channels: 2 (the default, as production runs) adds the multilingual one "
                             "to the main one")
    parser.add_argument("--dim", type=int, default=384, help="main channel's vector dimension (default 384)")
    parser.add_argument("--xdim", type=int, default=512,
                        help="multilingual channel's vector dimension (default 512, as use-multilingual-v3)")
    parser.add_argument("--queries", type=int, default=1000, help="new reviews with planted copies (default 1000)")
    parser.add_argument("--random", type=int, default=200, help="new reviews without planted copies (default 200)")
    parser.add_argument("--clusters", type=int, default=3000, help="cluster centres (default 3000)")
    parser.add_argument("--merchants", type=int, default=500, help="merchants (default 500)")
    parser.add_argument("--merchant-skew", type=float, default=0.0,
                        help="Zipf exponent of merchant sizes (default 0: all alike; 1: the largest has ~15%%)")
    parser.add_argument("--build-mem", default="2GB", help="maintenance_work_mem of the index builds (default 2GB)")
    parser.add_argument("--build-workers", type=int, default=2,
                        help="max_parallel_maintenance_workers of the index builds (default 2)")
    parser.add_argument("--m", type=int, default=store.HNSW_M,
                        help=f"HNSW m, links per node (default the store's, {store.HNSW_M})")
    parser.add_argument("--ef-construction", type=int, default=store.HNSW_EF_CONSTRUCTION,
                        help=f"HNSW ef_construction (default the store's, {store.HNSW_EF_CONSTRUCTION})")
    parser.add_argument("--breakdown", type=int, default=200,
                        help="new reviews checked with a clock between scan_one's steps (default 200)")
    parser.add_argument("--exact-timed", type=int, default=100, help="queries timed one by one for the baseline")
    parser.add_argument("--ef-search", default="",
                        help="comma-separated hnsw.ef_search values to also measure the candidate search with "
                             f"(recall and latency; default none, the store's own is {store.EF_SEARCH})")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the loaded and indexed database in DIR, and reuse it on later runs with the same "
                             "parameters (the channels included); each run checks a fresh copy of it")
    args = parser.parse_args()
    params = {"n": args.n, "dim": args.dim, "queries": args.queries, "random_queries": args.random,
              "clusters": args.clusters, "merchants": args.merchants, "merchant_skew": args.merchant_skew,
              "seed": args.seed, "channels": args.channels, "xdim": args.xdim}
    chans = channel_models(params)
    ph = Phases()
    res: dict[str, Any] = {"params": params, "started": datetime.now(UTC).isoformat(timespec="seconds")}
    print(f"search benchmark: N={args.n:,} channels={args.channels} dim={args.dim}"
          f"{f' xdim={args.xdim}' if args.channels == 2 else ''} planted={args.queries} random={args.random} "
          f"clusters={args.clusters} merchants={args.merchants} skew={args.merchant_skew}", flush=True)
    with contextlib.ExitStack() as stack:
        kept = None
        if args.keep:
            # params holds the channel count (and the multilingual dimension).
            key = {**params, "m": args.m, "ef_construction": args.ef_construction, "build_mem": args.build_mem,
                   "build_workers": args.build_workers, "schema": [path.name for *_, path in db.migration_files()]}
            server, admin, folder, kept = stack.enter_context(kept_database(args.keep, "bench_base", key))
            if kept is None:
                dsn = asyncio.run(fresh_database(admin, "bench_base"))
        else:
            server, dsn, folder = stack.enter_context(embedded_database(prefix="attest-bench-search-"))
        if kept is None:
            with ph.phase("load (generate + COPY, child process)"):
                with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
                    res["load"] = pool.submit(load, dsn, str(folder), params).result()
            res["load"]["total_s"] = ph.seconds["load (generate + COPY, child process)"]
            with ph.phase("HNSW index builds (ensure_index)"):
                res["index"] = asyncio.run(build_index(dsn, chans, args.build_mem, args.build_workers,
                                                       args.m, args.ef_construction))
            if args.keep:
                record_kept(folder, "bench_base", key, {"load": res["load"], "index": res["index"]})
        else:
            print(f"reusing the database loaded and indexed in {args.keep} (its load and build times)")
            res["load"], res["index"] = kept["load"], kept["index"]
        if args.keep:
            with ph.phase("copy of the kept database"):
                dsn = asyncio.run(copy_database(admin, "bench_base", "bench"))
        for notice in res["index"]["notices"]:
            print(f"    notice: {notice}")
        corpus = Corpus(**params)
        with ph.phase("checks (candidate search, then full check)"):
            res["checks"] = asyncio.run(run_checks(dsn, folder, corpus, chans, args.breakdown,
                                                   [int(x) for x in args.ef_search.split(",") if x]))
        res["server_rss_mb"], res["server_pss_mb"] = tree_memory_mb(server.get_pid())
        with ph.phase("exact numpy search (ground truth and baseline)"):
            res["exact"] = exact_search(folder, corpus, chans, res["checks"].pop("found"), args.exact_timed,
                                        res["checks"]["sweep"])
    report(res, args, chans)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return 0


def _pcts(v: dict[str, float]) -> str:
    return f"p50 {v['p50']:6.2f} ms  p95 {v['p95']:6.2f} ms  p99 {v['p99']:6.2f} ms"


def report(res: dict[str, Any], args: argparse.Namespace, chans: list[tuple[str, str, int]]) -> None:
    ld, ix, ck, ex = res["load"], res["index"], res["checks"], res["exact"]
    n = args.n
    names = [channel for channel, *_ in chans]
    both = " and ".join(names)
    print()
    print(f"=== search benchmark: N={n:,}, {len(chans)} channel{'s' if len(chans) > 1 else ''} ("
          + ", ".join(f"{channel} dim {dim}" for channel, _, dim in chans)
          + f"), {args.queries} planted + {args.random} random new reviews")
    print(f"load: {ld['total_s']:.0f}s ({n / ld['total_s']:,.0f} rows/s; generate {ld['generate_s']:.0f}s, "
          f"COPY {ld['copy_s']:.0f}s, vacuum/analyze {ld['stats_s']:.0f}s)")
    print(f"index builds (maintenance_work_mem {args.build_mem}, {args.build_workers} parallel workers, "
          f"m {args.m}, ef_construction {args.ef_construction}):")
    for channel in names:
        b = ix["channels"][channel]
        print(f"  {channel:<12} build {b['build_s']:5.0f}s  HNSW index {b['hnsw_mb']:,.0f} MB  "
              f"({b['model']}, dim {b['dim']})")
    print(f"sizes: review_embeddings heap {ix['heap_mb']:,.0f} MB, all its indexes {ix['indexes_mb']:,.0f} MB, "
          f"total {ix['total_mb']:,.0f} MB; reviews {ix['reviews_mb']:,.0f} MB; review_profiles "
          f"{ix['profiles_mb']:,.0f} MB; review_bands {ix['bands_mb']:,.0f} MB + indexes "
          f"{ix['bands_indexes_mb']:,.0f} MB")
    print(f"server settings (the checks' connection): {ck['settings']}")
    print("candidate search (nearest k=20):")
    for channel in names:
        print(f"  {channel:<30} {_pcts(ck['search'][channel])}  ({ck['search_short'][channel]} returned fewer than k)")
    if len(names) > 1:
        print(f"  {'both, one after the other':<30} {_pcts(ck['search_both'])}")
    c = ck["check"]
    lx = ck["lexical"]
    print(f"  {'lexical path (MinHash bands)':<30} {_pcts(lx['ms'])}  (n={lx['n']}; planted copies found "
          f"{lx['copies_found']:.4f} of {lx['copies']})")
    print(f"full check (scan_one, {both}):")
    print(f"  {'':<30} {_pcts(c)}  (n={ck['check_n']})")
    if ck["replica"]:
        r = ck["replica"]
        print(f"  step by step, on scan_one with a clock, interleaved with it (total p50 {r['p50']:.2f} ms, "
              f"p95 {r['p95']:.2f} ms); p50 / p95 / mean ms:")
        for name, v in ck["steps"].items():
            print(f"    {name:<24} {v['p50']:6.2f} / {v['p95']:6.2f} / {v['mean']:6.2f}")
    exact_p50 = 0.0
    for channel in names:
        e, s = ex[channel]["exact_ms"], ck["search"][channel]
        exact_p50 += e["p50"]
        print(f"exact numpy search (baseline, one query), {channel}: p50 {e['p50']:.1f} ms -> ANN speedup "
              f"{e['p50'] / s['p50']:.{0 if e['p50'] >= 10 * s['p50'] else 1}f}x (candidate search)")
    print(f"  all channels' exact searches vs the full check: {exact_p50 / c['p50']:.1f}x")
    print(f"recall@10 vs exact (hnsw.ef_search {store.EF_SEARCH}):")
    for channel in names:
        x = ex[channel]
        print(f"  {channel:<12} planted {x['recall10_planted']:.4f}, random {x['recall10_random']:.4f}; "
              f"planted copies found: {x['copies_in_top10']:.4f} in top-10, {x['copies_in_topk']:.4f} in top-20 "
              f"(of {x['copies']})")
    if len(names) > 1:
        e2 = ex["either"]
        print(f"  planted copies found by either channel: {e2['copies_in_top10']:.4f} in top-10, "
              f"{e2['copies_in_topk']:.4f} in top-20")
    for ef, by_channel in ck["sweep"].items():
        for channel in names:
            v = by_channel[channel]
            print(f"  with hnsw.ef_search {ef:>4}, {channel:<12}: {_pcts(v['ms'])};  recall@10 planted "
                  f"{v['recall10_planted']:.4f}, random {v['recall10_random']:.4f}; copies in top-10 "
                  f"{v['copies_in_top10']:.4f}")
    print(f"flags on the new reviews: {ck['flags']}")
    print(f"worker RSS (this process, no embedding models): before checks {ck['rss_before_mb']:.0f} MB, "
          f"after {ck['rss_after_mb']:.0f} MB, peak {ck['rss_peak_mb']:.0f} MB")
    print(f"PostgreSQL server: RSS sum {res['server_rss_mb']:,.0f} MB, PSS sum {res['server_pss_mb']:,.0f} MB")
    # Each channel must find the copies on its own: a translated copy is near in the multilingual one only.
    recall = min(min(ex[channel]["recall10_planted"], ex[channel]["copies_in_top10"]) for channel in names)
    print("recall on planted near-duplicates (the lowest of recall@10 and copies found in top-10, "
          f"over the channels): {recall:.4f}")
    print(f"full check p95: {c['p95']:.2f} ms")
    print(f"worker RSS peak: {ck['rss_peak_mb']:.0f} MB")
    scale = "" if n >= 1_000_000 else f" (they are for N=1M; this is N={n:,})"
    print(f"targets{scale}:")
    print(f"  full check p95 <= {TARGET_P95_MS:.0f} ms: {verdict(c['p95'] <= TARGET_P95_MS)}")
    print(f"  recall on planted near-duplicates >= {TARGET_RECALL}: {verdict(recall >= TARGET_RECALL)}")
    print(f"  worker RSS <= {TARGET_RSS_MB:.0f} MB: {verdict(ck['rss_peak_mb'] <= TARGET_RSS_MB)}"
          "  (plus the embedding models in a real worker)")


if __name__ == "__main__":
    sys.exit(main())
