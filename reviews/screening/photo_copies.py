"""The same photo in other reviews: a review whose photo is, by its perceptual fingerprint
(`reviews.media.fingerprint`), the photo of another review, in any shop, gets a `photo_copy` flag
and is held like a copied text, with its evidence: both photos, their distance, both reviews.

Not a copy: a buyer's own photo used again in their reviews of one order (the same author, by the
keyed hash of their address, and the same order). Anything else is: another author's photo, or the
same buyer's photo from another order.

Uploads are checked as the form is saved, in its transaction, so a review is held before its scan
could publish it; an import's photos, fetched later by the worker, by the `CHECK_JOB` job. Only the
new review is flagged: the earlier one may be the photo's owner.

The fingerprints are compared in memory: each process keeps every photo's fingerprint in a numpy
matrix, read from the database once and then only the photos added since, so a check costs one
vectorised pass (28 aligned hash pairs per photo) and one query to confirm the few candidates.
A deleted photo stays in the matrix until the process restarts; the confirming query drops it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import numpy as np

from embedding.detect import Flag
from reviews.media import fingerprint, store
from reviews.media.fingerprint import Fingerprint
from reviews.platform import jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.services import Services
from reviews.screening import flags

KIND = flags.PHOTO_COPY


class _Index:
    """Every stored photo's fingerprint, as rows of `fingerprint.distances`."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.rows = fingerprint.from_rows([])
        self.lock = asyncio.Lock()

    async def refresh(self, conn: Executor) -> None:
        async with self.lock:
            while True:
                last = int(self.ids[-1]) if len(self.ids) else 0
                found = await store.fingerprints_after(conn, last)
                if not found:
                    return
                self.ids = np.concatenate([self.ids, np.array([i for i, _ in found], dtype=np.int64)])
                self.rows = np.vstack([self.rows, fingerprint.from_rows([f for _, f in found])])

    def near(self, print_: Fingerprint, threshold: int) -> dict[int, int]:
        """The photos within `threshold` of this fingerprint: {photo id: distance}."""
        if not len(self.ids):
            return {}
        found = fingerprint.distances(print_, self.rows)
        hits = np.nonzero(found <= threshold)[0]
        return {int(self.ids[i]): int(found[i]) for i in hits}


# One index per database the process talks to (one in production; one per test database in the tests).
_INDEXES: OrderedDict[str, _Index] = OrderedDict()
_DATABASES = 8


def _index(dsn: str) -> _Index:
    found = _INDEXES.get(dsn)
    if found is None:
        found = _INDEXES[dsn] = _Index()
        while len(_INDEXES) > _DATABASES:
            _INDEXES.popitem(last=False)
    _INDEXES.move_to_end(dsn)
    return found


_PHOTOS = """SELECT p.id, p.review_id, p.fingerprint, r.author_hash, r.order_id, r.merchant_id
             FROM photos p JOIN reviews r ON r.id = p.review_id WHERE {where}"""


async def check(svc: Services, conn: Connection, review_ids: Sequence[int], now: datetime) -> list[Flag]:
    """Look for these reviews' photos in other reviews; flag (and hold) the reviews that reuse one.
    `conn` may be inside the transaction that just stored the photos: the candidates are confirmed
    through it, so photos it has not committed are seen."""
    mine = await conn.fetch(_PHOTOS.format(where="p.review_id = ANY($1::bigint[])"), list(review_ids))
    if not mine:
        return []
    index = _index(svc.dsn)
    await index.refresh(svc.pool)
    near = {row["id"]: index.near(Fingerprint.from_bytes(row["fingerprint"]), fingerprint.THRESHOLD) for row in mine}
    candidates = sorted({other for found in near.values() for other in found})
    others = {r["id"]: r for r in await conn.fetch(_PHOTOS.format(where="p.id = ANY($1::bigint[])"), candidates)}
    raised = []
    for review_id in sorted({r["review_id"] for r in mine}):
        pairs = [{"photo": row["id"], "other_photo": other_id, "other_review": others[other_id]["review_id"],
                  "distance": distance}
                 for row in mine if row["review_id"] == review_id
                 for other_id, distance in sorted(near[row["id"]].items(), key=lambda kv: (kv[1], kv[0]))
                 if other_id in others and _copy(row, others[other_id])]
        if pairs:
            raised.append(_flag(review_id, pairs))
    await flags.save(conn, raised, now)
    return raised


def _copy(mine: asyncpg.Record, other: asyncpg.Record) -> bool:
    if other["review_id"] == mine["review_id"]:
        return False  # the same photo twice in one review: no one else's
    same_author = mine["author_hash"] is not None and mine["author_hash"] == other["author_hash"]
    same_order = mine["order_id"] is not None and mine["order_id"] == other["order_id"]
    return not (same_author and same_order)


def _flag(review_id: int, pairs: list[dict[str, Any]]) -> Flag:
    closest = min(p["distance"] for p in pairs)
    evidence = {"pairs": pairs, "related": sorted({p["other_review"] for p in pairs}),
                "threshold": fingerprint.THRESHOLD,
                "reason": f"a photo of this review is a photo of another review (distance {closest})"}
    return Flag(review_id, KIND, round(1 - closest / (fingerprint.THRESHOLD + 1), 4), evidence)


def tasks(svc: Services) -> dict[str, jobs.Task]:
    async def handler(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            async with svc.pool.acquire() as conn, conn.transaction():
                await check(svc, conn, [int(job.payload["review_id"])], svc.clock.now())
                await batch.done(job, conn)

    return {store.CHECK_JOB: jobs.Task(handler, 20)}
