"""Topics from clauses: which clauses group together, which groups have enough support to be
shown, and what each shows (a buyer's phrase as its label, its figures, its candidate quotes).

Every figure is a count of distinct published reviews; every label and quote is a clause, a span
of one review's text. No score is invented: the stars of the reviews that mention a topic speak
for how buyers feel about it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from reviews.insights.clauses import words
from reviews.insights.grouping import NONE, Grouping, group

HIGH, MID, LOW = "high", "mid", "low"  # 4-5 stars, 3 stars, 1-2 stars
# Quote candidates kept per topic, language and star band: the widget picks two or three of them.
QUOTES_PER_BAND = 2
# A quote of fewer words says less than the label already does: such clauses are quoted last.
QUOTE_MIN_WORDS = 3


# Tuned on the development corpus with `bench/topics.py --sweep` (see its docstring): `rescue` is
# the one that moves purity and coverage on small products (0.30-0.33 keep coverage at its
# plateau, purity rises with it; above 0.36 coverage falls); `join` only matters on large ones.
# `adopt` keeps purity and coverage from 0.35 to 0.5 and gathers more of an aspect's reviews in
# one topic below 0.44 (its largest topic holds 0.780 of them at 0.36-0.42, 0.763 at 0.5); at
# 0.34 purity falls. 0.38: the middle of that plateau.
GROUPING = Grouping(join=0.5, rescue=0.33, adopt=0.38, attach=0.5, sample=1500)


@dataclass(frozen=True)
class Params:
    grouping: Grouping = GROUPING
    min_reviews: int = 3  # a topic is shown with at least this many reviews ...
    min_authors: int = 3  # ... from at least this many distinct authors
    max_topics: int = 20
    label_words: int = 6  # a label is a clause of at most this many words


@dataclass(frozen=True)
class Mention:
    """One clause of a published review, with what the topic figures need of its review."""

    review_id: int
    field: str
    start: int
    end: int
    text: str
    language: str
    rating: int
    author: str


@dataclass(frozen=True)
class Placed:
    """A mention in a topic: how central it is (cosine to the topic's centroid), and whether it is
    the topic's label in its language or one of its quote candidates (rank 1, 2 in its band)."""

    mention: Mention
    centrality: float
    label: bool = False
    quote_rank: int | None = None


@dataclass(frozen=True)
class Topic:
    position: int  # 0 = the most mentioned
    review_count: int
    stars: dict[str, int]  # HIGH, MID, LOW -> reviews
    languages: dict[str, int]  # language -> reviews
    main_language: str  # of the label shown when the visitor's language has none
    mentions: list[Placed] = field(default_factory=list)

    def label(self, language: str) -> Placed | None:
        return next((p for p in self.mentions if p.label and p.mention.language == language), None)


def band(rating: int) -> str:
    return HIGH if rating >= 4 else MID if rating == 3 else LOW


@lru_cache(maxsize=65536)
def _word_count(text: str) -> int:
    return len(words(text))


def _placed(members: list[Mention], centrality: np.ndarray, label_words: int) -> list[Placed]:
    """Marks each language's label and quote candidates among a topic's mentions."""
    order = sorted(range(len(members)), key=lambda i: (-round(float(centrality[i]), 6), members[i].review_id,
                                                       members[i].field, members[i].start))
    labels: dict[str, int] = {}
    by_language: dict[str, list[int]] = defaultdict(list)
    for i in order:
        by_language[members[i].language].append(i)
    for language, ids in by_language.items():
        short = [i for i in ids if _word_count(members[i].text) <= label_words]
        # The most central short phrase; without one, the shortest clause (a label is never cut).
        labels[language] = short[0] if short else min(ids, key=lambda i: (len(members[i].text), order.index(i)))
    ranks: dict[int, int] = {}
    for ids in by_language.values():
        quotable = sorted(ids, key=lambda i: _word_count(members[i].text) < QUOTE_MIN_WORDS)  # stable: keeps order
        for b in (HIGH, MID, LOW):
            seen: set[int] = set()
            for i in quotable:
                m = members[i]
                if band(m.rating) != b or m.review_id in seen:
                    continue
                seen.add(m.review_id)
                ranks[i] = len(seen)
                if len(seen) == QUOTES_PER_BAND:
                    break
    return [Placed(members[i], float(centrality[i]), label=labels[members[i].language] == i,
                   quote_rank=ranks.get(i)) for i in order]


def _main_language(languages: Counter[str], placed: list[Placed], label_words: int) -> str:
    """The language most of the topic's reviews are in; between equals, the one whose label is a
    short phrase and the more central."""
    labels = {p.mention.language: p for p in placed if p.label}

    def key(lang: str) -> tuple[int, bool, float, str]:
        label = labels[lang]
        return -languages[lang], _word_count(label.mention.text) > label_words, -label.centrality, lang

    return min(languages, key=key)


def build(mentions: list[Mention], vectors: np.ndarray, params: Params = Params()) -> list[Topic]:
    """The topics of one product's (or the shop's) published reviews, most mentioned first.

    `mentions` are the clauses that name something (see `clauses.is_empty`) in a fixed order
    (review id, field, start) and `vectors` their unit vectors, row for row."""
    if not mentions:
        return []

    def supported(rows: list[int]) -> bool:
        reviews = {mentions[i].review_id: mentions[i].author for i in rows}
        return len(reviews) >= params.min_reviews and len(set(reviews.values())) >= params.min_authors

    labels = group(vectors, [m.text for m in mentions], params.grouping, supported)
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels.tolist()):
        if label != NONE:
            members[label].append(i)
    # The supported groups, most mentioned first (then by their first review: a fixed order);
    # only the ones shown are worked out further.
    ranked = sorted(((-len({mentions[i].review_id for i in rows}), mentions[rows[0]].review_id, label)
                     for label, rows in members.items() if supported(rows)))
    found = []
    for position, (_, _, label) in enumerate(ranked[:params.max_topics]):
        rows = members[label]
        reviews = {mentions[i].review_id: mentions[i] for i in rows}
        centroid = vectors[rows].astype(np.float64).sum(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        centrality = vectors[rows].astype(np.float64) @ centroid
        stars = Counter(band(m.rating) for m in reviews.values())
        languages = Counter(m.language for m in reviews.values())
        placed = _placed([mentions[i] for i in rows], centrality, params.label_words)
        found.append(Topic(position, len(reviews), {b: stars.get(b, 0) for b in (HIGH, MID, LOW)},
                           dict(sorted(languages.items())), _main_language(languages, placed, params.label_words),
                           placed))
    return found
