"""The worker's side of outgoing webhooks: the `webhooks.deliver` job (one attempt of one delivery,
signed as Standard Webhooks ask) and the `webhooks.prune` job (the delivery log's settled rows older
than ATTEST_WEBHOOK_LOG_DAYS go), with the failing endpoint's email (`failing`). The records are
kept by `deliveries` and `endpoints`.

Each attempt is a POST of the stored body (its photos' paths made absolute: `events.with_base_url`)
with `webhook-id` (the same on every attempt), `webhook-timestamp` (the attempt's time) and
`webhook-signature` (a `v1,` signature per secret that signs now). Any 2xx is delivered; anything
else, a redirect included (none is followed), a timeout or a refused address is a failure, tried
again after `deliveries.RETRY_SCHEDULE`. The address is checked again at every attempt and the
connection made to the address that was checked, so a name that moved to a private network is not
followed there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from reviews import __version__
from reviews.hooks import deliveries, endpoints, events, failing, signing, urlguard
from reviews.hooks.deliveries import Attempt
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.services import Services

log = logging.getLogger("attest.webhooks")
BATCH_SIZE = 10
TIMEOUT = httpx.Timeout(5.0)
DEADLINE = 10.0  # seconds for a whole attempt, however slowly the endpoint trickles its answer
RESPONSE_KEPT = 300  # characters of a failed answer kept in the log
USER_AGENT = f"Attest-Webhooks/{__version__}"


@dataclass(frozen=True)
class Outcome:
    status: int | None
    ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def _head(response: httpx.Response) -> str:
    """The start of the answer, for the log; the rest is not read."""
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= RESPONSE_KEPT:
            break
    return kept[:RESPONSE_KEPT].decode("utf-8", "replace")


async def send(svc: Services, attempt: Attempt) -> Outcome:
    """Post the delivery once."""
    allow = svc.settings.webhooks_allow_private
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        url = urlguard.check_url(attempt.url, allow_private=allow)
        address = await urlguard.resolve(url, allow_private=allow)
        body = events.with_base_url(attempt.body, svc.settings.base_url)
        headers = {"content-type": "application/json", "user-agent": USER_AGENT,
                   **signing.headers(attempt.secrets, attempt.msg_id, svc.clock.now(), body)}
        target, extensions = url, {}
        if address is not None:  # connect to the address that was checked, not to a second lookup
            target = url.copy_with(host=address)
            headers["host"] = url.netloc.decode("ascii")
            if url.scheme == "https":
                extensions["sni_hostname"] = url.raw_host.decode("ascii")
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            async with asyncio.timeout(DEADLINE), client.stream(
                    "POST", target, content=body.encode(), headers=headers,
                    extensions=extensions) as response:
                status = response.status_code
                if not 200 <= status < 300:
                    answer = (await _head(response)).strip()
                    error = f"HTTP {status}" + (f": {answer}" if answer else "")
    except urlguard.Refused as exc:
        error = f"address refused: {exc}"
    except TimeoutError:
        error = "timed out"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception as exc:  # whatever else went wrong is this attempt's failure, logged, not the batch's
        log.exception("webhook attempt failed unexpectedly", extra={"delivery": attempt.delivery_id})
        error = f"{type(exc).__name__}: {exc}"
    return Outcome(status, int((time.monotonic() - started) * 1000), error)


async def _deliver(svc: Services, batch: jobs.Batch) -> None:
    ready: list[tuple[jobs.Job, Attempt, bool]] = []
    async with svc.pool.acquire() as conn:
        for job in batch.jobs:
            again = bool(job.payload.get("again"))
            attempt = await deliveries.for_attempt(conn, int(job.payload["delivery_id"]), svc.clock.now())
            if attempt is None or attempt.state == "erased" or (attempt.state != "pending" and not again):
                await batch.done(job, conn)  # gone, erased, or delivered by a redelivery meanwhile
                continue
            ready.append((job, attempt, again))
    if not ready:
        return
    # Endpoints are posted to side by side; one endpoint's messages one after another, in order.
    by_endpoint: dict[int, list[int]] = {}
    for n, (_, attempt, _) in enumerate(ready):
        by_endpoint.setdefault(attempt.endpoint_id, []).append(n)

    async def in_order(indexes: list[int]) -> list[tuple[int, Outcome]]:
        return [(n, await send(svc, ready[n][1])) for n in indexes]

    sent = dict(pair for pairs in await asyncio.gather(*map(in_order, by_endpoint.values())) for pair in pairs)
    outcomes = [sent[n] for n in range(len(ready))]
    async with svc.pool.acquire() as conn:
        for (job, attempt, again), outcome in zip(ready, outcomes, strict=True):
            now = svc.clock.now()
            async with conn.transaction():
                if outcome.ok:
                    await _record(conn, attempt, outcome, now, "delivered")
                    await batch.done(job, conn)
                elif again:  # a redelivery or a test: once
                    await _record(conn, attempt, outcome, now, "once_failed")
                    await batch.done(job, conn)
                elif job.attempts < job.max_attempts:
                    delay = deliveries.RETRY_SCHEDULE[min(job.attempts, len(deliveries.RETRY_SCHEDULE)) - 1]
                    await _record(conn, attempt, outcome, now, "retry", now + delay)
                    await batch.failed(job, jobs.Retry(outcome.error or "failed", delay), conn)
                else:
                    await _record(conn, attempt, outcome, now, "failed")
                    await endpoints.mark_failing(conn, attempt.endpoint_id, now)
                    await batch.done(job, conn)
            log.info("webhook attempt", extra={"delivery": attempt.delivery_id, "endpoint": attempt.endpoint_id,
                                               "status": outcome.status, "ms": outcome.ms, "ok": outcome.ok,
                                               "error": (outcome.error or "")[:200]})


async def _record(conn: Connection, attempt: Attempt, outcome: Outcome, now: datetime, result: str,
                  next_at: datetime | None = None) -> None:
    await deliveries.record_attempt(conn, attempt, now=now, status=outcome.status, ms=outcome.ms,
                                    error=outcome.error, outcome=result, next_at=next_at)


async def _prune(svc: Services, batch: jobs.Batch) -> None:
    """Delete the log's rows past the period, then wait for the next one to come due (at once when
    a batch was full: a backlog goes in steps; at least `PRUNE_EVERY` later otherwise)."""
    period = timedelta(days=svc.settings.webhook_log_days)
    for job in batch.jobs:
        now = svc.clock.now()
        async with svc.pool.acquire() as conn, conn.transaction():
            pruned = await deliveries.prune(conn, now - period, deliveries.PRUNE_BATCH)
            await batch.done(job, conn)  # first: the next one's dedupe key is free again
            oldest = await deliveries.oldest_settled(conn)
            if pruned >= deliveries.PRUNE_BATCH:
                await deliveries.schedule_prune(conn, now)
            elif oldest is not None:
                await deliveries.schedule_prune(conn, max(oldest + period, now + deliveries.PRUNE_EVERY))
        if pruned:
            log.info("webhook log pruned", extra={"deliveries": pruned, "days": svc.settings.webhook_log_days})


def tasks(svc: Services, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    """The job kinds of outgoing webhooks, for `reviews.worker`."""
    async def deliver(batch: jobs.Batch) -> None:
        await _deliver(svc, batch)

    async def notify(batch: jobs.Batch) -> None:
        await failing.notify(svc, batch)

    async def prune(batch: jobs.Batch) -> None:
        await _prune(svc, batch)

    return {deliveries.DELIVER_JOB: jobs.Task(deliver, batch_size), endpoints.FAILING_JOB: jobs.Task(notify, 5),
            deliveries.PRUNE_JOB: jobs.Task(prune, 1)}
