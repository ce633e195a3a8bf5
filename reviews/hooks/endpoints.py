"""A shop's webhook endpoints: the only writer of `webhook_endpoints`.

An owner registers an endpoint (an http(s) URL and the events it wants) and gets its signing
secret once (`signing`). A rotation makes a new one; the previous one signs as well for
`ROTATION_OVERLAP`, so the receiver can switch over without losing a message.

When an event runs out of retries its endpoint is marked failing and its shop's owners are
emailed once (`FAILING_JOB`, `reviews.hooks.failing`). Events keep being sent to a failing
endpoint, each with its retries; the first one that gets through makes it active again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import httpx

from reviews.hooks import signing
from reviews.hooks.events import EVENT_TYPES, iso
from reviews.hooks.urlguard import Refused, Unresolved, check_url, resolve
from reviews.platform import audit, jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ValidationError

FAILING_JOB = "webhooks.failing"
ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS = 10


@dataclass(frozen=True)
class Endpoint:
    """An endpoint as the console shows it: never its secret."""

    id: int
    merchant_id: int
    url: str
    events: list[str]
    state: str  # active | failing
    failing_since: datetime | None
    previous_until: datetime | None  # while the previous secret still signs
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Endpoint:
        return cls(row["id"], row["merchant_id"], row["url"], list(row["events"]), row["state"],
                   row["failing_since"], row["previous_until"], row["created_at"])


class EndpointInvalid(ValidationError):
    """The endpoint was refused; `codes` says why for each field (url: a `Refused` code or
    `limit`; events: `events`)."""

    def __init__(self, fields: dict[str, str], codes: dict[str, str]) -> None:
        super().__init__(fields)
        self.codes = codes


async def create(conn: Connection, merchant_id: int, url: str, events: Sequence[str], *, now: datetime,
                 actor: str, allow_private: bool) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (returned this once; the console shows it and forgets it)."""
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    checked = ""
    try:
        checked = str(check_url(url, allow_private=allow_private))
        await resolve(httpx.URL(checked), allow_private=allow_private)
    except Unresolved:
        pass  # a name not in DNS yet may be by the first event, which checks again
    except Refused as exc:
        errors["url"], codes["url"] = str(exc), exc.code
    chosen = [e for e in EVENT_TYPES if e in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        errors["events"], codes["events"] = "choose one or more of " + ", ".join(EVENT_TYPES), "events"
    if errors:
        raise EndpointInvalid(errors, codes)
    secret = signing.new_secret()
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"webhook-endpoints:{merchant_id}")
        count = await conn.fetchval("SELECT count(*) FROM webhook_endpoints WHERE merchant_id = $1", merchant_id)
        if count >= MAX_ENDPOINTS:
            raise EndpointInvalid({"url": f"a shop has at most {MAX_ENDPOINTS} endpoints"}, {"url": "limit"})
        row = await conn.fetchrow(
            """INSERT INTO webhook_endpoints (merchant_id, url, events, secret, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $5) RETURNING *""",
            merchant_id, checked, chosen, secret, now)
        assert row is not None
        endpoint = Endpoint.from_row(row)
        await audit.record(conn, actor=actor, action="webhooks.endpoint_created", table="webhook_endpoints",
                           row_id=endpoint.id, now=now, after={"url": endpoint.url, "events": endpoint.events})
    return endpoint, secret


async def endpoints(conn: Executor, merchant_id: int) -> list[Endpoint]:
    rows = await conn.fetch("SELECT * FROM webhook_endpoints WHERE merchant_id = $1 ORDER BY id", merchant_id)
    return [Endpoint.from_row(r) for r in rows]


async def endpoint(conn: Executor, merchant_id: int, endpoint_id: int) -> Endpoint | None:
    """One of this shop's endpoints (another shop's id is not found)."""
    row = await conn.fetchrow("SELECT * FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2",
                              endpoint_id, merchant_id)
    return Endpoint.from_row(row) if row else None


async def rotate(conn: Connection, merchant_id: int, endpoint_id: int, *, now: datetime, actor: str) -> str | None:
    """A new secret (returned this once); the current one keeps signing for `ROTATION_OVERLAP`.
    A second rotation inside that time retires the oldest at once."""
    secret = signing.new_secret()
    async with conn.transaction():
        found = await conn.fetchval(
            """UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3, secret = $4, updated_at = $5
               WHERE id = $1 AND merchant_id = $2 RETURNING id""",
            endpoint_id, merchant_id, now + ROTATION_OVERLAP, secret, now)
        if found is None:
            return None
        await audit.record(conn, actor=actor, action="webhooks.secret_rotated", table="webhook_endpoints",
                           row_id=endpoint_id, now=now, after={"previous_signs_until": iso(now + ROTATION_OVERLAP)})
    return secret


async def delete(conn: Connection, merchant_id: int, endpoint_id: int, *, now: datetime, actor: str) -> bool:
    """The endpoint goes with its log; its waiting jobs find nothing to send."""
    async with conn.transaction():
        row = await conn.fetchrow("DELETE FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2 RETURNING *",
                                  endpoint_id, merchant_id)
        if row is None:
            return False
        await audit.record(conn, actor=actor, action="webhooks.endpoint_deleted", table="webhook_endpoints",
                           row_id=endpoint_id, now=now, before={"url": row["url"], "events": list(row["events"])})
    return True


async def attempted(conn: Executor, endpoint_id: int, now: datetime, *, delivered: bool) -> None:
    """After an attempt to this endpoint: a previous secret past its overlap is forgotten, and a
    delivery that got through makes a failing endpoint active again (its owners would be told anew)."""
    await conn.execute(
        """UPDATE webhook_endpoints SET previous_secret = NULL, previous_until = NULL
           WHERE id = $1 AND previous_until <= $2""", endpoint_id, now)
    if delivered:
        await conn.execute(
            """UPDATE webhook_endpoints SET state = 'active', failing_since = NULL, failure_notified_at = NULL,
                   updated_at = $2 WHERE id = $1 AND state = 'failing'""", endpoint_id, now)


async def mark_failing(conn: Connection, endpoint_id: int, now: datetime) -> bool:
    """An event to this endpoint ran out of retries: the endpoint is failing, and its shop's owners
    are told (once, until it works again). True when they are to be told now."""
    await conn.execute(
        """UPDATE webhook_endpoints SET state = 'failing', failing_since = coalesce(failing_since, $2), updated_at = $2
           WHERE id = $1""", endpoint_id, now)
    told = await conn.fetchval(
        """UPDATE webhook_endpoints SET failure_notified_at = $2 WHERE id = $1 AND failure_notified_at IS NULL
           RETURNING id""", endpoint_id, now)
    if told is None:
        return False
    await jobs.enqueue(conn, FAILING_JOB, {"endpoint_id": endpoint_id}, now,
                       dedupe_key=f"webhook-failing:{endpoint_id}")
    return True
