"""Several workers meeting the first review of a fresh database at once: each channel gets one
active model, with its index, and no worker's scan fails over who registered it first."""

from __future__ import annotations

import asyncio

import pytest

from embedding import store
from embedding.model import get_embedder
from reviews.platform.services import Services
from reviews.screening.scanning import scanning_channels


@pytest.mark.slow  # loads both real models: about 5 s
async def test_workers_registering_the_first_models_at_once(services: Services) -> None:
    configured = {store.MAIN: services.settings.embedding_model}
    if services.settings.multilingual_model:
        configured[store.MULTILINGUAL] = services.settings.multilingual_model
    # Loaded beforehand, as in workers that loaded them at the same pace: they reach the registration together.
    for name in configured.values():
        await asyncio.to_thread(get_embedder, name)
    # Before the fix, one of them failed on the unique name of the index, or on the one active model.
    channels = await asyncio.gather(*(scanning_channels(services) for _ in range(4)))
    assert {c.main.name for c in channels} == {configured[store.MAIN]}
    models = await services.pool.fetch("SELECT channel, name, state FROM embedding_models ORDER BY channel")
    assert {r["channel"]: (r["name"], r["state"]) for r in models} == {
        channel: (name, "active") for channel, name in configured.items()}
    for name in configured.values():
        assert await services.pool.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname = $1",
                                            store.index_name(name)) == 1
