"""Vectors in pgvector: one partial HNSW index per model (cosine, halfvec), nearest-neighbour search.

The column has no fixed dimension so any model fits; each model gets an expression index
cast to its own dimension, and queries use the same expression so the planner picks it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg
import numpy as np

EF_SEARCH = 100


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def index_name(model: str) -> str:
    return "review_embeddings_hnsw_" + hashlib.sha256(model.encode()).hexdigest()[:12]


def vector_text(vec: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vec.tolist()) + "]"


def parse_vector(text: str) -> np.ndarray:
    return np.array([float(x) for x in text.strip("[]").split(",")], dtype=np.float32)


async def ensure_index(conn: asyncpg.Connection | asyncpg.Pool, model: str, dim: int) -> None:
    await conn.execute(
        f"""CREATE INDEX IF NOT EXISTS {index_name(model)} ON review_embeddings
            USING hnsw ((embedding::halfvec({int(dim)})) halfvec_cosine_ops)
            WHERE model = {_literal(model)} AND dim = {int(dim)}"""
    )


async def save(conn: asyncpg.Connection, review_id: int, model: str, vec: np.ndarray, text_hash: str) -> None:
    await conn.execute(
        """INSERT INTO review_embeddings (review_id, model, dim, text_hash, embedding)
           VALUES ($1, $2, $3, $4, $5::vector)
           ON CONFLICT (review_id, model) DO UPDATE SET dim = EXCLUDED.dim, text_hash = EXCLUDED.text_hash,
               embedding = EXCLUDED.embedding, created_at = now()""",
        review_id, model, int(vec.shape[0]), text_hash, vector_text(vec),
    )


@dataclass(frozen=True)
class Neighbour:
    review_id: int
    similarity: float


async def nearest(conn: asyncpg.Connection, model: str, vec: np.ndarray, k: int,
                  exclude: int | None = None) -> list[Neighbour]:
    """The k stored reviews closest to `vec` by cosine (approximate, through the HNSW index)."""
    dim = int(vec.shape[0])
    async with conn.transaction():
        await conn.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, k)}")
        rows = await conn.fetch(
            f"""SELECT review_id, embedding::halfvec({dim}) <=> $1::halfvec({dim}) AS distance
                FROM review_embeddings
                WHERE model = {_literal(model)} AND dim = {dim}
                ORDER BY embedding::halfvec({dim}) <=> $1::halfvec({dim})
                LIMIT $2""",
            vector_text(vec), k + 1,
        )
    return [Neighbour(r["review_id"], 1.0 - float(r["distance"])) for r in rows if r["review_id"] != exclude][:k]


async def vectors(conn: asyncpg.Connection | asyncpg.Pool, model: str, review_ids: list[int]) -> dict[int, np.ndarray]:
    rows = await conn.fetch(
        "SELECT review_id, embedding::text AS v FROM review_embeddings WHERE model = $1 AND review_id = ANY($2)",
        model, review_ids,
    )
    return {r["review_id"]: parse_vector(r["v"]) for r in rows}
