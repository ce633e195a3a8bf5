"""Duplicate, campaign, self-duplicate and burst detection. Pure: no database.

The live system calls `Detector.scan` once per new review with its top-k cosine
neighbours among earlier reviews (HNSW) and its lexical candidates (MinHash bands), the
merchant's reviews of the last window,
and the `Background` statistics; `scan_corpus` replays a corpus the same way offline.

Why the rules look the way they do:

* Raw cosine means different things per language and per model (unrelated Spanish
  reviews score ~0.55 with all-MiniLM-L6-v2), so a semantic link is a z-score of the
  pair's cosine against each review's *background*: the mean and spread of its k
  nearest neighbours among reviews older than the window. Old reviews cannot belong
  to a campaign that is running now, so a campaign never calibrates itself away; and
  they share the review's language and topic, so the language bias cancels.
* Near-identical text is confirmed lexically (character 4-gram shingles of the
  normalised text), which is language-agnostic and catches what embeddings miss
  (cross-merchant copies with the product swapped score only ~0.7 cosine).
* Short generic reviews are alike by nature, so every similarity link requires the
  shared words to be informative: the effective number of distinct content words
  (IDF-weighted, from the corpus' own document frequencies) must reach `min_info`.
* A link by meaning alone (paraphrase, translation) counts only when attached to a lexically
  confirmed copy by another author: a paraphrase on its own is indistinguishable from two buyers
  praising the same product. Out of the window, a same-language one needs a second link into the
  campaign (a triangle): a copy loosely like several genuine reviews (a hub) makes no campaign of
  them. A rewrite keeps more of its template's wording than two buyers' reviews share (4-gram
  Jaccard `reworded`) with a meaning above the ordinary: two kinds of evidence, one link.
* A background drawn while the review's language had few stored reviews (`rich_history`) comes
  from texts that are not its peers: too low, so each of its links needs up to `thin_margin` more.
* Copies are found at any age however crowded the vector neighbourhood: the scan also reads the
  reviews sharing the most MinHash bands with its text (`lexical_k`, `embedding.shingles`).
* Bursts are tested against the merchant's own history for that star value with a
  Gamma-Poisson (negative binomial) predictive, which is wide when history is short.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse

from embedding import text as T

KINDS = ("exact_duplicate", "near_duplicate", "campaign", "self_duplicate", "burst")


@dataclass(frozen=True)
class Doc:
    id: int
    merchant: str
    author: str
    product: str | None
    rating: int
    text: str
    created_at: datetime
    vector: np.ndarray = field(repr=False, compare=False)
    # The multilingual channel's vector (None when that channel is off or not computed yet).
    xvector: np.ndarray | None = field(default=None, repr=False, compare=False)
    language: str | None = None


@dataclass(frozen=True)
class Flag:
    review_id: int
    kind: str
    score: float
    evidence: dict


@dataclass(frozen=True)
class Params:
    k: int = 20                                 # neighbours per scan (HNSW top-k)
    lexical_k: int = 10                         # and the reviews sharing most MinHash bands
    window: timedelta = timedelta(days=3)       # campaign / burst window
    min_info: float = 8.0                       # effective content words shared
    lexical: float = 0.5                        # Jaccard of char 4-gram shingles
    z: float = 2.5                              # semantic link: sd above background
    zx: float = 2.5                             # the same for the multilingual channel
    # Out of the window a link needs the multilingual channel: a same-language pair must be above
    # its background in both channels, any pair at least `xcos_far` in the multilingual one.
    z_far: float = 1.5
    zx_far: float = 1.0
    xcos_far: float = 0.6
    background_k: int = 10                      # out-of-window neighbours per background
    # Thin history: a background drawn while fewer than `rich_history` reviews in the review's
    # language were stored comes from texts that are not its peers (a new shop, a new language), so
    # it is too low and every similarity looks remarkable: each link of such a review needs up to
    # `thin_margin` sd more, in proportion.
    rich_history: int = 30
    thin_margin: float = 1.0
    sd_floor: float = 0.02                      # lower bound of a background's spread
    bg_dedupe: float = 0.8                      # background neighbours this close count once
    campaign_authors: int = 3                   # distinct authors making a campaign
    any_age: bool = True                        # campaign links reach outside the window
    reworded: float = 0.12                      # a rewrite: Jaccard of its shingles with its template
    z_reworded: float = 0.5                     # and its meaning above its background, in both channels
    dense_z: float = 3.5                        # a copy-less group: links at least this strong
    dense_authors: int = 4                      # and at least this many authors
    burst_alpha: float = 1e-3                   # tail probability of the window count
    burst_min: int = 5                          # and at least this many reviews


# --------------------------------------------------------------------------- background


class _Vectors:
    """A growing matrix of one channel's vectors, rows in created_at order."""

    def __init__(self) -> None:
        self.mat: np.ndarray | None = None
        self.n = 0

    def append(self, vec: np.ndarray) -> None:
        vec = np.asarray(vec, dtype=np.float32)
        if self.mat is None:
            self.mat = np.zeros((64, vec.shape[0]), dtype=np.float32)
        elif self.n == len(self.mat):
            self.mat = np.concatenate([self.mat, np.zeros_like(self.mat)])
        self.mat[self.n] = vec
        self.n += 1


class Background:
    """Streaming statistics over stored reviews, updated by `add` in created_at order.

    * document frequencies of words (informativeness),
    * per review and channel, its similarity profile (mean, sd of the cosine to its
      `background_k` nearest reviews older than created_at - window), computed once at
      insertion and storable next to the vector; the live query is an HNSW search with
      `created_at < $t - window`,
    * per merchant: first review time and count per star value (burst baseline).
    """

    def __init__(self, params: Params | None = None):
        self.params = params or Params()
        self.n_docs = 0
        self.df: Counter[str] = Counter()
        self.profiles: dict[int, tuple[float, float] | None] = {}
        self.xprofiles: dict[int, tuple[float, float] | None] = {}
        self.merchant_first: dict[str, datetime] = {}
        self.rating_counts: Counter[tuple[str, int]] = Counter()
        self._times: list[float] = []
        self._mono = _Vectors()
        self._multi = _Vectors()
        self._multi_rows: list[int] = []  # the position in _times of each multilingual row
        self._weights: T.Weights | None = None
        self.language_counts: Counter[str] = Counter()
        self.histories: dict[int, int] = {}

    def add(self, doc: Doc) -> None:
        self.doc_profile(doc)
        self.doc_xprofile(doc)
        self.doc_history(doc)
        self.language_counts[doc.language or ""] += 1
        self.n_docs += 1
        self.df.update(set(T.tokens(T.normalize(doc.text))))
        self._weights = None  # the frequencies moved
        self.merchant_first.setdefault(doc.merchant, doc.created_at)
        self.rating_counts[(doc.merchant, doc.rating)] += 1
        ts = doc.created_at.timestamp()
        if self._times and ts < self._times[-1]:
            raise ValueError("Background.add expects docs in created_at order")
        self._mono.append(doc.vector)
        if doc.xvector is not None:
            self._multi.append(doc.xvector)
            self._multi_rows.append(len(self._times))
        self._times.append(ts)

    def _profile(self, vectors: _Vectors, end: int, vector: np.ndarray) -> tuple[float, float] | None:
        if vectors.mat is None or end < self.params.background_k:
            return None
        sims = vectors.mat[:end] @ np.asarray(vector, dtype=np.float32)
        take = min(end, self.params.background_k * 4)
        top = np.argpartition(sims, end - take)[end - take:]
        top = top[np.argsort(-sims[top])]
        return background_stats([(float(sims[i]), vectors.mat[i]) for i in top], self.params)

    def profile(self, vector: np.ndarray, created_at: datetime) -> tuple[float, float] | None:
        """(mean, sd) of the cosine to the nearest reviews older than the window, or
        None when there are too few (then no semantic-only link is made)."""
        end = bisect.bisect_left(self._times, (created_at - self.params.window).timestamp())
        return self._profile(self._mono, end, vector)

    def xprofile(self, vector: np.ndarray, created_at: datetime) -> tuple[float, float] | None:
        """The same for the multilingual channel."""
        end = bisect.bisect_left(self._times, (created_at - self.params.window).timestamp())
        return self._profile(self._multi, bisect.bisect_left(self._multi_rows, end), vector)

    def doc_history(self, doc: Doc) -> int | None:
        """How many reviews in the review's language were stored before it: how deep a history its
        background was drawn from (None: unknown, taken as deep enough)."""
        if doc.id not in self.histories:
            self.histories[doc.id] = self.language_counts[doc.language or ""]
        return self.histories[doc.id]

    def doc_profile(self, doc: Doc) -> tuple[float, float] | None:
        if doc.id not in self.profiles:
            self.profiles[doc.id] = self.profile(doc.vector, doc.created_at)
        return self.profiles[doc.id]

    def doc_xprofile(self, doc: Doc) -> tuple[float, float] | None:
        if doc.xvector is None:
            return None
        if doc.id not in self.xprofiles:
            self.xprofiles[doc.id] = self.xprofile(doc.xvector, doc.created_at)
        return self.xprofiles[doc.id]

    def info(self, words) -> float:
        if self._weights is None:
            self._weights = T.Weights(self.df, self.n_docs)
        return self._weights.informativeness(words)


def thinness(history: int | None, p: Params) -> float:
    """1 when a background was drawn from no history in its language, 0 from `rich_history` on."""
    if history is None or p.rich_history <= 0:
        return 0.0
    return 1.0 - min(1.0, history / p.rich_history)


def lexical_keys(norm: str, p: Params) -> list[int] | None:
    """The MinHash bands a review is stored and found by on the lexical candidate path, or None when
    it has fewer distinct words than a lexical link needs content words (each word weighs at most
    one): "Great product, fast delivery" would share its bands with thousands."""
    return T.minhash_bands(norm) if len(set(T.tokens(norm))) >= p.min_info else None


def background_stats(nearest: list[tuple[float, np.ndarray]], p: Params) -> tuple[float, float] | None:
    """(mean, sd) of a review's similarity to its nearest older reviews, `nearest` given best first
    as (cosine, vector). Copies of one text count once: a campaign posted over months puts its
    earlier copies among a later member's nearest reviews, and would otherwise raise the bar its
    own paraphrases have to clear."""
    if not nearest:
        return None
    gram = np.stack([np.asarray(vec, dtype=np.float32) for _, vec in nearest])
    gram = gram @ gram.T
    kept: list[int] = []
    for i in range(len(nearest)):
        if len(kept) == p.background_k:
            break
        if not kept or float(gram[i, kept].max()) < p.bg_dedupe:
            kept.append(i)
    sims = np.array([nearest[i][0] for i in kept], dtype=np.float64)
    if len(sims) < p.background_k:
        return None
    return float(sims.mean()), max(float(sims.std()), p.sd_floor)


# --------------------------------------------------------------------------- helpers


@dataclass
class _Feat:
    doc: Doc
    norm: str
    words: frozenset[str]
    shingles: np.ndarray  # character 4-gram ids (`text.shingle_ids`)
    info: float
    profile: tuple[float, float] | None
    xprofile: tuple[float, float] | None
    thin: float = 0.0  # how thin the history its background was drawn from (`thinness`)


def _feat(doc: Doc, stats: Background) -> _Feat:
    p = stats.params
    norm = T.normalize(doc.text)
    words = frozenset(T.tokens(norm))
    xprofile = stats.doc_xprofile(doc) if doc.xvector is not None else None
    return _Feat(doc, norm, words, T.shingle_ids(norm), stats.info(words), stats.doc_profile(doc), xprofile,
                 thinness(stats.doc_history(doc), p))


LEXICAL = ("exact", "near")


@dataclass
class _Link:
    kind: str            # "exact" | "near" (lexical) | "semantic" (same-model) | "multilingual"
    cosine: float        # in the channel behind the link (the main model's for lexical links)
    lexical: float
    shared_info: float
    z: float | None
    hours: float
    thin: float = 0.0    # the extra z this link needed for a thin background
    across: bool = False  # between two languages


def _hours(a: Doc, b: Doc) -> float:
    return abs((a.created_at - b.created_at).total_seconds()) / 3600.0


def _z(cos: float, a: tuple[float, float] | None, b: tuple[float, float] | None,
       alone: bool = False) -> float | None:
    """How far above what is ordinary for these two texts their similarity is (None without
    their backgrounds). A review posted before there was history enough has no background of its
    own: with `alone`, the other's tells what is ordinary (a farm's first post, months before its
    last, is judged against the last one's)."""
    if a is None or b is None:
        one = a or b
        return None if one is None or not alone else (cos - one[0]) / one[1]
    mu = (a[0] + b[0]) / 2
    sd = math.sqrt((a[1] ** 2 + b[1] ** 2) / 2)
    return (cos - mu) / sd


def _jaccard(a: _Feat, b: _Feat) -> float:
    shared = len(np.intersect1d(a.shingles, b.shingles, assume_unique=True))
    union = len(a.shingles) + len(b.shingles) - shared
    return shared / union if union else 0.0


def _link(a: _Feat, b: _Feat, stats: Background, p: Params, lex: float | None = None) -> _Link | None:
    """The strongest informative similarity between two reviews, if any, at any age: whether a
    link far apart in time counts is the campaign rule's decision. `lex` is their shingle
    Jaccard index when the caller has it already."""
    # A scan links every pair of some forty reviews, and most pairs link nothing: each measure is
    # taken only when a decision needs it.
    cos = float(np.dot(a.doc.vector, b.doc.vector))
    hours = _hours(a.doc, b.doc)
    if a.norm == b.norm and a.info >= p.min_info:
        return _Link("exact", cos, 1.0, stats.info(a.words & b.words), None, hours)
    if lex is None:
        lex = _jaccard(a, b)
    if lex >= p.lexical:
        shared = stats.info(a.words & b.words)
        if shared >= p.min_info:
            return _Link("near", cos, lex, shared, None, hours)
    if min(a.info, b.info) < p.min_info:
        return None
    near = hours <= p.window.total_seconds() / 3600
    across = a.doc.language is not None and b.doc.language is not None and a.doc.language != b.doc.language
    # One background may stand for both only across languages outside the window, where a floor on
    # the cosine applies too. Within one language such a figure is no firmer than two buyers of one
    # product praising the same things; inside the window there is no floor.
    alone = across and not near
    # Same-language pairs are judged by both channels at once (each model's chance resemblances
    # differ, a paraphrase is close in both); across languages only the multilingual one can see.
    zm = _z(cos, a.profile, b.profile, alone)
    zx = xcos = None
    if a.doc.xvector is not None and b.doc.xvector is not None:
        xcos = float(np.dot(a.doc.xvector, b.doc.xvector))
        zx = _z(xcos, a.xprofile, b.xprofile, alone)
    # A thin background (a shop or a language with little history yet) tells less about what is
    # ordinary: its links need more.
    extra = p.thin_margin * max(a.thin, b.thin)
    link: _Link | None = None
    if near:
        # Inside the window a campaign is running now: one channel suffices, as it always has.
        if zm is not None and zm >= p.z + extra and (zx is None or zm - p.z >= zx - p.zx):
            link = _Link("semantic", cos, 0.0, 0.0, zm, hours)
        elif zx is not None and xcos is not None and zx >= p.zx + extra:
            link = _Link("multilingual", xcos, 0.0, 0.0, zx, hours)
    elif across:
        # The floor on the cosine is evidence no background changes: no margin here.
        if zx is not None and xcos is not None and zx >= p.zx_far and xcos >= p.xcos_far:
            link = _Link("multilingual", xcos, 0.0, 0.0, zx, hours)
    elif zm is not None and zx is not None and xcos is not None and zm >= p.z_far + extra \
            and zx >= p.z_far + extra and xcos >= p.xcos_far:
        link = _Link("semantic", cos, 0.0, 0.0, min(zm, zx), hours)
    if not across and lex >= p.reworded and zm is not None and zx is not None and min(zm, zx) >= p.z_reworded \
            and (link is None or link.kind == "semantic"):
        # Another writer's rewrite of a template keeps its names, figures and key terms: more of the
        # wording in common than two buyers' reviews of one product have (bench/detection_offline.py
        # on the dev corpus: 90% of genuine pairs below 0.09), with a meaning above the ordinary in
        # both channels. Two kinds of evidence at once, so at any age and without the thin margin.
        link = _Link("reworded", cos, 0.0, 0.0, min(zm, zx), hours)
    if link is not None:
        link.thin, link.across = extra, across
        link.lexical = lex
        link.shared_info = stats.info(a.words & b.words)
    return link


def _z_matrix(vectors: list[np.ndarray | None], profiles: list[tuple[float, float] | None]) -> np.ndarray:
    """Every pair's `_z` at once (NaN where a vector or both profiles are missing)."""
    dim = next((v.shape[0] for v in vectors if v is not None), 0)
    mat = np.stack([np.asarray(v, dtype=np.float64) if v is not None else np.full(dim, np.nan)
                    for v in vectors]) if dim else np.full((len(vectors), 1), np.nan)
    prof = np.array([pr if pr is not None else (np.nan, np.nan) for pr in profiles], dtype=np.float64)
    mean, spread = prof[:, 0], prof[:, 1]
    mu = (mean[:, None] + mean[None, :]) / 2
    sd = np.sqrt((spread[:, None] ** 2 + spread[None, :] ** 2) / 2)
    # Where one of the two has no background, the other's alone (as `_z`).
    missing = np.isnan(mean)
    alone_i, alone_j = missing[:, None] & ~missing[None, :], ~missing[:, None] & missing[None, :]
    mu = np.where(alone_i, mean[None, :], np.where(alone_j, mean[:, None], mu))
    sd = np.where(alone_i, spread[None, :], np.where(alone_j, spread[:, None], sd))
    with np.errstate(invalid="ignore"):
        return (mat @ mat.T - mu) / sd


# The pre-filter's thresholds sit this far below `_link`'s, so float rounding never drops a link.
_SLACK = 1e-6


def _candidate_pairs(feats: list[_Feat], p: Params) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The pairs (i < j) that could link at all, found with matrix operations, and every pair's
    shingle Jaccard index; `_link` decides each pair. Most of a scan's pairs link nothing, and
    `_link` costs a few microseconds per pair in Python: this keeps a scan's pair work near the
    number of actual resemblances."""
    n = len(feats)
    if n < 2:
        return [], np.zeros((n, n))
    # Every pair's shingle Jaccard through one sparse product.
    hashes = [f.shingles for f in feats]
    sizes = np.array([len(h) for h in hashes], dtype=np.float64)
    columns = T.ranks(np.concatenate(hashes))
    rows = np.repeat(np.arange(n), sizes.astype(np.int64))
    member = sparse.csr_matrix((np.ones(len(columns), dtype=np.float64), (rows, columns)))
    inter = (member @ member.T).toarray()
    with np.errstate(invalid="ignore", divide="ignore"):
        lexical = inter / (sizes[:, None] + sizes[None, :] - inter)
    possible = lexical >= p.lexical - _SLACK  # a lexical copy may be there
    norms: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(feats):
        norms[f.norm].append(i)
    for same in norms.values():  # the same text
        if len(same) > 1:
            possible[np.ix_(same, same)] = True
    informative = np.array([f.info >= p.min_info for f in feats])
    zm = _z_matrix([f.doc.vector for f in feats], [f.profile for f in feats])
    zx = _z_matrix([f.doc.xvector for f in feats], [f.xprofile for f in feats])
    with np.errstate(invalid="ignore"):
        similar = (zm >= min(p.z, p.z_far) - _SLACK) | (zx >= min(p.zx, p.zx_far, p.z_far) - _SLACK)
        similar |= (lexical >= p.reworded - _SLACK) & (zm >= p.z_reworded - _SLACK) & (zx >= p.z_reworded - _SLACK)
    possible |= similar & informative[:, None] & informative[None, :]
    first, second = np.nonzero(np.triu(possible, k=1))
    return list(zip(first.tolist(), second.tolist(), strict=True)), lexical


def _nb_tail(m: int, r: float, q: float) -> float:
    """P(X >= m) for X ~ NegBin(r, q) (number of events, success prob q)."""
    if m <= 0:
        return 1.0
    logq, log1q = math.log(q), math.log1p(-q)
    cdf = 0.0
    for x in range(m):
        cdf += math.exp(
            math.lgamma(x + r) - math.lgamma(r) - math.lgamma(x + 1) + r * logq + x * log1q
        )
    return max(0.0, 1.0 - cdf)


# --------------------------------------------------------------------------- detector


class Detector:
    def __init__(self, params: Params | None = None):
        self.params = params or Params()

    def background(self, docs) -> Background:
        """Statistics from stored reviews (all, or a random sample), oldest first."""
        stats = Background(self.params)
        for d in sorted(docs, key=lambda d: d.created_at):
            stats.add(d)
        return stats

    def scan(
        self,
        new: Doc,
        neighbours: list[Doc],
        recent_same_merchant: list[Doc],
        stats: Background,
        window_others: list[datetime] | None = None,
    ) -> list[Flag]:
        """Flags for `new` and for earlier reviews that now form a cluster with it.

        `neighbours`: top-k by cosine among earlier reviews (any merchant);
        `recent_same_merchant`: the merchant's reviews in [created_at - window, created_at)
        (those of new's star value are enough when `window_others` is given);
        `window_others`: when the merchant's reviews of another star value in that window were
        submitted (taken from `recent_same_merchant` when None);
        `stats`: the Background of reviews stored before `new`.
        """
        p = self.params
        flags: list[Flag] = []
        cands = [d for d in neighbours if d.id != new.id]
        feats = [_feat(new, stats)] + [_feat(d, stats) for d in cands]

        links: dict[tuple[int, int], _Link] = {}
        pairs, lexical = _candidate_pairs(feats, p)
        for i, j in pairs:
            link = _link(feats[i], feats[j], stats, p, float(lexical[i, j]))
            if link is not None:
                links[(i, j)] = link

        def author(i: int) -> str:
            return feats[i].doc.author

        # 1-2, 4: pairs with the new review.
        for j in range(1, len(feats)):
            link = links.get((0, j))
            if link is None or link.kind not in LEXICAL:
                continue
            old = feats[j].doc
            ev = {
                "related": [old.id], "cosine": round(link.cosine, 4),
                "lexical": round(link.lexical, 4), "shared_info": round(link.shared_info, 2),
                "authors": [old.author, new.author], "merchants": [old.merchant, new.merchant],
                "products": [old.product, new.product], "gap_hours": round(link.hours, 2),
                "links": [_describe(new, old, link, p)],
            }
            if old.author == new.author:
                flags.append(Flag(new.id, "self_duplicate", link.lexical, ev))
            else:
                kind = "exact_duplicate" if link.kind == "exact" else "near_duplicate"
                flags.append(Flag(new.id, kind, link.lexical, ev))
                flags.append(Flag(old.id, kind, link.lexical, {**ev, "related": [new.id]}))

        # 3: campaign: reviews by distinct authors linked by lexical copies, at any age (a farm
        # may post one text over months), plus paraphrases and translations attached to such a
        # copy; or, without a copy, a dense group of mutually close texts on one product.
        horizon = p.window.total_seconds() / 3600
        cross = {e: lk for e, lk in links.items() if author(e[0]) != author(e[1])
                 and (p.any_age or (_hours(feats[e[0]].doc, new) <= horizon
                                    and _hours(feats[e[1]].doc, new) <= horizon))}
        core = {i for e, lk in cross.items() if lk.kind in LEXICAL for i in e}
        attached = self._attached(cross, core)
        joined = core | set(attached)
        adj: dict[int, set[int]] = defaultdict(set)
        for (i, j), lk in cross.items():
            if lk.kind in LEXICAL or (i in joined and j in joined):
                adj[i].add(j)
                adj[j].add(i)
        comp = _component(adj, 0)
        if len({author(i) for i in comp}) < p.campaign_authors:
            comp = self._dense_group(feats, cross)
        authors = {author(i) for i in comp}
        if len(authors) >= p.campaign_authors:
            members = sorted(comp, key=lambda i: feats[i].doc.created_at)
            docs = [feats[i].doc for i in members]
            ev = {
                "related": [d.id for d in docs],
                "authors": len(authors),
                "merchants": sorted({d.merchant for d in docs}),
                # What else the members have in common, for the moderator: the products they target,
                # and how each member that is no copy joined.
                "products": dict(Counter(d.product or "" for d in docs).most_common()),
                "joined": {str(feats[i].doc.id): why for i, why in attached.items() if i in comp},
                "window": [docs[0].created_at.isoformat(), docs[-1].created_at.isoformat()],
                "links": [_describe(feats[i].doc, feats[j].doc, lk, p)
                          for (i, j), lk in cross.items() if i in comp and j in comp],
            }
            for d in docs:
                flags.append(Flag(d.id, "campaign", float(len(authors)), ev))

        # 5: burst of one star value on the merchant, against its own history.
        flags.extend(self._burst(new, recent_same_merchant, stats, window_others))
        return flags

    def _attached(self, cross: dict[tuple[int, int], _Link], core: set[int]) -> dict[int, str]:
        """The reviews that join a copy-confirmed campaign without being copies (paraphrases,
        translations). One link to a copy suffices when it is inside the window (the campaign is
        running now), a rewrite (shared wording and meaning) or across languages (a floor on the
        cosine); a link by meaning alone out of the window needs a second one, to another text of the
        campaign: a second family of copies, or another such review. A copy loosely like several
        genuine reviews of its product (a hub) links each of them once, to one text: that makes no
        campaign of theirs. Members left with a single link are peeled off until each has its two.
        Returns each member with how it joined, for the moderator."""
        p = self.params
        horizon = p.window.total_seconds() / 3600
        lexical: dict[int, set[int]] = defaultdict(set)
        for (i, j), lk in cross.items():
            if lk.kind in LEXICAL:
                lexical[i].add(j)
                lexical[j].add(i)
        family: dict[int, int] = {}  # each copy's template: the texts one text was copied into count once
        for i in sorted(core):
            if i not in family:
                family.update(dict.fromkeys(_component(lexical, i), i))
        families: dict[int, set[int]] = defaultdict(set)
        others: dict[int, set[int]] = defaultdict(set)
        strong: dict[int, str] = {}
        for (i, j), lk in cross.items():
            if lk.kind in LEXICAL:
                continue
            for x, y in ((i, j), (j, i)):
                if x in core:
                    continue
                if y in core:
                    families[x].add(family[y])
                    reason = ("a rewrite of a copy" if lk.kind == "reworded" else
                              "close to a copy inside the time window" if lk.hours <= horizon else
                              "a translation of a copy" if lk.across else None)
                    if reason is not None:
                        strong.setdefault(x, reason)
                else:
                    others[x].add(y)
        members = set(families)
        while weak := {x for x in members - set(strong) if len(families[x]) + len(others[x] & members) < 2}:
            members -= weak
        return {x: strong.get(x, "like a copy and like another member (a triangle)") for x in sorted(members)}

    def _dense_group(self, feats: list[_Feat], cross: dict[tuple[int, int], _Link]) -> set[int]:
        """The new review's group of mutually close texts on one product, with no copy among them:
        each member similar to at least two others (a chain of loose resemblances is no group),
        by at least `dense_authors` distinct authors. Empty when there is none."""
        p = self.params
        product = feats[0].doc.product
        if product is None:
            return set()
        same = {i for i, f in enumerate(feats) if f.doc.product == product}
        adj: dict[int, set[int]] = defaultdict(set)
        for (i, j), lk in cross.items():
            if i in same and j in same and lk.z is not None and lk.z >= p.dense_z:
                adj[i].add(j)
                adj[j].add(i)
        # Peel members with fewer than two links until every one left has two.
        members = set(adj)
        while weak := {i for i in members if len(adj[i] & members) < 2}:
            members -= weak
        if 0 not in members:
            return set()
        group = _component({i: adj[i] & members for i in members}, 0)
        return group if len({feats[i].doc.author for i in group}) >= p.dense_authors else set()

    def _burst(self, new: Doc, recent: list[Doc], stats: Background,
               window_others: list[datetime] | None) -> list[Flag]:
        """Scan statistic: among the windows that end at `new` and start at one of the
        merchant's recent reviews of the same star value, the least likely count under
        the merchant's own history (Bonferroni over the candidate starts). Only the
        reviews inside that tightest window are flagged, not the whole lookback.

        The history's rate is scaled up by the window's surge in the other star values: a
        shop busier than usual (a sale, a product in the news) gets more reviews of every
        star value, and that is no burst. Bought or sabotage reviews move one star value alone."""
        p = self.params
        start = new.created_at - p.window
        if window_others is None:
            window_others = [d.created_at for d in recent if d.merchant == new.merchant and d.rating != new.rating]
        others = sorted(t for t in window_others if start <= t < new.created_at)
        same = [
            *sorted(
                (d for d in recent
                 if d.merchant == new.merchant and d.rating == new.rating
                 and start <= d.created_at < new.created_at),
                key=lambda d: d.created_at,
            ),
            new,
        ]
        first = stats.merchant_first.get(new.merchant)
        if first is None or len(same) < p.burst_min:
            return []
        hist_days = (start - first).total_seconds() / 86400
        if hist_days <= 0:
            return []
        n_hist = max(stats.rating_counts[(new.merchant, new.rating)] - (len(same) - 1), 0)
        r = n_hist + 0.5  # Jeffreys prior on the rate -> negative binomial predictive
        others_hist = sum(n for (merchant, rating), n in stats.rating_counts.items()
                          if merchant == new.merchant and rating != new.rating)
        others_rate = (max(others_hist - len(others), 0) + 0.5) / hist_days  # per day
        # Each candidate window opens at one of these reviews; that opening review is
        # the condition, so the evidence is the m reviews after it within `span`.
        best: tuple[float, int, float, float] | None = None
        n_starts = len(same) - 1
        for s in range(n_starts):
            m = len(same) - s - 1
            span = max((new.created_at - same[s].created_at).total_seconds() / 86400, 1e-6)
            surge = _surge_factor(others, same[s].created_at, others_rate * span)
            q = hist_days / (hist_days + span * surge)  # the same history at the window's pace
            pval = min(1.0, _nb_tail(m, r, q) * n_starts)
            if best is None or pval < best[0]:
                best = (pval, s, span, surge)
        if best is None:  # no earlier review of this star value: no window to test
            return []
        pval, s, w_days, surge = best
        if pval >= p.burst_alpha or len(same) - s < p.burst_min:
            return []
        # The burst is evidence about the window, not about each review in it: a short
        # generic review inside it is as likely an honest buyer's, so it needs content.
        members = same[s:]
        flagged = [d for d in members if stats.info(T.tokens(T.normalize(d.text))) >= p.min_info]
        q = hist_days / (hist_days + w_days * surge)
        ev = {
            "related": [d.id for d in members], "merchant": new.merchant, "rating": new.rating,
            "count": len(members), "expected": round(r * (1 - q) / q, 3), "p_value": pval,
            "window": [members[0].created_at.isoformat(), new.created_at.isoformat()],
            "history_days": round(hist_days, 1), "history_count": n_hist,
            "other_stars_in_window": sum(1 for t in others if t >= members[0].created_at),
            "surge": round(surge, 3),
        }
        score = -math.log10(max(pval, 1e-300))
        return [Flag(d.id, "burst", score, ev) for d in flagged]


def _component(adj: dict[int, set[int]], start: int) -> set[int]:
    comp, todo = {start}, [start]
    while todo:
        for nb in adj.get(todo.pop(), set()) - comp:
            comp.add(nb)
            todo.append(nb)
    return comp


MEASURES = {
    "exact": "the same text, once normalised",
    "near": "a lexical copy: share of character 4-grams in common",
    "semantic": "same-language similarity: cosine, in standard deviations above what is ordinary for these texts",
    "reworded": "a rewrite: share of character 4-grams in common well above two reviews of one product, with "
                "the same meaning in both models (cosine in standard deviations above what is ordinary)",
    "multilingual": "similarity in the multilingual model (works across languages): cosine, in standard deviations "
                    "above what is ordinary for these texts",
}


def _describe(a: Doc, b: Doc, link: _Link, p: Params) -> dict:
    """One link of a flag's evidence, for a moderator: which reviews, by which channel and measure,
    and whether it lies inside the time window."""
    channel = "lexical" if link.kind in LEXICAL else link.kind
    if link.kind in ("semantic", "multilingual", "reworded"):
        languages = "cross-language" if a.language and b.language and a.language != b.language else "same-language"
        channel = f"{link.kind} ({languages})"
    return {
        "a": a.id, "b": b.id, "kind": link.kind, "channel": channel, "measure": MEASURES[link.kind],
        "cosine": round(link.cosine, 4), "lexical": round(link.lexical, 4),
        **({"z": round(link.z, 2)} if link.z is not None else {}),
        **({"thin_history_margin": round(link.thin, 2)} if link.thin else {}),
        "hours_apart": round(link.hours, 1), "inside_window": link.hours <= p.window.total_seconds() / 3600,
    }


def _surge_factor(others: list[datetime], since: datetime, expected: float) -> float:
    """How much faster than usual the shop's other star values came in since `since`: observed
    over expected, each smoothed by one review so that a quiet shop's one or two extra reviews
    barely count, and never below 1 (a quiet window is no reason to suspect more)."""
    observed = len(others) - bisect.bisect_left(others, since)
    return max(1.0, (observed + 1) / (expected + 1))


def merge_flags(flags: list[Flag]) -> list[Flag]:
    """One flag per (review, kind), the strongest; what a flags-table upsert keeps."""
    best: dict[tuple[int, str], Flag] = {}
    for f in flags:
        key = (f.review_id, f.kind)
        if key not in best or f.score > best[key].score:
            best[key] = f
    return list(best.values())


def scan_corpus(docs: list[Doc], params: Params | None = None) -> list[Flag]:
    """Replay docs in created_at order; neighbours = exact top-k cosine among earlier."""
    det = Detector(params)
    p = det.params
    docs = sorted(docs, key=lambda d: d.created_at)
    stats = Background(p)
    flags: list[Flag] = []
    if not docs:
        return flags
    mat = np.stack([np.asarray(d.vector, dtype=np.float32) for d in docs])
    xmat = (np.stack([np.asarray(d.xvector, dtype=np.float32) for d in docs])
            if all(d.xvector is not None for d in docs) else None)
    by_merchant: dict[str, list[Doc]] = defaultdict(list)
    holders: dict[int, list[int]] = defaultdict(list)  # band key -> the docs stored with it
    for n, doc in enumerate(docs):
        neighbours: list[Doc] = []
        keys = lexical_keys(T.normalize(doc.text), p)
        if n:
            # The top k of each channel, as the live scan's two index searches find them, and the
            # reviews sharing the most MinHash bands, as its lexical search (`embedding.shingles`).
            top = list(np.argsort(-(mat[:n] @ mat[n]), kind="stable")[: p.k])
            if xmat is not None:
                top += [i for i in np.argsort(-(xmat[:n] @ xmat[n]), kind="stable")[: p.k] if i not in top]
            shared = Counter(i for key in keys or [] for i in holders.get(key, []))
            lexical = sorted(shared, key=lambda i: (-shared[i], -docs[i].created_at.timestamp(), -i))
            top += [i for i in lexical[:p.lexical_k] if i not in top]
            neighbours = [docs[i] for i in top]
        for key in keys or []:
            holders[key].append(n)
        start = doc.created_at - p.window
        recent = [d for d in by_merchant[doc.merchant] if d.created_at >= start]
        flags.extend(det.scan(doc, neighbours, recent, stats))
        stats.add(doc)
        by_merchant[doc.merchant].append(doc)
    return merge_flags(flags)

