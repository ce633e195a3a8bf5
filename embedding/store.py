"""Vectors in pgvector: one partial HNSW index per model (cosine, halfvec), nearest-neighbour
search, the background profile of a review, and which model is active.

The column has no fixed dimension so any model fits; each model gets an expression index
cast to its own dimension, and queries use the same expression so the planner picks it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import numpy as np
from asyncpg.pool import PoolConnectionProxy

from embedding import shingles

# A connection of its own or one lent by the pool (`async with pool.acquire() as conn`); an Executor may also be
# the pool, for a function that runs single statements. (The service has the same in `reviews.platform.db`.)
Connection = asyncpg.Connection | PoolConnectionProxy
Executor = Connection | asyncpg.Pool

# Candidates the HNSW search keeps while walking the graph. bench/search.py at 1M reviews in two
# channels, on a quiet machine with the graphs in memory (recall@10 of planted copies, main /
# multilingual; p95 of one channel's search):
#   ef_search  64: 0.962 / 0.943, 3.8 / 4.4 ms  (enough at 200k: 0.9997 / 0.9999)
#   ef_search 128: 0.992 / 0.984, 4.9 / 5.8 ms
#   ef_search 200: 0.997 / 0.995, 6.9 / 7.8 ms
# 128 keeps both channels above 0.98 at a million for about a millisecond more a search.
EF_SEARCH = 128
# The graph's build parameters. pgvector's defaults (m 16, ef_construction 64) found only 91% of
# planted copies at 1M, and 96% even at ef_search 800; this graph takes 2.3x as long to build.
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128
# Session settings for every pooled connection, so a search is one round trip.
SESSION_SETTINGS = {"hnsw.ef_search": str(EF_SEARCH), "hnsw.iterative_scan": "relaxed_order"}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def index_name(model: str) -> str:
    return "review_embeddings_hnsw_" + hashlib.sha256(model.encode()).hexdigest()[:12]


def from_binary(data: bytes) -> np.ndarray:
    """pgvector's binary form of a halfvec (halfvec_send): int16 dimension, int16 unused,
    big-endian half-precision floats."""
    return np.frombuffer(data, dtype=">f2", offset=4).astype(np.float32)


async def ensure_index(conn: Executor, model: str, dim: int, *,
                       m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION) -> None:
    try:
        await conn.execute(
            f"""CREATE INDEX IF NOT EXISTS {index_name(model)} ON review_embeddings
                USING hnsw ((embedding::halfvec({int(dim)})) halfvec_cosine_ops)
                WITH (m = {int(m)}, ef_construction = {int(ef_construction)})
                WHERE model = {_literal(model)} AND dim = {int(dim)}"""
        )
    except asyncpg.UniqueViolationError:
        # Another worker created it at the same moment: IF NOT EXISTS only sees committed indexes,
        # so the second waits for the first and then trips over the catalog's unique name.
        pass


MAIN = "main"
MULTILINGUAL = "multilingual"


async def active_model(conn: Executor, channel: str = MAIN) -> str | None:
    return await conn.fetchval("SELECT name FROM embedding_models WHERE state = 'active' AND channel = $1", channel)


async def register_model(conn: Executor, model: str, dim: int, *, active: bool, channel: str = MAIN) -> None:
    """Record a model; the first model ever seen on a channel becomes its active one. Workers that
    meet a new database together may all ask at once: the first to commit wins (no target on the
    ON CONFLICT, so the one-active index counts too), and the others change nothing."""
    await conn.execute(
        """INSERT INTO embedding_models (name, dim, state, activated_at, channel)
           SELECT $1, $2, CASE WHEN $3 OR NOT EXISTS (
                                   SELECT 1 FROM embedding_models WHERE state = 'active' AND channel = $4)
                               THEN 'active' ELSE 'building' END, now(), $4
           ON CONFLICT DO NOTHING""",
        model, dim, active, channel,
    )


async def activate(conn: Connection, model: str) -> None:
    async with conn.transaction():
        await conn.execute(
            """UPDATE embedding_models SET state = 'retired'
               WHERE state = 'active' AND name <> $1
                 AND channel = (SELECT channel FROM embedding_models WHERE name = $1)""", model)
        await conn.execute("UPDATE embedding_models SET state = 'active', activated_at = now() WHERE name = $1", model)


async def save_many(conn: Connection, model: str,
                    rows: list[tuple[int, np.ndarray, str, datetime]]) -> None:
    """Store (review id, vector, text hash, submitted at) rows in one round trip."""
    await conn.executemany(
        """INSERT INTO review_embeddings (review_id, model, dim, text_hash, embedding, submitted_at)
           VALUES ($1, $2, $3, $4, $5::real[]::halfvec, $6)
           ON CONFLICT (review_id, model) DO UPDATE SET dim = EXCLUDED.dim, text_hash = EXCLUDED.text_hash,
               embedding = EXCLUDED.embedding, submitted_at = EXCLUDED.submitted_at, created_at = now()""",
        [(rid, model, int(vec.shape[0]), th, vec.tolist(), at) for rid, vec, th, at in rows],
    )
    # A new text has no profile until it is scanned again.
    await conn.execute("DELETE FROM review_profiles WHERE model = $1 AND review_id = ANY($2)",
                       model, [rid for rid, *_ in rows])


async def save_profiles(conn: Connection, review_id: int, profiles: dict[str, tuple[float, float] | None],
                        history: int | None = None) -> None:
    """The review's background profile in each model (None: too few older reviews), in one statement,
    with how many reviews its language had when they were drawn (None: unknown)."""
    models = list(profiles)
    await conn.execute(
        """INSERT INTO review_profiles (review_id, model, bg_mean, bg_sd, history)
           SELECT $1, p.model, p.bg_mean, p.bg_sd, $5 FROM unnest($2::text[], $3::float8[], $4::float8[])
               AS p(model, bg_mean, bg_sd)
           ON CONFLICT (review_id, model) DO UPDATE SET bg_mean = EXCLUDED.bg_mean, bg_sd = EXCLUDED.bg_sd,
               history = EXCLUDED.history""",
        review_id, models, [p[0] if p else None for p in profiles.values()],
        [p[1] if p else None for p in profiles.values()], history,
    )


@dataclass(frozen=True)
class Neighbour:
    review_id: int
    similarity: float


def nearest_sql(model: str, dim: int, columns: str = "") -> str:
    """The candidate search as SQL: the stored reviews closest by cosine to $1 (the vector, as
    real[]), at most $2 of them, submitted before $3 (any time when NULL), leaving out the
    review $4 (see `nearest_args`). Reviews submitted at the same instant as $3 (the products of
    one form) count as earlier only when their id is lower, so of two copies sent together the
    first is the original and only the second a copy. Each row has review_id, distance and the extra `columns` of
    review_embeddings. It goes through the model's HNSW index; hnsw.ef_search and
    hnsw.iterative_scan come from the connection's SESSION_SETTINGS, and iterative scan keeps the
    time filter cheap. Rows may come slightly out of order (relaxed_order): sort them."""
    query = f"$1::real[]::halfvec({dim})"
    return f"""SELECT review_id, embedding::halfvec({dim}) <=> {query} AS distance{columns}
               FROM review_embeddings
               WHERE model = {_literal(model)} AND dim = {dim}
                 AND ($3::timestamptz IS NULL OR submitted_at < $3 OR (submitted_at = $3 AND review_id < $4))
                 AND review_id <> $4
               ORDER BY embedding::halfvec({dim}) <=> {query}
               LIMIT $2"""


def nearest_args(vec: np.ndarray, k: int, before: datetime | None, exclude: int | None) -> tuple[object, ...]:
    # As real[], which asyncpg sends in binary, rather than as the text of several hundred numbers.
    return np.asarray(vec, dtype=np.float32).tolist(), k, before, exclude if exclude is not None else -1


async def nearest(conn: Connection, model: str, vec: np.ndarray, k: int, *,
                  exclude: int | None = None, before: datetime | None = None) -> list[Neighbour]:
    """The k stored reviews closest to `vec` by cosine, optionally only among reviews submitted
    up to `before` (see `nearest_sql`)."""
    rows = await conn.fetch(nearest_sql(model, int(vec.shape[0])), *nearest_args(vec, k, before, exclude))
    found = [Neighbour(r["review_id"], 1.0 - float(r["distance"])) for r in rows]
    return sorted(found, key=lambda n: -n.similarity)


async def vectors(conn: Executor, model: str,
                  review_ids: list[int]) -> dict[int, np.ndarray]:
    rows = await conn.fetch(
        """SELECT review_id, halfvec_send(embedding) AS v FROM review_embeddings
           WHERE model = $1 AND review_id = ANY($2)""",
        model, review_ids,
    )
    return {r["review_id"]: from_binary(r["v"]) for r in rows}


async def profiles(conn: Executor, model: str,
                   review_ids: list[int]) -> dict[int, tuple[float, float] | None]:
    rows = await conn.fetch(
        "SELECT review_id, bg_mean, bg_sd FROM review_profiles WHERE model = $1 AND review_id = ANY($2)",
        model, review_ids,
    )
    return {r["review_id"]: (float(r["bg_mean"]), float(r["bg_sd"])) if r["bg_mean"] is not None else None
            for r in rows}


async def delete(conn: Executor, review_ids: list[int]) -> None:
    """Forget the vectors and the MinHash bands of these reviews (they derive from the text)."""
    await conn.execute("DELETE FROM review_embeddings WHERE review_id = ANY($1::bigint[])", list(review_ids))
    await shingles.delete(conn, review_ids)
