"""Centring each clause on its language: what a language's texts share in the model is taken out,
what a clause says stays (its translations remain its nearest)."""

from __future__ import annotations

import numpy as np

from embedding.model import MULTILINGUAL_MODEL, get_embedder
from reviews.insights import backgrounds
from reviews.platform.settings import SUPPORTED_LOCALES

UNRELATED_RO = ["livrarea a durat o săptămână", "crema miroase frumos", "ambalajul era rupt",
                "textura e lejeră și se absoarbe repede", "mi-a dat iritații pe obraji"]


def _mean_pairwise(vectors: np.ndarray) -> float:
    sims = vectors @ vectors.T
    n = len(vectors)
    return float((sims.sum() - np.trace(sims)) / (n * n - n))


def test_every_language_attest_speaks_has_a_mean() -> None:
    assert backgrounds.MODEL == MULTILINGUAL_MODEL
    assert set(backgrounds.MEANS) == set(SUPPORTED_LOCALES)


def test_unrelated_clauses_of_one_language_are_no_longer_alike() -> None:
    raw = get_embedder(MULTILINGUAL_MODEL).encode(UNRELATED_RO)
    centred = backgrounds.centre(MULTILINGUAL_MODEL, raw, ["ro"] * len(raw))
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    assert _mean_pairwise(raw) > _mean_pairwise(centred) + 0.15


def test_translations_stay_nearest_to_each_other() -> None:
    pairs = [("fast delivery", "en"), ("livrare rapidă", "ro"), ("the battery lasts long", "en"),
             ("bateria ține mult", "ro"), ("la talla es pequeña", "es"), ("the size runs small", "en")]
    raw = get_embedder(MULTILINGUAL_MODEL).encode([text for text, _ in pairs])
    centred = backgrounds.centre(MULTILINGUAL_MODEL, raw, [lang for _, lang in pairs])
    sims = centred @ centred.T
    np.fill_diagonal(sims, -1)
    assert sims.argmax(axis=1).tolist() == [1, 0, 3, 2, 5, 4]


def test_another_models_vectors_are_left_as_they_are() -> None:
    vectors = np.eye(3, dtype=np.float32)
    assert backgrounds.centre("some-other-model", vectors, ["en"] * 3) is vectors
