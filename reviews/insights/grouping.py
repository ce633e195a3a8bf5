"""Grouping clause vectors that speak of the same thing, in any language: average-linkage
agglomerative clustering under a cosine threshold, the same clusters for the same input.

Exact clustering needs every pair's similarity, which grows with the square of the clauses. Up to
`Params.sample` distinct clauses are clustered exactly; beyond that, a sample chosen by a hash of
each clause's text (so one more review changes the sample by at most its own clauses) is
clustered, every other clause joins the nearest cluster's centroid when close enough, and the
clauses left over are clustered again the same way, for a few rounds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

NONE = -1
ROUNDS = 4
_BLOCK = 4096  # rows of the clause x centroid products at a time (memory stays small)


@dataclass(frozen=True)
class Grouping:
    join: float  # average cosine similarity between two groups at which they merge
    # ... and the lower one at which two groups too small to be shown may still join: on a
    # product with a handful of reviews, three buyers rarely say the same thing in close words.
    rescue: float
    # ... and the one at which a group too small to be shown joins one that has support: without
    # it, two buyers who said it alike ("Die Lieferung kam zu spät", "Die Lieferung hat vier Tage
    # gedauert") join each other first and then neither topic nor anything else.
    adopt: float
    attach: float  # average similarity to a cluster's members at which a clause outside the sample joins it
    sample: int  # distinct clauses clustered exactly in one round


# Whether the rows (of the input) of a group have enough support to be shown on their own.
Support = Callable[[list[int]], bool]


def _order_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=8).digest()


def _exact(vectors: np.ndarray, params: Grouping, rows: list[list[int]], supported: Support) -> np.ndarray:
    """Cluster labels 0.. of each vector (average linkage). Two groups merge when their average
    similarity reaches `join`, `adopt` when one of them lacks support, `rescue` when both do;
    `rows[i]` are the input rows vector i stands for."""
    n = vectors.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    sims = (vectors @ vectors.T).astype(np.float64)
    distances = np.clip(1.0 - sims, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    distances = (distances + distances.T) / 2  # exactly symmetric, as squareform wants
    tree = linkage(squareform(distances, checks=False), method="average")
    # The merges in the order average linkage makes them; a merge is kept when both sides were kept
    # and it is close enough. A group is the topmost kept node of its branch.
    members: list[list[int] | None] = [[i] for i in range(n)] + [None] * (n - 1)
    strong: list[bool] = [supported(rows[i]) for i in range(n)] + [False] * (n - 1)
    for step, (a, b, distance, _) in enumerate(tree.tolist()):
        left, right = members[int(a)], members[int(b)]
        if left is None or right is None:
            continue
        similarity = 1.0 - distance
        supported_sides = strong[int(a)] + strong[int(b)]
        if similarity >= (params.rescue, params.adopt, params.join)[supported_sides]:
            joined = left + right
            members[n + step] = joined
            members[int(a)] = members[int(b)] = None
            # Support only grows with a group: asked only while neither side has it (small groups).
            strong[n + step] = strong[int(a)] or strong[int(b)] or supported([r for i in joined for r in rows[i]])
    kept = [i for i, g in enumerate(members) if g is not None]
    groups = _regroup(vectors, [members[i] or [] for i in kept], [strong[i] for i in kept], params, rows, supported)
    labels = np.empty(n, dtype=np.int64)
    for label, group_members in enumerate(groups):
        labels[group_members] = label
    return labels


def _regroup(vectors: np.ndarray, groups: list[list[int]], strong: list[bool], params: Grouping,
             rows: list[list[int]], supported: Support) -> list[list[int]]:
    """The tree's groups merged further, closest pair first, while a pair is close enough.

    The tree only offers a group the merge above it: when that one is refused (a stray clause met
    at a low similarity), the group is never offered another, however close. So two groups of
    one aspect stay apart ("Spedizione lentissima", "Consegna in ritardo di due settimane"), and a
    pair of clauses that joined each other first never joins either. Here every pair is offered
    again, by the same measure: the average similarity between two groups' members is the dot
    product of their mean vectors."""
    k = len(groups)
    if k < 2:
        return groups
    sums = np.stack([vectors[g].astype(np.float64).sum(axis=0) for g in groups])
    sizes = np.array([len(g) for g in groups], dtype=np.float64)
    sims = (sums / sizes[:, None]) @ (sums / sizes[:, None]).T
    np.fill_diagonal(sims, -np.inf)
    thresholds = np.array([params.rescue, params.adopt, params.join])
    is_strong = np.array(strong, dtype=np.int64)
    while True:
        room = np.where(sims >= thresholds[is_strong[:, None] + is_strong[None, :]], sims, -np.inf)
        at = int(np.argmax(room))  # the first of equals: fixed order
        a, b = divmod(at, k)
        if room[a, b] == -np.inf:
            break
        a, b = min(a, b), max(a, b)
        groups[a] = groups[a] + groups[b]
        groups[b] = []
        sums[a] += sums[b]
        sizes[a] += sizes[b]
        is_strong[a] = bool(is_strong[a] or is_strong[b] or supported([r for i in groups[a] for r in rows[i]]))
        sims[b, :] = sims[:, b] = -np.inf
        alive = sizes > 0
        sizes[b] = 0
        alive[b] = False
        row = np.where(alive, (sums / np.maximum(sizes, 1)[:, None]) @ (sums[a] / sizes[a]), -np.inf)
        row[a] = -np.inf
        sims[a, :] = sims[:, a] = row
    return [sorted(g) for g in groups if g]


def _means(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The mean vector of each cluster 0..k-1 (every one has a member). A clause's dot product
    with it is the clause's average similarity to the cluster's members: the very measure average
    linkage merges by. (Its cosine with the mean direction would not do: a cluster that spreads
    wide has a short mean, and every clause of its language would look close to that direction.)"""
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(k))
    sums = np.add.reduceat(vectors[order].astype(np.float64), starts, axis=0)
    sizes = np.diff(np.append(starts, len(labels)))
    return (sums / sizes[:, None]).astype(np.float32)


def _nearest(vectors: np.ndarray, means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each vector, the cluster it is on average most similar to, and that similarity."""
    best = np.empty(vectors.shape[0], dtype=np.int64)
    sim = np.empty(vectors.shape[0], dtype=np.float32)
    for at in range(0, vectors.shape[0], _BLOCK):
        block = vectors[at:at + _BLOCK] @ means.T
        best[at:at + _BLOCK] = block.argmax(axis=1)
        sim[at:at + _BLOCK] = block[np.arange(block.shape[0]), best[at:at + _BLOCK]]
    return best, sim


def _cluster(vectors: np.ndarray, keys: list[bytes], params: Grouping, rows: list[list[int]],
             supported: Support) -> np.ndarray:
    labels = np.full(vectors.shape[0], NONE, dtype=np.int64)
    remaining = np.array(sorted(range(len(keys)), key=lambda i: (keys[i], i)), dtype=np.int64)
    next_label = 0
    for _ in range(ROUNDS):  # the clauses no cluster took are clustered again, a few times at most
        if remaining.size == 0:
            break
        seeds, rest = remaining[:params.sample], remaining[params.sample:]
        found = _exact(vectors[seeds], params, [rows[i] for i in seeds.tolist()], supported)
        labels[seeds] = found + next_label
        k = int(found.max()) + 1
        if rest.size == 0:
            break
        best, sim = _nearest(vectors[rest], _means(vectors[seeds], found, k))
        near = sim >= params.attach
        labels[rest[near]] = best[near] + next_label
        next_label += k
        remaining = rest[~near]
    return labels


def group(vectors: np.ndarray, texts: list[str], params: Grouping, supported: Support) -> np.ndarray:
    """A cluster number for each row of `vectors` (unit rows, one per clause; `texts` the clauses,
    whose repeats are clustered once), or NONE. Numbers follow the first row of each cluster, so
    the same rows in the same order always give the same numbers. `supported` says whether some
    rows have enough support to be shown (the support rule), which decides how far a group grows."""
    if not texts:
        return np.zeros(0, dtype=np.int64)
    first: dict[str, int] = {}
    inverse = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        key = " ".join(text.lower().split())
        inverse[i] = first.setdefault(key, len(first))
    unique_rows = np.empty(len(first), dtype=np.int64)
    unique_rows[inverse[::-1]] = np.arange(len(texts))[::-1]  # each distinct text's first row
    keys = [_order_key(key) for key in first]
    rows: list[list[int]] = [[] for _ in first]
    for i, u in enumerate(inverse.tolist()):
        rows[u].append(i)
    raw = _cluster(np.ascontiguousarray(vectors[unique_rows], dtype=np.float32), keys, params, rows,
                   supported)[inverse]
    # Renumbered by first appearance: the numbering of the clustering itself is an implementation detail.
    renumber: dict[int, int] = {}
    out = np.full(len(texts), NONE, dtype=np.int64)
    for i, label in enumerate(raw.tolist()):
        if label != NONE:
            out[i] = renumber.setdefault(label, len(renumber))
    return out
