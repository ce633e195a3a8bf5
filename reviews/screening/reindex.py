"""Rescanning and re-embedding, for `attest scan` and `attest reindex`."""

from __future__ import annotations

import asyncio
from typing import Any

from embedding import stats as bg
from embedding import store
from embedding.detect import Detector
from embedding.model import get_embedder
from reviews.collection import store as reviews
from reviews.platform import jobs
from reviews.platform.services import Services
from reviews.screening import scanning

BATCH = 64


async def queue_rescan(svc: Services, merchant_slug: str | None) -> int:
    """Queue a scan of every live review (of one merchant, or all), oldest first."""
    rows = await svc.pool.fetch(
        """SELECT r.id FROM reviews r JOIN merchants m ON m.id = r.merchant_id
           WHERE r.state = ANY($1) AND ($2::text IS NULL OR m.slug = $2) ORDER BY r.submitted_at, r.id""",
        list(scanning.SCANNABLE), merchant_slug,
    )
    now = svc.clock.now()
    async with svc.pool.acquire() as conn, conn.transaction():
        for r in rows:
            await reviews.queue_scan(conn, r["id"], now, rescan=True)
    return len(rows)


async def run_scans(svc: Services, progress: Any = None) -> int:
    """Run queued scans in this process until none is due."""
    worker = jobs.Worker(pool=svc.pool, dsn=svc.dsn, clock=svc.clock, tasks=scanning.tasks(svc))
    total = 0
    async with worker:
        while ran := await worker.run_once():
            total += ran
            if progress is not None:
                progress.update(ran)
    return total


async def reindex(svc: Services, progress_factory: Any = None, channel: str = store.MAIN) -> dict[str, Any]:
    """Embed every review with the channel's configured model beside its active model's vectors,
    compute the new background profiles, then switch. Safe to stop and run again: done work is kept."""
    configured = svc.settings.embedding_model if channel == store.MAIN else svc.settings.multilingual_model
    if configured is None:
        return {"channel": channel, "status": "off", "embedded": 0}
    target = await asyncio.to_thread(get_embedder, configured)
    active = await store.active_model(svc.pool, channel)
    if active == target.name:
        return {"channel": channel, "model": target.name, "status": "already active", "embedded": 0}
    await store.register_model(svc.pool, target.name, target.dim, active=False, channel=channel)
    missing_sql = """SELECT r.* FROM reviews r
                     WHERE r.state <> 'withdrawn' AND NOT EXISTS (
                         SELECT 1 FROM review_embeddings e WHERE e.review_id = r.id AND e.model = $1)
                     ORDER BY r.id LIMIT $2"""
    todo = await svc.pool.fetchval(
        """SELECT count(*) FROM reviews r WHERE r.state <> 'withdrawn' AND NOT EXISTS (
               SELECT 1 FROM review_embeddings e WHERE e.review_id = r.id AND e.model = $1)""", target.name)
    embedded = 0
    bar = progress_factory(total=todo, desc="embedding") if progress_factory else None
    # Loop until nothing is missing: reviews that arrive meanwhile are caught by a later round.
    while rows := await svc.pool.fetch(missing_sql, target.name, BATCH):
        embedded += await scanning.embed_rows(svc.pool, target, list(rows))
        if bar is not None:
            bar.update(len(rows))
    if bar is not None:
        bar.close()
    await store.ensure_index(svc.pool, target.name, target.dim)

    detector = Detector()
    ids = [r["review_id"] for r in await svc.pool.fetch(
        "SELECT review_id FROM review_embeddings WHERE model = $1 ORDER BY submitted_at", target.name)]
    bar = progress_factory(total=len(ids), desc="profiles") if progress_factory else None
    async with svc.pool.acquire() as conn:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            vecs = await store.vectors(conn, target.name, chunk)
            times = {r["review_id"]: r["submitted_at"] for r in await conn.fetch(
                "SELECT review_id, submitted_at FROM review_embeddings WHERE model = $1 AND review_id = ANY($2)",
                target.name, chunk)}
            for rid in chunk:
                profile = await bg.background_profile(conn, target.name, vecs[rid], times[rid], rid, detector.params)
                await store.save_profiles(conn, rid, {target.name: profile})
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        await store.activate(conn, target.name)
    return {"channel": channel, "model": target.name, "previous": active, "status": "active", "embedded": embedded}
