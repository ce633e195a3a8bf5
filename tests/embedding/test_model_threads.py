"""The multilingual encoder leaves a core to what runs beside it (the worker's saves, PostgreSQL's
graph inserts): see `embedding.model.encoder_threads`."""

from __future__ import annotations

import pytest

from embedding.model import MULTILINGUAL_MODEL, UniversalSentenceEncoder, encoder_threads


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (3, 2), (4, 3), (5, 4), (64, 4)])
def test_one_core_is_left_and_at_most_four_are_taken(cores: int, threads: int) -> None:
    assert encoder_threads(cores) == threads


def test_the_encoder_is_built_with_that_many_threads() -> None:
    encoder = UniversalSentenceEncoder(MULTILINGUAL_MODEL)  # the weights load on first use, not here
    assert encoder._model.threads == encoder_threads()
