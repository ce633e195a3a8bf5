"""Clause vectors: encoding many short texts once each, and packing a review's clause vectors
into bytes (float16: half the size, and cosine similarities of unit vectors barely move) so a
product's thousands of clauses load in one query."""

from __future__ import annotations

import numpy as np

from embedding.model import Embedder

CHUNK = 64  # texts per encode call: clauses are short, so padding costs little


def encode_unique(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Unit vectors for `texts`, row for row; each distinct text is encoded once."""
    distinct = sorted(set(texts), key=lambda t: (len(t), t))  # similar lengths together: less padding
    if not distinct:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    parts = [embedder.encode(distinct[i:i + CHUNK]) for i in range(0, len(distinct), CHUNK)]
    found = dict(zip(distinct, np.concatenate(parts), strict=True))
    return np.stack([found[t] for t in texts]).astype(np.float32)


def pack(vectors: np.ndarray) -> bytes:
    return np.ascontiguousarray(vectors, dtype="<f2").tobytes()


def unpack(data: bytes, dim: int) -> np.ndarray:
    """float32 rows of `dim` values (unit length again after the float16 round trip)."""
    rows = np.frombuffer(data, dtype="<f2").astype(np.float32).reshape(-1, dim)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)
