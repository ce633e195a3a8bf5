"""The detector's background statistics, kept in PostgreSQL so every worker shares them.

`PrefetchedBackground` offers what `embedding.detect.Background` offers (word document
frequencies, each review's similarity profile and the depth of history it was drawn from, each
merchant's rating history), loaded for one scan by a handful of queries instead of held in memory:
the worker's memory stays flat however many reviews are stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, time

import numpy as np

from embedding import store
from embedding import text as T
from embedding.detect import Doc, Params, background_stats


class PrefetchedBackground:
    def __init__(self, params: Params, df: dict[str, int], n_docs: int,
                 profiles: dict[int, tuple[float, float] | None], merchant_first: dict[str, datetime],
                 rating_counts: Counter[tuple[str, int]],
                 xprofiles: dict[int, tuple[float, float] | None] | None = None,
                 histories: dict[int, int | None] | None = None) -> None:
        self.params = params
        self.profiles = profiles
        self.xprofiles = xprofiles or {}
        self.histories = histories or {}
        self.merchant_first = merchant_first
        self.rating_counts = rating_counts
        self._weights = T.Weights(df, n_docs)  # the frequencies stay as loaded for the scan

    def info(self, words: Iterable[str]) -> float:
        return self._weights.informativeness(words)

    def doc_profile(self, doc: Doc) -> tuple[float, float] | None:
        return self.profiles.get(doc.id)

    def doc_xprofile(self, doc: Doc) -> tuple[float, float] | None:
        return self.xprofiles.get(doc.id)

    def doc_history(self, doc: Doc) -> int | None:
        return self.histories.get(doc.id)


# Nearest older reviews read for a background: copies among them count once (`background_stats`),
# so more are read than the background keeps.
BACKGROUND_READ = 4


def background_candidates(params: Params) -> int:
    return params.background_k * BACKGROUND_READ


async def background_profile(conn: store.Executor, model: str, vector: np.ndarray, created_at: datetime,
                             exclude: int | None, params: Params,
                             candidates: list[tuple[float, datetime, np.ndarray]] | None = None,
                             ) -> tuple[float, float] | None:
    """(mean, sd) of the cosine to the review's nearest reviews older than the window, or None
    when there are too few: old reviews share its language and topic but cannot belong to a
    campaign running now, so they tell what "ordinarily similar" means for this text.

    `candidates` are (similarity, submitted_at, vector) of the review's nearest earlier reviews,
    best first; when enough of them are older than the window, they are exactly the nearest older
    ones and no second search is needed."""
    cutoff = created_at - params.window
    want = background_candidates(params)
    older = [(sim, vec) for sim, at, vec in candidates or [] if at <= cutoff][:want]
    if len(older) < want:
        rows = await conn.fetch(store.nearest_sql(model, int(vector.shape[0]), ", halfvec_send(embedding) AS vec"),
                                *store.nearest_args(vector, want, cutoff, exclude))
        older = sorted(((1.0 - float(r["distance"]), store.from_binary(r["vec"])) for r in rows),
                       key=lambda pair: -pair[0])
    return background_stats(older, params)


# The prefetch's one round trip (see `prefetch`): $1 the words, $2 the shop, $3 the review's UTC
# midnight, $4 its time, $5 its language.
PREFETCH_SQL = """
    SELECT (SELECT n_docs FROM corpus_stats) AS n_docs, t.terms, t.dfs, h.ratings, h.counts,
           coalesce((SELECT n_docs FROM language_stats WHERE language = $5), 0) AS language_docs,
           (SELECT r.submitted_at FROM reviews r
            WHERE r.merchant_id = $2 AND r.submitted_at < $4
              AND EXISTS (SELECT 1 FROM term_counted c WHERE c.review_id = r.id)
            ORDER BY r.submitted_at LIMIT 1) AS first
    FROM (SELECT array_agg(term) AS terms, array_agg(df) AS dfs FROM term_stats WHERE term = ANY($1)) t,
         (SELECT array_agg(rating) AS ratings, array_agg(n) AS counts FROM (
              SELECT rating, sum(n)::int AS n FROM (
                  -- merchant_daily_ratings_history (migration 0029) keeps this read in the index
                  SELECT rating, n FROM merchant_daily_ratings WHERE merchant_id = $2 AND day < $3::date
                  UNION ALL
                  SELECT r.rating, 1 FROM reviews r JOIN term_counted c ON c.review_id = r.id
                  WHERE r.merchant_id = $2 AND r.submitted_at >= $3 AND r.submitted_at < $4
              ) counted GROUP BY rating
          ) by_rating) h"""


async def prefetch(conn: store.Connection, model: str, new: Doc, merchant_id: int,
                   new_profile: tuple[float, float] | None, others: list[Doc], params: Params,
                   known_profiles: dict[int, tuple[float, float] | None] | None = None,
                   xprofiles: dict[int, tuple[float, float] | None] | None = None,
                   histories: dict[int, int | None] | None = None) -> PrefetchedBackground:
    words = sorted({w for d in [new, *others] for w in T.tokens(T.normalize(d.text))})
    known = dict(known_profiles or {})
    missing = [d.id for d in others if d.vector.size and d.id not in known]
    profiles = {**known, **(await store.profiles(conn, model, missing) if missing else {})}
    profiles[new.id] = new_profile
    # One round trip: the words' document frequencies, the corpus size, the size of the review's
    # language, the merchant's scanned reviews before this one by rating (whole days from the daily
    # counters, the rest of today from the reviews themselves), and its first scanned review.
    midnight = datetime.combine(new.created_at.astimezone(UTC).date(), time(), tzinfo=UTC)
    row = await conn.fetchrow(PREFETCH_SQL, words, merchant_id, midnight, new.created_at, new.language or "")
    assert row is not None  # aggregates over a cross join: always exactly one row
    df = dict(zip(row["terms"] or [], row["dfs"] or [], strict=True))
    counts: Counter[tuple[str, int]] = Counter(
        {(new.merchant, rating): n for rating, n in zip(row["ratings"] or [], row["counts"] or [], strict=True)})
    first = row["first"]
    histories = {**(histories or {}), new.id: int(row["language_docs"])}
    return PrefetchedBackground(params, df, row["n_docs"], profiles, {new.merchant: first} if first else {}, counts,
                                xprofiles, histories)


async def count_review(conn: store.Connection, doc: Doc, merchant_id: int) -> None:
    """Add a scanned review to the shared statistics (words, corpus size, its language's size, the
    merchant's daily ratings), once per review: a rescan or an edit never counts twice."""
    words = sorted(set(T.tokens(T.normalize(doc.text))))  # sorted: concurrent workers lock rows in one order
    # One statement, so one round trip; every part but the first acts only if the review was not counted yet.
    await conn.execute(
        """WITH counted AS (
               INSERT INTO term_counted (review_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING review_id
           ), terms AS (
               INSERT INTO term_stats (term, df)
               SELECT term, 1 FROM unnest($2::text[]) AS term WHERE EXISTS (SELECT 1 FROM counted)
               ON CONFLICT (term) DO UPDATE SET df = term_stats.df + 1
           ), corpus AS (
               UPDATE corpus_stats SET n_docs = n_docs + 1 WHERE EXISTS (SELECT 1 FROM counted)
           ), language AS (
               INSERT INTO language_stats (language, n_docs) SELECT $6, 1 FROM counted
               ON CONFLICT (language) DO UPDATE SET n_docs = language_stats.n_docs + 1
           )
           INSERT INTO merchant_daily_ratings (merchant_id, day, rating, n) SELECT $3, $4, $5, 1 FROM counted
           ON CONFLICT (merchant_id, rating, day) DO UPDATE SET n = merchant_daily_ratings.n + 1""",
        doc.id, words, merchant_id, doc.created_at.astimezone(UTC).date(), doc.rating, doc.language or "",
    )
