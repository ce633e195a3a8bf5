"""The delivery log: one row per event per endpoint, the only writer of `webhook_deliveries`.

An event is emitted with `emit(conn, merchant_id, event_type, data, now)` inside the transaction
of the change it tells about: one delivery per subscribed endpoint and its job are written with the
change, so an event is never lost and never sent for a change that was rolled back. The job sends
it (`DELIVER_JOB`, `reviews.hooks.delivery`), again after `RETRY_SCHEDULE` while the endpoint does
not answer 2xx; when the retries run out the delivery is `failed` and its endpoint failing
(`endpoints.mark_failing`).

The log is pruned: a settled delivery (delivered, failed, or erased) whose last attempt, else its
creation, is older than ATTEST_WEBHOOK_LOG_DAYS is deleted by the `PRUNE_JOB` job. Every attempt
that settles a delivery makes sure one is waiting (at most `PRUNE_EVERY` away: one job for the
whole log, by its dedupe key), and the job, when it has pruned, waits for the next row to come due,
so the log is pruned about daily while there are deliveries and no job waits while there are none.
A pending delivery is never pruned.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from reviews.hooks import endpoints
from reviews.hooks.events import EVENT_TYPES, TEST_EVENT, message
from reviews.platform import jobs
from reviews.platform.db import Connection, Executor

DELIVER_JOB = "webhooks.deliver"
PRUNE_JOB = "webhooks.prune"
PRUNE_KEY = "webhooks-prune"  # one prune job for the whole log
PRUNE_EVERY = timedelta(days=1)
PRUNE_BATCH = 5000  # rows per statement: a big backlog goes in steps, each its own job
# The waits after each failed attempt: eight attempts over about a day.
RETRY_SCHEDULE = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                  timedelta(hours=3), timedelta(hours=6), timedelta(hours=12))
LOG_LIMIT = 50


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint, as the delivery log shows it."""

    id: int
    endpoint_id: int
    event_type: str
    msg_id: str
    state: str  # pending | delivered | failed | erased
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_ms: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Delivery:
        return cls(row["id"], row["endpoint_id"], row["event_type"], row["msg_id"], row["state"], row["attempts"],
                   row["created_at"], row["last_attempt_at"], row["last_status"], row["last_ms"], row["last_error"],
                   row["next_attempt_at"], row["delivered_at"])


@dataclass(frozen=True)
class Attempt:
    """What the worker needs to send a delivery once: where, what, and the secrets that sign it."""

    delivery_id: int
    endpoint_id: int
    merchant_id: int
    url: str
    msg_id: str
    body: str
    state: str
    secrets: tuple[str, ...]


def _msg_id() -> str:
    return "msg_" + uuid.uuid4().hex


async def _queue(conn: Executor, delivery_id: int, now: datetime, *, again: bool = False) -> None:
    if again:  # a redelivery or a test: one attempt, the owner is watching
        await jobs.enqueue(conn, DELIVER_JOB, {"delivery_id": delivery_id, "again": True}, now,
                           dedupe_key=f"webhook-again:{delivery_id}", max_attempts=1)
    else:
        await jobs.enqueue(conn, DELIVER_JOB, {"delivery_id": delivery_id}, now,
                           dedupe_key=f"webhook:{delivery_id}", max_attempts=len(RETRY_SCHEDULE) + 1)


async def emit(conn: Connection, merchant_id: int, event_type: str, data: dict[str, Any], now: datetime, *,
               review_id: int | None = None) -> int:
    """Queue the event for every endpoint of the shop subscribed to it, in the caller's transaction.
    `data` is the message's `data` (never an address or a network hash). Returns how many were queued."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    rows = await conn.fetch(
        """INSERT INTO webhook_deliveries (endpoint_id, merchant_id, review_id, event_type, msg_id, body,
                                           next_attempt_at, created_at)
           SELECT id, merchant_id, $3, $2, $4, $5, $6, $6 FROM webhook_endpoints
           WHERE merchant_id = $1 AND $2 = ANY(events) ORDER BY id
           RETURNING id""",
        merchant_id, event_type, review_id, _msg_id(), message(event_type, data, now), now)
    for row in rows:
        await _queue(conn, row["id"], now)
    return len(rows)


async def send_test(conn: Connection, merchant_id: int, merchant_slug: str, endpoint_id: int, *,
                    now: datetime) -> int | None:
    """A `webhook.test` message to this endpoint alone, sent once at once."""
    data = {"merchant": merchant_slug, "endpoint_id": endpoint_id,
            "message": "A test event from Attest: this endpoint receives and verifies its messages."}
    async with conn.transaction():
        delivery_id = await conn.fetchval(
            """INSERT INTO webhook_deliveries (endpoint_id, merchant_id, event_type, msg_id, body, next_attempt_at,
                                               created_at)
               SELECT id, merchant_id, $3, $4, $5, $6, $6 FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2
               RETURNING id""",
            endpoint_id, merchant_id, TEST_EVENT, _msg_id(), message(TEST_EVENT, data, now), now)
        if delivery_id is None:
            return None
        await _queue(conn, delivery_id, now, again=True)
    return int(delivery_id)


async def redeliver(conn: Connection, merchant_id: int, endpoint_id: int, delivery_id: int, *,
                    now: datetime) -> bool:
    """Send this delivery again now (the same message, the same webhook-id), once."""
    async with conn.transaction():
        found = await conn.fetchval(
            """UPDATE webhook_deliveries SET next_attempt_at = $4
               WHERE id = $1 AND endpoint_id = $2 AND merchant_id = $3 AND body IS NOT NULL RETURNING id""",
            delivery_id, endpoint_id, merchant_id, now)
        if found is None:
            return False
        await _queue(conn, delivery_id, now, again=True)
    return True


async def deliveries(conn: Executor, merchant_id: int, endpoint_id: int, limit: int = LOG_LIMIT) -> list[Delivery]:
    """The endpoint's latest deliveries, newest first."""
    rows = await conn.fetch(
        """SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 AND merchant_id = $2
           ORDER BY created_at DESC, id DESC LIMIT $3""", endpoint_id, merchant_id, limit)
    return [Delivery.from_row(r) for r in rows]


async def delivery(conn: Executor, delivery_id: int) -> Delivery | None:
    row = await conn.fetchrow("SELECT * FROM webhook_deliveries WHERE id = $1", delivery_id)
    return Delivery.from_row(row) if row else None


async def forget_reviews(conn: Connection, review_ids: Sequence[int]) -> int:
    """A buyer was erased: what was kept of their reviews' messages goes, and nothing waiting of
    them is sent any more."""
    return int(await conn.fetchval(
        """WITH u AS (UPDATE webhook_deliveries SET body = NULL,
                          state = CASE WHEN state = 'pending' THEN 'erased' ELSE state END, next_attempt_at = NULL
                      WHERE review_id = ANY($1::bigint[]) AND body IS NOT NULL RETURNING 1)
           SELECT count(*) FROM u""", list(review_ids)))


# --- the worker's side (reviews.hooks.delivery) -------------------------------------------------


async def for_attempt(conn: Executor, delivery_id: int, now: datetime) -> Attempt | None:
    """The delivery with its endpoint's URL and the secrets that sign at `now`; None when there is
    nothing to send (the endpoint was deleted, the review's buyer erased)."""
    row = await conn.fetchrow(
        """SELECT d.id, d.endpoint_id, d.merchant_id, d.msg_id, d.body, d.state, e.url, e.secret,
                  CASE WHEN e.previous_until > $2 THEN e.previous_secret END AS previous_secret
           FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1""",
        delivery_id, now)
    if row is None or row["body"] is None:
        return None
    signing = (row["secret"],) + ((row["previous_secret"],) if row["previous_secret"] else ())
    return Attempt(row["id"], row["endpoint_id"], row["merchant_id"], row["url"], row["msg_id"], row["body"],
                   row["state"], signing)


async def record_attempt(conn: Connection, attempt: Attempt, *, now: datetime, status: int | None, ms: int,
                         error: str | None, outcome: str, next_at: datetime | None = None) -> None:
    """One attempt's outcome: `delivered`; `retry` (again at `next_at`); `failed` (no attempt left);
    `once_failed` (a redelivery or a test that did not get through: the delivery's own retries, if
    any are waiting, go on). A delivery that got through makes its endpoint active again."""
    assert outcome in ("delivered", "retry", "failed", "once_failed")
    await conn.execute(
        """UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2, last_status = $3,
               last_ms = $4, last_error = $5,
               state = CASE $6::text WHEN 'delivered' THEN 'delivered' WHEN 'retry' THEN 'pending'
                                     WHEN 'failed' THEN 'failed'
                                     ELSE CASE WHEN state IN ('pending', 'delivered') THEN state ELSE 'failed' END END,
               next_attempt_at = CASE WHEN $6::text = 'retry' THEN $7
                                      WHEN $6::text = 'once_failed' AND state = 'pending' THEN next_attempt_at END,
               delivered_at = CASE WHEN $6::text = 'delivered' THEN $2 ELSE delivered_at END
           WHERE id = $1""",
        attempt.delivery_id, now, status, ms, error[:500] if error else None, outcome, next_at)
    await endpoints.attempted(conn, attempt.endpoint_id, now, delivered=outcome == "delivered")
    if outcome != "retry":  # settled (a test or redelivery too): this row will come due
        await schedule_prune(conn, now + PRUNE_EVERY)  # a prune already waiting wins


# --- pruning the delivery log ------------------------------------------------------------------


async def schedule_prune(conn: Executor, at: datetime) -> None:
    """Make sure a prune of the delivery log waits (at `at`, unless one waits already)."""
    await jobs.enqueue(conn, PRUNE_JOB, {}, at, dedupe_key=PRUNE_KEY)


async def prune(conn: Executor, before: datetime, limit: int = PRUNE_BATCH) -> int:
    """Delete up to `limit` settled (delivered, failed or erased) deliveries whose last activity is
    older than `before`, oldest first. Returns how many went."""
    return int(await conn.fetchval(
        """WITH d AS (DELETE FROM webhook_deliveries WHERE id IN (
                          SELECT id FROM webhook_deliveries
                          WHERE state <> 'pending' AND coalesce(last_attempt_at, created_at) < $1
                          ORDER BY coalesce(last_attempt_at, created_at) LIMIT $2)
                      RETURNING 1) SELECT count(*) FROM d""",
        before, limit))


async def oldest_settled(conn: Executor) -> datetime | None:
    """The last activity of the oldest settled delivery left: when the next prune has work."""
    at: datetime | None = await conn.fetchval(
        "SELECT min(coalesce(last_attempt_at, created_at)) FROM webhook_deliveries WHERE state <> 'pending'")
    return at
