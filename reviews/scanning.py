"""The worker's scan job: embed new and edited reviews in batches, look for duplicates, then
publish the review or hold it with its flags. Detection only flags; a moderator decides."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta
from typing import Any

import asyncpg
import numpy as np

from embedding import store
from embedding.detect import Detector, Doc, Flag
from embedding.model import get_embedder
from reviews import jobs, submissions
from reviews.services import Services

log = logging.getLogger("attest.scanning")
NEIGHBOURS = 20
RECENT_WINDOW = timedelta(days=7)


def review_text(row: asyncpg.Record | dict[str, Any]) -> str:
    title, body = (row["title"] or "").strip(), (row["body"] or "").strip()
    return f"{title}\n{body}" if title else body


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _author(row: asyncpg.Record) -> str:
    return row["author_hash"] or f"name:{row['merchant_id']}:{(row['display_name'] or '').lower()}"


def _doc(row: asyncpg.Record, vec: np.ndarray) -> Doc:
    return Doc(id=row["id"], merchant=row["slug"], author=_author(row), product=row["product_id"],
               rating=row["rating"], text=review_text(row), created_at=row["submitted_at"], vector=vec)


_REVIEW_SQL = """SELECT r.*, m.slug FROM reviews r JOIN merchants m ON m.id = r.merchant_id
                 WHERE r.id = ANY($1) ORDER BY r.submitted_at, r.id"""


async def embed_reviews(svc: Services, rows: list[asyncpg.Record]) -> dict[int, np.ndarray]:
    """Vectors for these reviews under the current model, embedding only what changed."""
    embedder = await asyncio.to_thread(get_embedder, svc.settings.embedding_model)
    ids = [r["id"] for r in rows]
    stored = await svc.pool.fetch(
        "SELECT review_id, text_hash FROM review_embeddings WHERE model = $1 AND review_id = ANY($2)",
        embedder.name, ids,
    )
    current = {r["review_id"]: r["text_hash"] for r in stored}
    todo = [r for r in rows if current.get(r["id"]) != text_hash(review_text(r))]
    if todo:
        matrix = await asyncio.to_thread(embedder.encode, [review_text(r) for r in todo])
        await store.ensure_index(svc.pool, embedder.name, embedder.dim)
        async with svc.pool.acquire() as conn, conn.transaction():
            for row, vec in zip(todo, matrix, strict=True):
                await store.save(conn, row["id"], embedder.name, vec, text_hash(review_text(row)))
    return await store.vectors(svc.pool, embedder.name, ids)


async def _neighbour_docs(svc: Services, conn: asyncpg.Connection, model: str, doc: Doc) -> list[Doc]:
    near = await store.nearest(conn, model, doc.vector, NEIGHBOURS, exclude=doc.id)
    ids = [n.review_id for n in near]
    rows = await conn.fetch(_REVIEW_SQL.replace("ORDER BY", "AND r.state <> 'withdrawn' ORDER BY"), ids)
    vecs = await store.vectors(conn, model, ids)
    return [_doc(r, vecs[r["id"]]) for r in rows if r["id"] in vecs]


async def _recent_docs(svc: Services, conn: asyncpg.Connection, model: str, row: asyncpg.Record) -> list[Doc]:
    rows = await conn.fetch(
        """SELECT r.*, m.slug FROM reviews r JOIN merchants m ON m.id = r.merchant_id
           WHERE r.merchant_id = $1 AND r.id <> $2 AND r.state <> 'withdrawn'
             AND r.submitted_at BETWEEN $3 AND $4 ORDER BY r.submitted_at LIMIT 500""",
        row["merchant_id"], row["id"], row["submitted_at"] - RECENT_WINDOW, row["submitted_at"],
    )
    vecs = await store.vectors(conn, model, [r["id"] for r in rows])
    return [_doc(r, vecs[r["id"]]) for r in rows if r["id"] in vecs]


async def save_flags(conn: asyncpg.Connection, flags: list[Flag], now: Any) -> None:
    for flag in flags:
        await conn.execute(
            """INSERT INTO flags (review_id, kind, score, evidence, created_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (review_id, kind) DO UPDATE SET score = GREATEST(flags.score, EXCLUDED.score),
                   evidence = EXCLUDED.evidence
               WHERE flags.state = 'open'""",
            flag.review_id, flag.kind, float(flag.score), flag.evidence, now,
        )
        # A flag holds the review from the widgets until a moderator decides, even an earlier one.
        await submissions.hold(conn, flag.review_id, now)


async def scan(svc: Services, batch: jobs.Batch, detector: Detector) -> None:
    ids = [int(j.payload["review_id"]) for j in batch.jobs]
    by_review = {int(j.payload["review_id"]): j for j in batch.jobs}
    rows = await svc.pool.fetch(_REVIEW_SQL, ids)
    for missing in set(ids) - {r["id"] for r in rows}:
        await batch.done(by_review[missing])
    vecs = await embed_reviews(svc, list(rows))
    model = get_embedder(svc.settings.embedding_model).name
    for row in rows:
        job = by_review[row["id"]]
        if row["state"] != "pending":
            await batch.done(job)
            continue
        doc = _doc(row, vecs[row["id"]])
        async with svc.pool.acquire() as conn:
            neighbours = await _neighbour_docs(svc, conn, model, doc)
            recent = await _recent_docs(svc, conn, model, row)
            stats = detector.background([d for d in {x.id: x for x in neighbours + recent}.values()
                                         if d.created_at <= doc.created_at])
            flags = detector.scan(doc, neighbours, recent, stats)
            now = svc.clock.now()
            async with conn.transaction():
                await save_flags(conn, flags, now)
                if not any(f.review_id == doc.id for f in flags):
                    await submissions.publish(conn, doc.id, now)
                await batch.done(job, conn)
        log.info("review scanned", extra={"review": doc.id, "flags": [f.kind for f in flags]})


def tasks(svc: Services, batch_size: int = 16) -> dict[str, jobs.Task]:
    detector = Detector()

    async def handler(batch: jobs.Batch) -> None:
        await scan(svc, batch, detector)

    return {submissions.SCAN_JOB: jobs.Task(handler, batch_size)}
