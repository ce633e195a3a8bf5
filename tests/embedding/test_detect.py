from datetime import UTC, datetime, timedelta

import numpy as np

from embedding import text as T
from embedding.detect import (
    Background,
    Detector,
    Doc,
    Params,
    _candidate_pairs,
    _feat,
    _Link,
    _link,
    lexical_keys,
    scan_corpus,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
LONG = (
    "The walnut desk lamp arrived with a cracked brass hinge, support replaced it "
    "within four days and the new one has a warmer bulb than advertised."
)
LONG_EDIT = (  # emoji, a typo, a dropped word, swapped sentences
    "Support replaced it within four days and the new one has a warmer bulb than "
    "advertized 😡 The walnut lamp arrived with a cracked brass hinge!!"
)
# LONG's campaign in other words, and in Spanish.
PARA = ("Honestly the finest lamp I have owned: sturdy hinge, warm light, quick swap when something broke, "
        "customer care deserves praise.")
TRANSLATION = ("Sinceramente la mejor lámpara que he tenido: bisagra robusta, luz cálida y un cambio rapidísimo "
               "cuando algo se rompió.")
OTHER = [
    "Bought these hiking socks for a trip to Iceland, still no holes after two weeks.",
    "Coffee grinder is loud, but the burrs are consistent and cleaning takes a minute.",
    "Our cat ignored the scratching post for a month and now sleeps on top of it.",
    "Printer ink cartridges lasted half as long as the box claimed, disappointing.",
]


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def rng_vec(rng, dim):
    return unit(rng.normal(size=dim))


def doc(i, text, author, vec, hours=0.0, merchant="shop", rating=5, product="p1"):
    return Doc(i, merchant, author, product, rating, text, T0 + timedelta(hours=hours), unit(vec))


def flagged(flags, kind=None):
    return {f.review_id for f in flags if kind is None or f.kind == kind}


def random_text(rng, n_words=14):
    letters = list("abcdefghijklmnopqrstuvwxyz")
    return " ".join("".join(rng.choice(letters, size=rng.integers(3, 9))) for _ in range(n_words))


def background_docs(rng, dim, n=30, start=0):
    """Unrelated reviews spread over the weeks before, one per merchant-day."""
    return [
        doc(start + i, random_text(rng), f"bg{i}", rng_vec(rng, dim),
            hours=-24.0 * (n - i) - 200, merchant=f"m{i % 7}", rating=1 + i % 5)
        for i in range(n)
    ]


# ------------------------------------------------------------------------- text


def test_normalize_folds_case_accents_emoji_punctuation_whitespace():
    assert T.normalize("  Łódź: ŻÓŁĆ!!  😍 Crème   brûlée\n") == "lodz zolc creme brulee"
    assert T.normalize("¡Increíbles las zapatillas! 👟") == T.normalize("increibles las ZAPATILLAS")
    assert T.normalize("Mulțumesc, totul a fost perfect") == "multumesc totul a fost perfect"
    assert T.normalize("") == ""


def test_shingles_and_jaccard():
    a = T.shingles(T.normalize(LONG))
    b = T.shingles(T.normalize(LONG_EDIT))
    c = T.shingles(T.normalize(OTHER[0]))
    assert T.jaccard(a, a) == 1.0
    assert 0.5 < T.jaccard(a, b) < 1
    assert T.jaccard(a, c) < 0.2
    assert T.shingles("ok") == frozenset([" ok "])


def test_shingle_ids_are_the_shingles_as_numbers():
    texts = ["", "ok", "abcd", LONG, LONG_EDIT, *OTHER, "Zażółć gęślą jaźń, 😀 świetny towar", "aaaa aaaa"]
    for text in texts:
        norm = T.normalize(text)
        ids = T.shingle_ids(norm)
        assert len(ids) == len(T.shingles(norm)) and len(set(ids.tolist())) == len(ids)
    # Shared shingles are shared ids: the Jaccard index comes out the same.
    a, b = T.normalize(LONG), T.normalize(LONG_EDIT)
    shared = len(np.intersect1d(T.shingle_ids(a), T.shingle_ids(b)))
    assert shared == len(T.shingles(a) & T.shingles(b)) > 0

    assert (np.diff(T.shingle_ids(a).astype(np.float64)) > 0).all()  # sorted, as intersect1d wants them


def test_distinct_and_ranks_are_numpys_unique():
    """The sort-based stand-ins for `np.unique` (with and without `return_inverse`) give its
    answers: on empty, single, all-equal, few-valued and 64-bit arrays."""
    rng = np.random.default_rng(11)
    cases = [np.array([], dtype=np.uint64), np.array([7], dtype=np.uint64), np.full(5, 3, dtype=np.uint64)]
    cases += [rng.integers(0, 4, n).astype(np.uint64) for n in (2, 9, 40)]
    cases += [rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) for n in (300, 5000)]
    for values in cases:
        assert np.array_equal(T.distinct(values), np.unique(values))
        assert T.distinct(values).dtype == values.dtype
        if len(values):
            assert np.array_equal(T.ranks(values), np.unique(values, return_inverse=True)[1])


def test_the_pair_prefilter_never_drops_a_link():
    """Every pair `_link` would link is among the pre-filter's candidates, on a mix of copies,
    light edits, semantic neighbours in two channels and unrelated texts."""
    rng = np.random.default_rng(5)
    dim = 24
    base, xbase = rng_vec(rng, dim), rng_vec(rng, dim)
    texts = [LONG, LONG_EDIT, LONG, *OTHER, "Great product, fast delivery", "Great product, fast delivery!"]
    feats = []
    stats = Background(Params())
    for d in background_docs(rng, dim, n=40):
        stats.add(Doc(d.id, d.merchant, d.author, d.product, d.rating, d.text, d.created_at, d.vector,
                      xvector=rng_vec(rng, dim), language="en"))
    for i, text in enumerate(texts * 3):
        near = i % 2 == 0
        vec = unit(base + (0.2 if near else 3.0) * rng_vec(rng, dim))
        xvec = unit(xbase + (0.2 if near else 3.0) * rng_vec(rng, dim))
        d = Doc(1000 + i, "shop", f"a{i}", "p1", 5, text, T0 + timedelta(days=10 * i), vec, xvector=xvec,
                language="en" if i % 3 else "de")
        feats.append(_feat(d, stats))
    p = Params()
    linked = {(i, j) for i in range(len(feats)) for j in range(i + 1, len(feats))
              if _link(feats[i], feats[j], stats, p) is not None}
    kinds = {_link(feats[i], feats[j], stats, p).kind for i, j in linked}  # type: ignore[union-attr]
    assert {"exact", "near", "semantic", "multilingual"} <= kinds  # the test covers every kind of link
    pairs, lexical = _candidate_pairs(feats, p)
    candidates = set(pairs)
    assert linked <= candidates
    # The Jaccard matrix is the shingle sets' own figure.
    assert all(abs(lexical[i, j] - T.jaccard(T.shingles(feats[i].norm), T.shingles(feats[j].norm))) < 1e-12
               for i in range(len(feats)) for j in range(len(feats)))
    assert len(candidates) < len(feats) * (len(feats) - 1) // 2  # and it does filter


def test_informativeness_downweights_common_words():
    words = T.tokens(T.normalize("Todo perfecto, envío rápido"))
    assert T.informativeness(words) == len(words)  # empty corpus: every word counts
    df = {w: 60 for w in words}
    assert T.informativeness(words, df, n_docs=300) < 2
    long_words = T.tokens(T.normalize(LONG))
    assert T.informativeness(long_words, df, 300) > 15
    weights = T.Weights(df, 300)  # the memo a scan uses: the same figures
    assert [weights.informativeness(w) for w in (words, long_words, words)] == \
        [T.informativeness(w, df, 300) for w in (words, long_words, words)]
    assert T.shared_informativeness(words, long_words) == 0


# ------------------------------------------------------------------------- detector


def test_identical_long_texts_by_different_authors_are_exact_duplicates():
    rng = np.random.default_rng(1)
    v = rng_vec(rng, 8)
    flags = scan_corpus([doc(1, LONG, "a", v), doc(2, LONG.upper() + " !!", "b", v, hours=400)])
    assert flagged(flags, "exact_duplicate") == {1, 2}
    assert flagged(flags, "self_duplicate") == set()


def test_light_edit_by_different_author_is_near_duplicate():
    rng = np.random.default_rng(2)
    v = rng_vec(rng, 8)
    flags = scan_corpus([doc(1, LONG, "a", v), doc(2, LONG_EDIT, "b", v + 0.05, hours=5)])
    assert flagged(flags, "near_duplicate") == {1, 2}


def test_identical_short_generic_texts_by_different_authors_are_not_flagged():
    rng = np.random.default_rng(3)
    v = rng_vec(rng, 8)
    docs = [doc(i, t, f"u{i}", v, hours=i) for i, t in enumerate(
        ["Super, polecam!", "super polecam", "Todo perfecto, envío rápido",
         "Todo perfecto, envío rápido.", "Great product, fast delivery!", "great product fast delivery"]
    )]
    assert scan_corpus(docs) == []


def test_same_author_twice_flags_only_the_later_copy():
    rng = np.random.default_rng(4)
    v = rng_vec(rng, 8)
    flags = scan_corpus([
        doc(1, LONG, "buyer", v, product="lamp"),
        doc(2, LONG_EDIT, "buyer", v, hours=0.1, product="bulb"),
    ])
    assert {(f.review_id, f.kind) for f in flags} == {(2, "self_duplicate")}
    assert flags[0].evidence["related"] == [1]


def test_cluster_forming_later_flags_the_earlier_members():
    rng = np.random.default_rng(5)
    v = rng_vec(rng, 16)
    docs = [
        *background_docs(rng, 16),
        doc(100, LONG, "a", v, hours=0),
        doc(101, LONG_EDIT, "b", v + 0.05 * rng.normal(size=16), hours=10, merchant="other"),
        doc(102, LONG, "c", v, hours=20),
    ]
    flags = scan_corpus(docs)
    camp = [f for f in flags if f.kind == "campaign"]
    assert {100, 101, 102} <= flagged(camp)
    assert not flagged(flags) & set(range(30))
    ev = next(f.evidence for f in camp if f.review_id == 100)
    assert ev["authors"] == 3 and ev["merchants"] == ["other", "shop"]


def test_paraphrase_joins_a_lexically_confirmed_campaign_in_the_window():
    rng = np.random.default_rng(6)
    dim = 32
    v = rng_vec(rng, dim)
    paraphrase = (
        "Honestly the finest lamp I have owned: sturdy hinge, warm light, quick swap "
        "when something broke, customer care deserves praise."
    )
    docs = [
        *background_docs(rng, dim),
        doc(100, LONG, "a", v, hours=0),
        doc(101, LONG, "b", v, hours=3),
        doc(102, paraphrase, "c", unit(v) + 0.3 * rng_vec(rng, dim), hours=6),
        doc(103, random_text(rng), "d", rng_vec(rng, dim), hours=7),   # unrelated
        # Ten days later, another paraphrase: out of the window, one channel is not enough.
        doc(104, "Sturdy hinge and a warm light, the best desk lamp in years; support swapped the broken one "
                 "quickly and kindly.", "e", unit(v) + 0.3 * rng_vec(rng, dim), hours=24 * 10),
    ]
    flags = scan_corpus(docs)
    camp = flagged(flags, "campaign")
    assert {100, 101, 102} <= camp
    assert 104 not in camp
    assert 103 not in camp


def test_burst_against_the_merchant_baseline():
    rng = np.random.default_rng(7)
    dim = 8
    history = [
        doc(i, random_text(rng), f"h{i}", rng_vec(rng, dim),
            hours=-24.0 * 5 * (40 - i), rating=4)
        for i in range(40)
    ]
    burst = [
        doc(100 + i, random_text(rng), f"x{i}",
            rng_vec(rng, dim), hours=i * 2.0, rating=5)
        for i in range(8)
    ]
    flags = scan_corpus(history + burst)
    assert flagged(flags, "burst") == {100 + i for i in range(8)}
    ev = next(f.evidence for f in flags if f.kind == "burst")
    assert ev["p_value"] < 1e-3 and ev["rating"] == 5
    assert scan_corpus(history) == []


def test_a_busy_week_is_no_burst_but_one_star_value_alone_is():
    """A sale brings more reviews of every star value: no burst. The same five-star surge
    while the other star values keep their usual pace is one."""
    rng = np.random.default_rng(11)
    dim = 8
    ratings = [5, 5, 5, 4, 3]  # the shop's usual mix
    history = [doc(i, random_text(rng), f"h{i}", rng_vec(rng, dim), hours=-24.0 * (60 - i * 0.5),
                   rating=ratings[i % 5]) for i in range(100)]  # two reviews a day for 50 days
    sale = [doc(200 + i, random_text(rng), f"s{i}", rng_vec(rng, dim), hours=i * 1.2,
                rating=ratings[i % 5]) for i in range(50)]  # ten times the pace, the same mix
    flags = scan_corpus(history + sale)
    assert flagged(flags, "burst") == set()
    bought = [doc(300 + i, random_text(rng), f"b{i}", rng_vec(rng, dim), hours=i * 1.2, rating=5)
              for i in range(30)]  # the five-star count of the sale, nothing else moves
    flags = scan_corpus(history + bought)
    assert len(flagged(flags, "burst")) >= 25
    ev = next(f.evidence for f in flags if f.kind == "burst")
    assert ev["surge"] == 1.0 and ev["other_stars_in_window"] == 0


def test_any_dimension_and_live_scan_shape():
    rng = np.random.default_rng(8)
    for dim in (3, 1024):
        v = rng_vec(rng, dim)
        a, b = doc(1, LONG, "a", v), doc(2, LONG, "b", v, hours=1)
        det = Detector(Params())
        stats = det.background([a])
        flags = det.scan(b, [a], [a], stats)
        assert {(f.review_id, f.kind) for f in flags} == {(1, "exact_duplicate"), (2, "exact_duplicate")}
        assert all(isinstance(f.evidence["related"], list) for f in flags)


# ------------------------------------------------------------------ beyond the time window


def _channels(rng, dim, n_background=30):
    """Background reviews with a vector in each channel (unrelated to one another in both)."""
    return [
        Doc(i, f"m{i % 7}", f"bg{i}", "p9", 1 + i % 5, random_text(rng), T0 - timedelta(days=200 - i),
            rng_vec(rng, dim), xvector=rng_vec(rng, dim), language="en")
        for i in range(n_background)
    ]


def test_a_campaign_posted_over_months_is_found_by_its_text_with_both_channels():
    rng = np.random.default_rng(11)
    dim = 32
    v, xv = rng_vec(rng, dim), rng_vec(rng, dim)
    months = [Doc(100, "shop", "a", "p1", 5, LONG, T0, v, xvector=xv, language="en"),
              Doc(101, "shop", "b", "p1", 5, LONG_EDIT, T0 + timedelta(days=40), unit(v + 0.05 * rng_vec(rng, dim)),
                  xvector=unit(xv + 0.05 * rng_vec(rng, dim)), language="en"),
              Doc(102, "shop", "c", "p1", 5, PARA, T0 + timedelta(days=90), unit(v + 0.3 * rng_vec(rng, dim)),
                  xvector=unit(xv + 0.3 * rng_vec(rng, dim)), language="en"),
              Doc(103, "shop", "d", "p1", 5, TRANSLATION, T0 + timedelta(days=150), rng_vec(rng, dim),
                  xvector=unit(xv + 0.3 * rng_vec(rng, dim)), language="es")]
    flags = scan_corpus([*_channels(rng, dim), *months])
    camp = [f for f in flags if f.kind == "campaign"]
    # The earliest member is held too, months after it was posted.
    assert {100, 101, 102, 103} <= flagged(camp)
    assert not flagged(flags) & set(range(30))
    ev = next(f.evidence for f in camp if f.review_id == 103)
    links = {(link["a"], link["b"]): link for link in ev["links"]}
    translated = next(link for pair, link in links.items() if 103 in pair)
    assert translated["kind"] == "multilingual" and translated["channel"] == "multilingual (cross-language)"
    assert translated["inside_window"] is False and translated["hours_apart"] > 24 * 40
    lexical = next(link for pair, link in links.items() if set(pair) == {100, 101})
    assert lexical["channel"] == "lexical" and "4-grams" in lexical["measure"]

    # Without the multilingual channel, a paraphrase months away is two buyers praising one lamp.
    alone = [Doc(d.id, d.merchant, d.author, d.product, d.rating, d.text, d.created_at, d.vector, language=d.language)
             for d in [*_channels(np.random.default_rng(11), dim), *months]]
    camp = flagged(scan_corpus(alone), "campaign")
    assert 102 not in camp and 103 not in camp


def test_a_translation_posted_before_there_was_history_is_judged_against_the_campaigns_background():
    """A farm's first post may come before the corpus has a background for it: across languages and
    out of the window, the other review's background is enough. Within one language it is not."""
    rng = np.random.default_rng(12)
    dim = 32
    v, xv = rng_vec(rng, dim), rng_vec(rng, dim)

    def run(early_text: str, language: str) -> set[int]:
        r = np.random.default_rng(3)
        early = Doc(90, "shop", "d", "p1", 5, early_text, T0 - timedelta(days=400), unit(v + 0.3 * rng_vec(r, dim)),
                    xvector=unit(xv + 0.2 * rng_vec(r, dim)), language=language)
        later = [Doc(100, "shop", "a", "p1", 5, LONG, T0, v, xvector=xv, language="en"),
                 Doc(101, "shop", "b", "p1", 5, LONG_EDIT, T0 + timedelta(days=40), unit(v + 0.05 * rng_vec(r, dim)),
                     xvector=unit(xv + 0.05 * rng_vec(r, dim)), language="en")]
        flags = scan_corpus([*_channels(np.random.default_rng(12), dim), early, *later])
        return flagged(flags, "campaign")

    assert {90, 100, 101} <= run(TRANSLATION, "es")
    assert 90 not in run(PARA, "en")


def test_a_generic_review_months_later_never_joins_a_campaign():
    rng = np.random.default_rng(12)
    dim = 32
    v, xv = rng_vec(rng, dim), rng_vec(rng, dim)
    docs = [*_channels(rng, dim),
            Doc(100, "shop", "a", "p1", 5, LONG, T0, v, xvector=xv, language="en"),
            Doc(101, "shop", "b", "p1", 5, LONG, T0 + timedelta(days=30), v, xvector=xv, language="en"),
            Doc(102, "shop", "c", "p1", 5, "Great lamp, fast delivery", T0 + timedelta(days=60), v, xvector=xv,
                language="en")]
    flags = scan_corpus(docs)
    assert {100, 101} <= flagged(flags)
    assert 102 not in flagged(flags)


def test_copies_sent_at_one_instant_hold_the_later_one_only():
    rng = np.random.default_rng(13)
    dim = 16
    v = rng_vec(rng, dim)
    docs = [*background_docs(rng, dim),
            doc(100, LONG, "a", v, hours=0, product="p1"), doc(101, LONG, "a", v, hours=0, product="p2")]
    flags = scan_corpus(docs)
    assert flagged(flags, "self_duplicate") == {101}
    assert 100 not in flagged(flags)


# ------------------------------------------------------------------ issue 26: hubs, thin history, rewrites, copies


def _vec_near(rng, base, spread, dim):
    return unit(base + spread * rng_vec(rng, dim))


def test_a_copy_loosely_like_several_genuine_reviews_does_not_make_them_a_campaign():
    """A hub: one template copied by three accounts, each copy weakly like several genuine reviews of
    the product (unlike each other) months apart. The copies are a campaign; the genuine reviews are
    linked to it once each, to one text, and stay out. A rewrite linked to the template and to another
    rewrite closes a triangle and joins."""
    rng = np.random.default_rng(21)
    dim = 48
    template, xtemplate = rng_vec(rng, dim), rng_vec(rng, dim)
    hub = [Doc(100 + i, "shop", f"farm{i}", "p1", 5, LONG, T0 + timedelta(days=30 * i), template, xvector=xtemplate,
               language="en") for i in range(3)]

    # Each genuine review shares a part of the template's direction in both channels (a weak link, out
    # of the window) and otherwise points its own way.
    def loosely(i: int, weight: float) -> tuple[np.ndarray, np.ndarray]:
        r = np.random.default_rng(100 + i)
        return unit(weight * template + rng_vec(r, dim)), unit(weight * xtemplate + rng_vec(r, dim))

    genuine = []
    for i, text in enumerate(OTHER):
        vec, xvec = loosely(i, 0.9)
        genuine.append(Doc(200 + i, "shop", f"buyer{i}", "p1", 4, text, T0 + timedelta(days=10 + 20 * i), vec,
                           xvector=xvec, language="en"))
    docs = [*_channels(rng, dim, 40), *hub, *genuine]
    p = Params()
    flags = scan_corpus(docs, p)
    assert {100, 101, 102} <= flagged(flags, "campaign")
    assert not flagged(flags) & {200, 201, 202, 203}
    # The genuine reviews were linked to the hub: the test exercises the rule, not a miss of the links.
    stats = Background(p)
    for d in sorted(docs, key=lambda d: d.created_at):
        stats.add(d)
    feats = {d.id: _feat(d, stats) for d in [*hub, *genuine]}
    weak = [_link(feats[100], feats[200 + i], stats, p) for i in range(len(OTHER))]
    assert sum(lk is not None and lk.kind == "semantic" for lk in weak) >= 2

    # Two rewrites, each like the template and like each other: a triangle, so they join.
    shared = rng_vec(rng, dim)
    rewrites = [Doc(300 + i, "shop", f"writer{i}", "p1", 5, text, T0 + timedelta(days=70 + 25 * i),
                    unit(0.9 * template + 0.6 * shared + 0.5 * rng_vec(rng, dim)),
                    xvector=unit(0.9 * xtemplate + 0.6 * shared[:dim] + 0.5 * rng_vec(rng, dim)), language="en")
                # Rewrites with little wording in common with the template: they join by meaning.
                for i, text in enumerate([PARA, "Best reading light I have bought: solid joint, cosy glow, and when "
                                                "something broke they swapped it fast."])]
    flags = scan_corpus([*docs, *rewrites], p)
    assert {300, 301} <= flagged(flags, "campaign")
    assert not flagged(flags) & {200, 201, 202, 203}
    ev = next(f.evidence for f in flags if f.review_id == 301 and f.kind == "campaign")
    assert "triangle" in ev["joined"]["301"] and ev["products"] == {"p1": len(ev["related"])}


def test_a_background_drawn_from_a_thin_history_asks_more_of_a_link():
    """Inside the window one channel suffices, by `z` standard deviations; while the review's language
    has fewer than `rich_history` stored reviews its background is no measure of the ordinary, and
    the link needs up to `thin_margin` more."""
    rng = np.random.default_rng(22)
    dim = 32
    p = Params()
    base = rng_vec(rng, dim)

    def pair_link(history: int) -> _Link | None:
        stats = Background(p)
        for d in _channels(np.random.default_rng(23), dim, 40):
            stats.add(d)
        stats.language_counts["en"] = history  # as if that many English reviews had been stored
        a = Doc(1001, "shop", "a", "p1", 5, LONG, T0, unit(base), xvector=rng_vec(rng, dim), language="en")
        fa = _feat(a, stats)
        # b's vector sits at the cosine from a's that puts the pair's z halfway between z and z + thin_margin
        # (b's background is a's, near enough: it is computed against the same older reviews).
        assert fa.profile is not None
        target = fa.profile[0] + (p.z + p.thin_margin / 2) * fa.profile[1]
        b = Doc(1002, "shop", "b", "p1", 5, PARA, T0 + timedelta(hours=5),
                _with_cosine(a.vector, target, rng), xvector=rng_vec(rng, dim), language="en")
        fb = _feat(b, stats)
        fb.profile = fa.profile
        return _link(fa, fb, stats, p)

    thin, rich = pair_link(0), pair_link(p.rich_history)
    assert thin is None
    assert rich is not None and rich.kind == "semantic" and rich.thin == 0


def _with_cosine(v: np.ndarray, cos: float, rng) -> np.ndarray:
    """A unit vector at cosine `cos` from the unit vector v."""
    other = rng.normal(size=v.shape[0])
    other -= other.dot(v) * v
    other /= np.linalg.norm(other)
    return unit(cos * v + np.sqrt(max(0.0, 1 - cos ** 2)) * other)


def test_a_rewrite_keeps_enough_wording_to_join_at_any_age_and_a_like_minded_review_does_not():
    """A rewrite months later: out of the window a link by meaning alone would need a second one, but
    shared wording (4-gram Jaccard at least `reworded`) with a meaning above the ordinary in both
    channels is a link of its own. A review as close in meaning with no wording in common is not."""
    rng = np.random.default_rng(24)
    dim = 32
    p = Params()
    v, xv = rng_vec(rng, dim), rng_vec(rng, dim)
    rewrite = ("The walnut desk lamp came with its brass hinge cracked; support sent a new one in four days, "
               "and the bulb is warmer than the listing said.")
    unrelated_words = "Support swapped a broken item quickly; this light looks lovely on my table, glad I ordered."
    assert T.jaccard(T.shingles(T.normalize(LONG)), T.shingles(T.normalize(rewrite))) >= p.reworded
    assert T.jaccard(T.shingles(T.normalize(LONG)), T.shingles(T.normalize(unrelated_words))) < p.reworded
    campaign = [Doc(100 + i, "shop", f"farm{i}", "p1", 5, LONG, T0 + timedelta(days=20 * i), v, xvector=xv,
                    language="en") for i in range(3)]

    def late(text: str) -> Doc:
        r = np.random.default_rng(7)
        return Doc(200, "shop", "late", "p1", 5, text, T0 + timedelta(days=150), unit(v + 0.8 * rng_vec(r, dim)),
                   xvector=unit(xv + 0.8 * rng_vec(r, dim)), language="en")

    base = [*_channels(rng, dim, 40), *campaign]
    joined = scan_corpus([*base, late(rewrite)], p)
    assert 200 in flagged(joined, "campaign")
    ev = next(f.evidence for f in joined if f.review_id == 200 and f.kind == "campaign")
    assert any(link["kind"] == "reworded" and 200 in (link["a"], link["b"]) for link in ev["links"])
    assert ev["joined"] == {"200": "a rewrite of a copy"}
    assert 200 not in flagged(scan_corpus([*base, late(unrelated_words)], p))


def test_a_copy_months_later_is_found_when_closer_reviews_fill_its_vector_neighbourhood():
    """The lexical path: the copy's vectors sit away from the template's (a model's bad day), and
    thirty reviews closer to it in both channels fill each top-k; the MinHash bands still bring the
    template and its first copy in, and the copy joins their campaign."""
    rng = np.random.default_rng(25)
    dim = 32
    p = Params()
    v, xv = rng_vec(rng, dim), rng_vec(rng, dim)
    w, xw = rng_vec(rng, dim), rng_vec(rng, dim)
    campaign = [Doc(100 + i, f"shop{i}", f"farm{i}", "p1", 5, LONG, T0 + timedelta(days=i), v, xvector=xv,
                    language="en") for i in range(2)]
    crowd = [Doc(300 + i, "other", f"buyer{i}", "p2", 4, random_text(rng), T0 + timedelta(days=10 + i),
                 _vec_near(rng, w, 0.1, dim), xvector=_vec_near(rng, xw, 0.1, dim), language="en")
             for i in range(30)]
    copy = Doc(200, "third", "farm9", "p3", 5, LONG_EDIT, T0 + timedelta(days=120), _vec_near(rng, w, 0.3, dim),
               xvector=_vec_near(rng, xw, 0.3, dim), language="en")
    docs = [*_channels(rng, dim, 40), *campaign, *crowd, copy]
    flags = scan_corpus(docs, p)
    assert {100, 101, 200} <= flagged(flags, "campaign")
    # Without the lexical path the copy is not among its neighbours at all.
    assert 200 not in flagged(scan_corpus(docs, Params(lexical_k=0)))


def test_minhash_bands_meet_for_copies_and_stay_apart_otherwise():
    p = Params()
    long_keys, edit_keys = lexical_keys(T.normalize(LONG), p), lexical_keys(T.normalize(LONG_EDIT), p)
    assert long_keys is not None and edit_keys is not None and len(long_keys) == T.BANDS
    assert set(long_keys) & set(edit_keys)
    assert all(not set(long_keys) & set(lexical_keys(T.normalize(o), p) or []) for o in OTHER)
    assert lexical_keys(T.normalize("Great product, fast delivery!"), p) is None  # too few words to copy
    assert lexical_keys(T.normalize(LONG), p) == long_keys  # the same bands in every process
