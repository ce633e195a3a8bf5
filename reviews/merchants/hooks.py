"""Outgoing webhooks: a shop's endpoints and the log of what was sent to them, as Standard Webhooks
(https://www.standardwebhooks.com) describe them. The only writer of `webhook_endpoints` and
`webhook_deliveries`; `reviews.merchants.hook_delivery` does the sending.

An owner registers an endpoint (an http(s) URL and the events it wants) and gets its signing
secret once, in the spec's `whsec_<base64>` form. The secret is stored as it is: it has to sign
every message, so it cannot be hashed. A rotation makes a new one; the previous one signs as well
for `ROTATION_OVERLAP` (each message then carries both `v1,` signatures), so the receiver can switch
over without losing a message.

An event is emitted with `emit(conn, merchant_id, event_type, data, now)` inside the transaction
of the change it tells about: one delivery per subscribed endpoint and its job are written with the
change, so an event is never lost and never sent for a change that was rolled back. The job sends
it (`DELIVER_JOB`), again after `RETRY_SCHEDULE` while the endpoint does not answer 2xx; when the
retries run out the delivery is `failed`, the endpoint is marked failing and its shop's owners are
emailed once (`FAILING_JOB`). Events keep being sent to a failing endpoint, each with its retries;
the first one that gets through makes it active again.

Every message is `{"type", "timestamp", "data"}`; a review's `data` is built by
`reviews.collection.hook_events` and never holds the buyer's address or network hash.

The delivery log is pruned: a settled delivery (delivered, failed, or erased) whose last attempt,
else its creation, is older than ATTEST_WEBHOOK_LOG_DAYS is deleted by the `PRUNE_JOB` job. Every
attempt that settles a delivery makes sure one is waiting (at most `PRUNE_EVERY` away: one job for
the whole log, by its dedupe key), and the job, when it has pruned, waits for the next row to come
due, so the log is pruned about daily while there are deliveries and no job waits while there are
none. A pending delivery is never pruned.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from standardwebhooks import Webhook

from reviews.platform import audit, jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ValidationError

REVIEW_PUBLISHED = "review.published"
REVIEW_UPDATED = "review.updated"
REVIEW_WITHDRAWN = "review.withdrawn"
REVIEW_REPLIED = "review.replied"
EVENT_TYPES = (REVIEW_PUBLISHED, REVIEW_UPDATED, REVIEW_WITHDRAWN, REVIEW_REPLIED)
# What the console's "send a test event" button sends, whatever the endpoint subscribed to.
TEST_EVENT = "webhook.test"

DELIVER_JOB = "webhooks.deliver"
FAILING_JOB = "webhooks.failing"
PRUNE_JOB = "webhooks.prune"
PRUNE_KEY = "webhooks-prune"  # one prune job for the whole log
PRUNE_EVERY = timedelta(days=1)
PRUNE_BATCH = 5000  # rows per statement: a big backlog goes in steps, each its own job
# The waits after each failed attempt: eight attempts over about a day.
RETRY_SCHEDULE = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                  timedelta(hours=3), timedelta(hours=6), timedelta(hours=12))
ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS = 10
URL_MAX = 2000
SECRET_BYTES = 32
LOG_LIMIT = 50


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


# --- secrets and signatures --------------------------------------------------------------------


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: `whsec_` and base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secrets_: Sequence[str], msg_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(msg_id, at.astimezone(UTC), body) for secret in secrets_)


def headers(secrets_: Sequence[str], msg_id: str, at: datetime, body: str) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(secrets_, msg_id, at, body)}


def message(event_type: str, data: dict[str, Any], now: datetime) -> str:
    """The body sent (and signed) on every attempt."""
    return json.dumps({"type": event_type, "timestamp": iso(now), "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


def iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


# --- where messages may go (SSRF) --------------------------------------------------------------


class Refused(ValueError):
    """The endpoint's address is not one Attest sends to; `code` says why, for the console's words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Unresolved(Refused):
    """The endpoint's host name has no address (yet)."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """An endpoint's URL as typed by its owner, refused unless it is http(s) to a named or public
    host (the machine itself and private networks only with ATTEST_WEBHOOKS_ALLOW_PRIVATE)."""
    url = url.strip()
    if not url or len(url) > URL_MAX:
        raise Refused("length", f"must be 1 to {URL_MAX} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise Refused("not_url", "is not a URL") from None
    if parsed.scheme not in ("http", "https"):
        raise Refused("scheme", "must start with https:// (or http://)")
    if not parsed.host:
        raise Refused("not_url", "has no host")
    if parsed.userinfo:
        raise Refused("credentials", "must not hold a user name or password")
    if parsed.fragment:
        raise Refused("fragment", "must not have a #fragment")
    if not allow_private:
        host = parsed.host.lower().rstrip(".")
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".home.arpa")):
            raise Refused("private", "points at this machine or a private network")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not _public(str(literal)):
            raise Refused("private", "points at this machine or a private network")
    return parsed


async def resolve(url: httpx.URL, *, allow_private: bool) -> str | None:
    """The address to connect to, checked at the time of sending (a name may have moved since the
    endpoint was saved): every address the name has must be public. None when the check is off."""
    if allow_private:
        return None
    host = url.raw_host.decode("ascii")
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except OSError as exc:
            raise Unresolved("unresolved", f"could not resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Unresolved("unresolved", f"{host} has no address")
    if not all(_public(a) for a in addresses):
        raise Refused("private", "points at this machine or a private network")
    return addresses[0]


# --- endpoints ---------------------------------------------------------------------------------


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
    secret = new_secret()
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
    secret = new_secret()
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


# --- events and deliveries ---------------------------------------------------------------------


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


# --- the worker's side (reviews.merchants.hook_delivery) ---------------------------------------


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
    await conn.execute(
        """UPDATE webhook_endpoints SET previous_secret = NULL, previous_until = NULL
           WHERE id = $1 AND previous_until <= $2""", attempt.endpoint_id, now)
    if outcome == "delivered":
        await conn.execute(
            """UPDATE webhook_endpoints SET state = 'active', failing_since = NULL, failure_notified_at = NULL,
                   updated_at = $2 WHERE id = $1 AND state = 'failing'""", attempt.endpoint_id, now)
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


@dataclass(frozen=True)
class Owner:
    email: str
    locale: str | None


@dataclass(frozen=True)
class FailingNotice:
    """What the failing endpoint's email says, and to whom."""

    merchant_id: int
    merchant_slug: str
    merchant_name: str
    merchant_locale: str
    endpoint_id: int
    url: str
    failing_since: datetime
    last_status: int | None
    last_error: str | None
    owners: list[Owner]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def failing_notice(conn: Executor, endpoint_id: int) -> FailingNotice | None:
    """The notice of a failing endpoint, or None when it works again (or is gone)."""
    row = await conn.fetchrow(
        """SELECT e.id, e.url, e.failing_since, e.state, m.id AS merchant_id, m.slug, m.name, m.locale
           FROM webhook_endpoints e JOIN merchants m ON m.id = e.merchant_id WHERE e.id = $1""", endpoint_id)
    if row is None or row["state"] != "failing" or row["failing_since"] is None:
        return None
    last = await conn.fetchrow(
        """SELECT last_status, last_error FROM webhook_deliveries WHERE endpoint_id = $1 AND last_attempt_at IS NOT NULL
           ORDER BY last_attempt_at DESC, id DESC LIMIT 1""", endpoint_id)
    # The shop's owners, read from the console's accounts (memberships are written by reviews.console.users).
    owners = await conn.fetch(
        """SELECT u.email, u.locale FROM memberships s JOIN users u ON u.id = s.user_id
           WHERE s.merchant_id = $1 AND s.role = 'owner' AND u.disabled_at IS NULL ORDER BY u.email""",
        row["merchant_id"])
    return FailingNotice(row["merchant_id"], row["slug"], row["name"], row["locale"], row["id"], row["url"],
                         row["failing_since"], last["last_status"] if last else None,
                         last["last_error"] if last else None, [Owner(o["email"], o["locale"]) for o in owners])


# --- the OpenAPI document's `webhooks` (reviews.intake.openapi) --------------------------------

_SUMMARIES = {
    REVIEW_PUBLISHED: "A review is now public (after its check, a moderator's decision, or again after an edit "
                      "or a hold); keep the latest by `data.id`",
    REVIEW_UPDATED: "A public review changed: its author edited it (`state` pending until checked again, then "
                    "review.published follows), or moderation held or rejected it",
    REVIEW_WITHDRAWN: "Its author withdrew the review, or the buyer's data was erased (text and name empty)",
    REVIEW_REPLIED: "The shop replied publicly to the review (`data.reply`)",
    TEST_EVENT: "Sent by the console's \"send a test event\" button, whatever the endpoint subscribed to",
}


def openapi_schemas() -> dict[str, Any]:
    time = {"type": "string", "format": "date-time"}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    text = {"type": "string"}
    return {
        "ReviewEventData": {
            "type": "object",
            "description": "The review as the widgets show it. Never the buyer's email address or network data.",
            "required": ["id", "merchant", "rating", "title", "body", "display_name", "state", "verified",
                         "submitted_at", "published_at", "reply"],
            "properties": {
                "id": {"type": "integer"}, "merchant": {"type": "string", "description": "the shop's slug"},
                "product_id": {"type": ["string", "null"], "description": "null: a review of the shop"},
                "product_name": {"type": ["string", "null"]},
                "rating": {"type": "integer", "minimum": 1, "maximum": 5}, "title": text, "body": text,
                "display_name": text, "language": {"type": ["string", "null"]},
                "state": {"type": "string", "enum": ["pending", "held", "published", "rejected", "withdrawn"]},
                "verified": {"type": "boolean", "description": "written from an invitation after a real order"},
                "source": {"type": "string", "description": "invited, or imported"},
                "submitted_at": time, "published_at": nullable_time, "edited_at": nullable_time,
                "reply": {"anyOf": [{"type": "null"}, {
                    "type": "object", "required": ["body"], "description": "the shop's public reply",
                    "properties": {"body": text, "created_at": nullable_time, "updated_at": nullable_time}}]}}},
        "TestEventData": {"type": "object", "required": ["merchant", "endpoint_id", "message"], "properties": {
            "merchant": text, "endpoint_id": {"type": "integer"}, "message": text}},
        **{_schema_name(kind): {
            "type": "object", "required": ["type", "timestamp", "data"], "properties": {
                "type": {"type": "string", "const": kind}, "timestamp": time,
                "data": {"$ref": "#/components/schemas/" + ("TestEventData" if kind == TEST_EVENT
                                                           else "ReviewEventData")}}}
           for kind in (*EVENT_TYPES, TEST_EVENT)},
    }


def _schema_name(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split(".")) + "Event"


def openapi_webhooks() -> dict[str, Any]:
    """Each event as OpenAPI 3.1 describes webhooks: the POST Attest makes to an endpoint."""
    headers = [
        {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "The message's id, the same on every attempt: receive each once"},
        {"name": "webhook-timestamp", "in": "header", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9]+$"}, "description": "Seconds since 1970 of this attempt"},
        {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "Space-separated `v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>` with the endpoint's "
                        "secret (both the new and the previous one for 24 hours after a rotation)"},
    ]
    return {kind: {"post": {
        "summary": _SUMMARIES[kind],
        "description": "Signed as Standard Webhooks ask (https://www.standardwebhooks.com). Any 2xx answer is "
                       "delivered; anything else is tried again after 1 and 5 minutes, then 30 minutes, 2, 3, 6 "
                       "and 12 hours. Redirects are not followed.",
        "parameters": headers,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/" + _schema_name(kind)}}}},
        "responses": {"2XX": {"description": "Received"},
                      "default": {"description": "Not received: tried again later"}}}}
        for kind in (*EVENT_TYPES, TEST_EVENT)}
