"""The `insights.recompute` job: a product's topics (or the shop's own reviews') computed again
from its published reviews, queued by `reviews.collection.store` whenever one of them is
published, taken down, edited, withdrawn or erased.

Clauses are embedded once per text: a review whose clauses are cached for its current text costs
nothing but its share of the grouping. New reviews are embedded before the recomputation takes
its lock, the few published meanwhile inside it; the topics are replaced, and the job settled,
in one transaction.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg
import numpy as np

from embedding.clauses import encode_unique, pack, unpack
from embedding.model import Embedder, get_embedder
from reviews.collection.store import TOPICS_JOB
from reviews.insights import backgrounds, clauses, store
from reviews.insights.topics import Mention, Params, build
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.services import Services

log = logging.getLogger("attest.insights")
EMBED_CHUNK = 256  # reviews embedded and stored together: a long first run keeps what it did
BATCH = 8  # jobs a worker takes at once (each product is still recomputed on its own)


@dataclass(frozen=True)
class Outcome:
    reviews: int  # published reviews the topics were computed from
    embedded: int  # of which had to be embedded (new or edited texts)
    topics: int


def _named(review: store.Published) -> list[clauses.Clause]:
    """The clauses of a review that name something (the others never start a topic)."""
    return [c for c in clauses.split_review(review.title, review.body, review.language)
            if not clauses.is_empty(c.text, review.language)]


def _embed(embedder: Embedder, reviews: list[store.Published]) -> list[store.Cached]:
    """Each review's clauses and their vectors (in a thread: encoding takes the CPU)."""
    named = [(r, _named(r)) for r in reviews]
    matrix = encode_unique(embedder, [clauses.for_embedding(c.text, r.language) for r, found in named for c in found])
    cached, at = [], 0
    for r, found in named:
        spans = [n for c in found for n in (store.FIELDS.index(c.field), c.start, c.end)]
        cached.append(store.Cached(r.id, r.text_hash, spans, pack(matrix[at:at + len(found)]), embedder.dim))
        at += len(found)
    return cached


async def embed_stale(conn: Connection, embedder: Embedder, merchant_id: int, product_id: str | None,
                      now: datetime) -> int:
    """Embed the published reviews of a product whose clauses are not cached for their text."""
    todo = await store.stale(conn, merchant_id, product_id, embedder.name)
    for at in range(0, len(todo), EMBED_CHUNK):
        cached = await asyncio.to_thread(_embed, embedder, todo[at:at + EMBED_CHUNK])
        await store.save_clauses(conn, embedder.name, cached, now)
    return len(todo)


def mentions(reviews: list[store.Published], model: str) -> tuple[list[Mention], np.ndarray]:
    """The cached clauses of these reviews as mentions, with their vectors row for row, each
    centred on its language (`backgrounds`)."""
    found: list[Mention] = []
    packed: list[bytes] = []
    dim = next((r.dim for r in reviews if r.dim), 1)
    for r in reviews:
        assert r.spans is not None and r.vectors is not None and r.dim in (dim, None)  # cached by now
        language = clauses.primary(r.language)
        spans = r.spans
        for i in range(0, len(spans), 3):
            field, start, end = store.FIELDS[spans[i]], spans[i + 1], spans[i + 2]
            text = (r.title if field == clauses.TITLE else r.body)[start:end]
            found.append(Mention(r.id, field, start, end, text, language, r.rating, r.author))
        packed.append(r.vectors)
    return found, backgrounds.centre(model, unpack(b"".join(packed), dim), [m.language for m in found])


async def recompute(pool: asyncpg.Pool, embedder: Embedder, merchant_id: int, product_id: str | None,
                    now: datetime, *, params: Params = Params(),
                    settle: Callable[[Connection], Awaitable[None]] | None = None) -> Outcome:
    """Compute and store the topics of one product (product_id None: the shop's own reviews).
    `settle` runs in the transaction that stores them (the job's completion)."""
    async with pool.acquire() as conn:
        embedded = await embed_stale(conn, embedder, merchant_id, product_id, now)
        async with conn.transaction():
            await store.lock(conn, merchant_id, product_id)
            reviews = await store.published(conn, merchant_id, product_id, embedder.name)
            late = [r for r in reviews if r.spans is None]  # published since the first look
            if late:
                cached = {c.review_id: c for c in await asyncio.to_thread(_embed, embedder, late)}
                await store.save_clauses(conn, embedder.name, list(cached.values()), now)
                reviews = [replace(r, spans=cached[r.id].spans, vectors=cached[r.id].vectors, dim=cached[r.id].dim)
                           if r.id in cached else r for r in reviews]
                embedded += len(late)
            found, vectors = mentions(reviews, embedder.name)
            topics = await asyncio.to_thread(build, found, vectors, params)
            await store.replace(conn, merchant_id, product_id, embedder.name, len(reviews), topics, now)
            await store.forget_gone(conn, merchant_id, product_id)
            if settle is not None:
                await settle(conn)
    return Outcome(len(reviews), embedded, len(topics))


def tasks(svc: Services) -> dict[str, jobs.Task]:
    async def handler(batch: jobs.Batch) -> None:
        model = svc.settings.multilingual_model
        if model is None:  # the multilingual channel is switched off: topics cannot be grouped,
            for job in batch.jobs:  # but vectors made before must still leave with their reviews
                async with svc.pool.acquire() as conn, conn.transaction():
                    await store.forget_gone(conn, int(job.payload["merchant_id"]), job.payload.get("product_id"))
                    await batch.done(job, conn)
            return
        embedder = await asyncio.to_thread(get_embedder, model)
        for job in batch.jobs:
            merchant_id, product_id = int(job.payload["merchant_id"]), job.payload.get("product_id")
            outcome = await recompute(svc.pool, embedder, merchant_id, product_id, svc.clock.now(),
                                      settle=functools.partial(batch.done, job))
            log.info("topics recomputed", extra={"merchant": merchant_id, "product": product_id,
                                                 "reviews": outcome.reviews, "embedded": outcome.embedded,
                                                 "topics": outcome.topics})

    return {TOPICS_JOB: jobs.Task(handler, BATCH)}
