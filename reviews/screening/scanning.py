"""The worker's scan job: embed new and edited reviews in batches, look for duplicates, then
publish the review or hold it with its flags. Detection only flags; a moderator decides.

Reviews are scanned in the order they were submitted, each against the reviews submitted
before it, so an import of history gives the same flags as the live stream would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import numpy as np
from threadpoolctl import threadpool_limits

from embedding import shingles, store
from embedding import stats as bg
from embedding import text as text_utils
from embedding.detect import Detector, Doc, Flag, lexical_keys
from embedding.model import Embedder, get_embedder
from reviews.collection import store as reviews
from reviews.platform import jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.services import Services
from reviews.screening import contact_evidence
from reviews.screening import flags as flag_store

log = logging.getLogger("attest.scanning")
SCANNABLE = ("pending", "published", "held")
SCAN_BATCH = 256  # scan jobs claimed together: one embedding pass over all their texts (less padding)
EMBED_CHUNK = 32  # texts per encode call, so writing one chunk overlaps encoding the next


def review_text(row: asyncpg.Record | dict[str, Any]) -> str:
    title, body = (row["title"] or "").strip(), (row["body"] or "").strip()
    return f"{title}\n{body}" if title else body


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _author(row: asyncpg.Record) -> str:
    # Without an address (some imports), the merchant-scoped display name stands for the author.
    return row["author_hash"] or f"name:{row['merchant_id']}:{(row['display_name'] or '').strip().lower()}"


# What `_doc` reads of a review (r) and its shop (m): a check reads some forty neighbours and up to a
# thousand recent reviews, so the rest of their columns stay in the database.
_DOC_COLUMNS = ("r.id, r.merchant_id, r.author_hash, r.display_name, r.product_id, r.rating, r.title, r.body, "
                "r.submitted_at, r.locale, m.slug")


def _doc(row: asyncpg.Record, vec: np.ndarray, xvec: np.ndarray | None = None) -> Doc:
    return Doc(id=row["id"], merchant=row["slug"], author=_author(row), product=row["product_id"],
               rating=row["rating"], text=review_text(row), created_at=row["submitted_at"], vector=vec,
               xvector=xvec, language=row["locale"])


_REVIEWS_SQL = """SELECT r.*, m.slug FROM reviews r JOIN merchants m ON m.id = r.merchant_id
                  WHERE r.id = ANY($1) AND r.state <> 'withdrawn' ORDER BY r.submitted_at, r.id"""


@dataclass(frozen=True)
class Channels:
    """The models a scan reads: the main one, and the multilingual one unless it is switched off."""

    main: Embedder
    multilingual: Embedder | None = None


async def _channel_embedder(svc: Services, channel: str, configured: str) -> Embedder:
    """The embedder of the channel's active model. The configured model becomes active only when
    it is the first ever used on the channel; switching models is `attest reindex`, which keeps
    the old vectors in use until the new ones are complete."""
    active = await store.active_model(svc.pool, channel)
    embedder = await asyncio.to_thread(get_embedder, active or configured)
    if active is None:
        await store.register_model(svc.pool, embedder.name, embedder.dim, active=True, channel=channel)
        await store.ensure_index(svc.pool, embedder.name, embedder.dim)
    elif active != configured:
        log.warning("configured model is not active yet; run `attest reindex`",
                    extra={"channel": channel, "configured": configured, "active": active})
    return embedder


async def scanning_channels(svc: Services) -> Channels:
    main = await _channel_embedder(svc, store.MAIN, svc.settings.embedding_model)
    multilingual = svc.settings.multilingual_model
    if multilingual is None:
        return Channels(main)
    return Channels(main, await _channel_embedder(svc, store.MULTILINGUAL, multilingual))


async def embed_rows(pool: asyncpg.Pool, embedder: Embedder, rows: list[asyncpg.Record]) -> int:
    """Store vectors for these reviews under the embedder's model, embedding only what changed.

    Texts are embedded shortest first (less padding per model batch), and each chunk is written
    while the model already works on the next one.
    """
    stored = await pool.fetch(
        "SELECT review_id, text_hash FROM review_embeddings WHERE model = $1 AND review_id = ANY($2)",
        embedder.name, [r["id"] for r in rows],
    )
    current = {r["review_id"]: r["text_hash"] for r in stored}
    todo = sorted((r for r in rows if current.get(r["id"]) != text_hash(review_text(r))),
                  key=lambda r: len(review_text(r)))
    if not todo:
        return 0
    chunks = [todo[i:i + EMBED_CHUNK] for i in range(0, len(todo), EMBED_CHUNK)]

    def encode(chunk: list[asyncpg.Record]) -> np.ndarray:
        return embedder.encode([review_text(r) for r in chunk])

    pending = asyncio.create_task(asyncio.to_thread(encode, chunks[0]))
    async with pool.acquire() as conn:
        for i, chunk in enumerate(chunks):
            matrix = await pending
            if i + 1 < len(chunks):
                pending = asyncio.create_task(asyncio.to_thread(encode, chunks[i + 1]))
            await store.save_many(conn, embedder.name, [
                (row["id"], vec, text_hash(review_text(row)), row["submitted_at"])
                for row, vec in zip(chunk, matrix, strict=True)])
    return len(todo)


@dataclass(frozen=True)
class _Near:
    review_id: int
    similarity: float
    submitted_at: datetime
    vector: np.ndarray


async def _search(conn: Executor, model: str, vec: np.ndarray, doc: Doc, k: int) -> list[_Near]:
    """The k stored reviews nearest to `vec` in the model's index, submitted up to this review, best first."""
    sql = store.nearest_sql(model, int(vec.shape[0]), ", halfvec_send(embedding) AS vec, submitted_at")
    rows = await conn.fetch(sql, *store.nearest_args(vec, k, doc.created_at, doc.id))
    found = [_Near(r["review_id"], 1.0 - float(r["distance"]), r["submitted_at"], store.from_binary(r["vec"]))
             for r in rows]
    return sorted(found, key=lambda n: (-n.similarity, n.review_id))


Profiles = dict[int, tuple[float, float] | None]


def _profile_of(mean: float | None, sd: float | None) -> tuple[float, float] | None:
    return (float(mean), float(sd)) if mean is not None and sd is not None else None


async def _load_docs(conn: Connection, channels: Channels,
                     ids: list[int]) -> tuple[list[Doc], Profiles, Profiles, dict[int, int | None]]:
    """The neighbours as the detector reads them (withdrawn ones left out): both channels'
    vectors and background profiles, and the depth of history those were drawn from, in one query."""
    multilingual = channels.multilingual.name if channels.multilingual else None
    rows = await conn.fetch(
        f"""SELECT {_DOC_COLUMNS}, halfvec_send(e.embedding) AS vec, halfvec_send(x.embedding) AS xvec,
                  p.bg_mean, p.bg_sd, p.history, px.bg_mean AS xbg_mean, px.bg_sd AS xbg_sd
           FROM reviews r JOIN merchants m ON m.id = r.merchant_id
           JOIN review_embeddings e ON e.review_id = r.id AND e.model = $2
           LEFT JOIN review_embeddings x ON x.review_id = r.id AND x.model = $3
           LEFT JOIN review_profiles p ON p.review_id = r.id AND p.model = $2
           LEFT JOIN review_profiles px ON px.review_id = r.id AND px.model = $3
           WHERE r.id = ANY($1) AND r.state <> 'withdrawn'
           ORDER BY r.submitted_at, r.id""",
        ids, channels.main.name, multilingual,
    )
    docs = [_doc(r, store.from_binary(r["vec"]), store.from_binary(r["xvec"]) if r["xvec"] else None) for r in rows]
    return (docs, {r["id"]: _profile_of(r["bg_mean"], r["bg_sd"]) for r in rows},
            {r["id"]: _profile_of(r["xbg_mean"], r["xbg_sd"]) for r in rows if r["xvec"]},
            {r["id"]: r["history"] for r in rows})


async def _recent_same_rating(conn: Executor, row: asyncpg.Record,
                              detector: Detector) -> tuple[list[Doc], list[datetime]]:
    """The merchant's reviews of the same star value in the window before this one: all the burst
    test reads (their time, and their text to weigh them), so no vectors are loaded; and when the
    merchant's reviews of other star values in that window came in (the shop's pace)."""
    window = (row["merchant_id"], row["rating"], row["id"], row["submitted_at"] - detector.params.window,
              row["submitted_at"])
    rows = await conn.fetch(
        f"""SELECT {_DOC_COLUMNS},
                  (SELECT array_agg(o.submitted_at) FROM reviews o
                   WHERE o.merchant_id = $1 AND o.rating <> $2 AND o.state <> 'withdrawn'
                     AND o.submitted_at >= $4 AND o.submitted_at < $5) AS others
           FROM reviews r JOIN merchants m ON m.id = r.merchant_id
           WHERE r.merchant_id = $1 AND r.rating = $2 AND r.id <> $3 AND r.state <> 'withdrawn'
             AND r.submitted_at >= $4 AND r.submitted_at <= $5
           ORDER BY r.submitted_at DESC LIMIT 1000""",
        *window,
    )
    # Without a review of its star value in the window there can be no burst: the pace is moot.
    return [_doc(r, _NO_VECTOR) for r in rows], list(rows[0]["others"] or []) if rows else []


_NO_VECTOR = np.zeros(0, dtype=np.float32)


Timer = Callable[[str], None]
SOURCE_FLAG = "import_moderation"
T = TypeVar("T")


def source_flags(row: asyncpg.Record) -> list[Flag]:
    """A flag for an imported review its source had not approved ("curated=spam").

    The importer (`reviews.collection`, below screening) can only record the export's state on the
    review; raising the flag here, in the scan every new review goes through before it can be
    published, holds it in the same transaction that would otherwise publish it. A moderator's
    dismissal stands on a rescan, as for any flag.
    """
    state = row["source_state"]
    if not state:
        return []
    return [Flag(row["id"], SOURCE_FLAG, 1.0, {"source_state": state,
                                               "reason": f"the export marked this review {state}"})]


async def _ready(value: T) -> T:
    """A value where `asyncio.gather` wants something to await (a channel switched off)."""
    return value


# Three connections for the reads a check makes beside its own connection's (the multilingual search,
# the lexical path, the shop's recent reviews).
Side = tuple[Connection, Connection, Connection]


@contextlib.asynccontextmanager
async def side_connections(pool: asyncpg.Pool) -> AsyncIterator[Side]:
    """A batch's side connections, borrowed once: a loan from the pool costs a check about 0.2 ms
    per read (the acquisition and the reset that returns it clean), three reads a check."""
    async with pool.acquire() as a, pool.acquire() as b, pool.acquire() as c:
        yield a, b, c


async def scan_one(svc: Services, conn: Connection, detector: Detector, channels: Channels,
                   row: asyncpg.Record, vec: np.ndarray, xvec: np.ndarray | None = None, *,
                   side: Side, settle: Callable[[Connection], Awaitable[None]] | None = None,
                   tick: Timer | None = None) -> list[Flag]:
    """One review's full check. `side` are the connections of its side reads (`side_connections`);
    `settle` runs in the same transaction as the results (the job's completion); `tick` marks the
    end of each step, for benchmarks."""
    tick = tick or (lambda _step: None)
    doc = _doc(row, vec, xvec if channels.multilingual else None)
    p = detector.params
    # Extra candidates beyond the detector's k, so the background profile usually needs no search.
    want = p.k + bg.background_candidates(p)
    multilingual = channels.multilingual if doc.xvector is not None else None
    xvector = doc.xvector if doc.xvector is not None else _NO_VECTOR
    keys = lexical_keys(text_utils.normalize(doc.text), p)
    # The two index searches, the lexical one and the merchant's recent reviews do not depend on
    # each other: all but the first go to connections of their own, each a server process of its
    # own, so the check waits for the slowest of them rather than for their sum (the server has
    # cores to spare for it).
    xconn, lconn, rconn = side
    near, xnear, copies, (recent, window_others) = await asyncio.gather(
        _search(conn, channels.main.name, doc.vector, doc, want),
        _search(xconn, multilingual.name, xvector, doc, want) if multilingual else _ready([]),
        shingles.candidates(lconn, keys, doc.created_at, doc.id, p.lexical_k) if keys else _ready([]),
        _recent_same_rating(rconn, row, detector))
    tick("the four reads side by side")
    ids = [n.review_id for n in near[:p.k]]
    ids += [n.review_id for n in xnear[:p.k] if n.review_id not in ids]
    ids += [rid for rid in copies if rid not in ids]
    neighbours, known, xknown, histories = await _load_docs(conn, channels, ids)
    tick("the neighbours' rows")
    profile, xprofile = await asyncio.gather(
        bg.background_profile(conn, channels.main.name, doc.vector, doc.created_at, doc.id, p,
                              [(n.similarity, n.submitted_at, n.vector) for n in near]),
        # A connection of its own, used only if the profile needs a search of its own.
        bg.background_profile(xconn, multilingual.name, xvector, doc.created_at, doc.id, p,
                              [(n.similarity, n.submitted_at, n.vector) for n in xnear])
        if multilingual else _ready(None))
    tick("background profile")
    stats = await bg.prefetch(conn, channels.main.name, doc, row["merchant_id"], profile, neighbours + recent, p,
                              known_profiles=known, xprofiles={**xknown, doc.id: xprofile}, histories=histories)
    tick("prefetch")
    flags = detector.scan(doc, neighbours, recent, stats, window_others)  # type: ignore[arg-type]
    flags += source_flags(row)
    await contact_evidence.annotate(conn, flags)
    tick("detector")
    async with conn.transaction():
        # Scan results can always be computed again, and the job settles in this same transaction:
        # if a crash loses the commit, the job runs again. So no need to wait for the disk.
        await conn.execute("SET LOCAL synchronous_commit = off")
        await reviews.lock_many(conn, [doc.id, *(f.review_id for f in flags)])
        await store.save_profiles(conn, doc.id, {channels.main.name: profile,
                                                 **({multilingual.name: xprofile} if multilingual else {})},
                                  stats.doc_history(doc))
        await shingles.save(conn, doc.id, doc.created_at, keys)
        await flag_store.clear_stale(conn, doc.id, row["edited_at"])
        await flag_store.save(conn, flags, svc.clock.now())
        await bg.count_review(conn, doc, row["merchant_id"])
        if row["state"] == "pending" and not any(f.review_id == doc.id for f in flags):
            await reviews.publish(conn, doc.id, svc.clock.now())
        if settle is not None:
            await settle(conn)
    tick("writes and commit")
    return flags


async def scan(svc: Services, batch: jobs.Batch, detector: Detector) -> None:
    by_review = {int(j.payload["review_id"]): j for j in batch.jobs}
    rows = [r for r in await svc.pool.fetch(_REVIEWS_SQL, list(by_review)) if r["state"] in SCANNABLE]
    for missing in set(by_review) - {r["id"] for r in rows}:
        await batch.done(by_review[missing])  # withdrawn, rejected or deleted since
    if not rows:
        return
    channels = await scanning_channels(svc)
    await embed_rows(svc.pool, channels.main, rows)
    if channels.multilingual:
        await embed_rows(svc.pool, channels.multilingual, rows)
    async with svc.pool.acquire() as conn, side_connections(svc.pool) as side:
        ids = [r["id"] for r in rows]
        vecs = await store.vectors(conn, channels.main.name, ids)
        xvecs = await store.vectors(conn, channels.multilingual.name, ids) if channels.multilingual else {}
        for row in rows:
            job = by_review[row["id"]]
            flags = await scan_one(svc, conn, detector, channels, row, vecs[row["id"]], xvecs.get(row["id"]),
                                   side=side, settle=functools.partial(batch.done, job))
            log.info("review scanned", extra={"review": row["id"], "flags": sorted({f.kind for f in flags})})


def quiet_blas() -> threadpool_limits:
    """One BLAS thread in this process. A scan's matrix products are small (some forty vectors),
    and OpenBLAS would run each on every core and then keep its threads spinning for a while:
    on a worker beside its PostgreSQL that took the cores the searches needed (bench/search.py:
    the full check's p95 went from 27 to 34 ms). The encoders set their own threads while they
    encode (torch its OpenMP pool, the USE encoder a threadpoolctl limit of its own). Returns the
    limit, whose `restore_original_limits()` undoes it."""
    return threadpool_limits(1, user_api="blas")


def tasks(svc: Services, batch_size: int = SCAN_BATCH) -> dict[str, jobs.Task]:
    quiet_blas()
    detector = Detector()

    async def handler(batch: jobs.Batch) -> None:
        await scan(svc, batch, detector)

    return {reviews.SCAN_JOB: jobs.Task(handler, batch_size)}
