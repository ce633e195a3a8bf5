"""Grouping and topic building without a database: deterministic, counted per review and author,
and the sampled path for large products."""

from __future__ import annotations

import numpy as np

from reviews.insights import topics
from reviews.insights.grouping import NONE, Grouping, group


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _blobs(n_per: int, centres: int, seed: int = 7, noise: float = 0.05) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    base = _unit(rng.normal(size=(centres, 64)))
    which = [i % centres for i in range(n_per * centres)]
    return _unit(base[which] + noise * rng.normal(size=(len(which), 64))), which


def _everyone(rows: list[int]) -> bool:
    return len(rows) >= 3


def test_the_same_input_gives_the_same_groups() -> None:
    vectors, _ = _blobs(20, 4)
    texts = [f"clause {i}" for i in range(len(vectors))]
    params = Grouping(join=0.5, rescue=0.4, adopt=0.5, attach=0.5, sample=1500)
    first = group(vectors, texts, params, _everyone)
    assert np.array_equal(first, group(vectors.copy(), list(texts), params, _everyone))
    assert first[0] == 0  # numbered by first appearance


def test_blobs_are_found_and_repeated_texts_share_a_group() -> None:
    vectors, which = _blobs(20, 4)
    texts = [f"clause {i}" for i in range(len(vectors))]
    texts[5] = texts[1]  # a repeat (the same words, another review) is clustered once
    vectors[5] = vectors[1]
    labels = group(vectors, texts, Grouping(join=0.5, rescue=0.4, adopt=0.5, attach=0.5, sample=1500), _everyone)
    assert labels[5] == labels[1]
    for centre in range(4):
        members = {int(labels[i]) for i, w in enumerate(which) if w == centre}
        assert len(members) == 1 and NONE not in members
    assert len(set(labels.tolist())) == 4


def test_beyond_the_sample_clauses_join_the_nearest_group_deterministically() -> None:
    vectors, which = _blobs(60, 5)
    texts = [f"clause {i}" for i in range(len(vectors))]
    params = Grouping(join=0.5, rescue=0.4, adopt=0.5, attach=0.5, sample=40)
    labels = group(vectors, texts, params, _everyone)
    assert np.array_equal(labels, group(vectors, texts, params, _everyone))
    for centre in range(5):
        members = [int(labels[i]) for i, w in enumerate(which) if w == centre]
        # Nearly every clause lands with its blob's majority (a few may start groups of their own).
        assert max(members.count(g) for g in set(members)) >= 0.9 * len(members)


def test_support_counts_distinct_reviews_and_authors() -> None:
    vectors, _ = _blobs(6, 1, noise=0.02)
    mentions = [topics.Mention(review_id=i // 2, field="body", start=0, end=5, text=f"text {i}", language="en",
                               rating=5 if i < 4 else 1, author="same" if i < 4 else f"a{i}") for i in range(6)]
    # Three reviews (0, 1, 2) but two of them by one author: below the rule.
    assert topics.build(mentions, vectors) == []
    fair = [topics.Mention(m.review_id, m.field, m.start, m.end, m.text, m.language, m.rating, f"a{m.review_id}")
            for m in mentions]
    [topic] = topics.build(fair, vectors)
    assert topic.review_count == 3 and topic.stars == {"high": 2, "mid": 0, "low": 1}
    assert sum(p.label for p in topic.mentions) == 1


def test_a_group_the_tree_kept_apart_still_joins_a_close_one() -> None:
    # Three clauses with support (g), a pair without (p) as close to them as `adopt` on average,
    # and a stray (s) a little closer to the pair than that but below `rescue`: average linkage
    # offers the pair the stray first, that merge is refused, and the tree never offers the pair
    # the group again. Every pair of groups is offered again afterwards, so the pair joins it.
    e = np.eye(4)
    a, c = 0.42, 0.44 / np.sqrt(1 - 0.42 ** 2)
    g = [e[0]] * 3
    p = [a * e[0] + np.sqrt(1 - a * a) * e[1]] * 2
    s = [c * e[1] + np.sqrt(1 - c * c) * e[2]]
    vectors = _unit(np.array(g + p + s))
    params = Grouping(join=0.5, rescue=0.45, adopt=0.4, attach=0.5, sample=1500)
    labels = group(vectors, [f"clause {i}" for i in range(6)], params, _everyone).tolist()
    assert labels[:5] == [labels[0]] * 5 and labels[5] != labels[0]
    # Above `adopt`, the pair stays on its own.
    strict = group(vectors, [f"clause {i}" for i in range(6)], Grouping(join=0.5, rescue=0.45, adopt=0.43, attach=0.5,
                                                                       sample=1500), _everyone).tolist()
    assert strict[3] == strict[4] != strict[0]
