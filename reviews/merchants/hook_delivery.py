"""Sending outgoing webhooks: the `webhooks.deliver` job (one attempt of one delivery, signed as
Standard Webhooks ask), the `webhooks.failing` job (the email to a shop's owners when an
endpoint ran out of retries) and the `webhooks.prune` job (the delivery log's settled rows older
than ATTEST_WEBHOOK_LOG_DAYS go). The records are kept by `reviews.merchants.hooks`.

Each attempt is a POST of the stored body with `webhook-id` (the same on every attempt),
`webhook-timestamp` (the attempt's time) and `webhook-signature` (a `v1,` signature per secret
that signs now). Any 2xx is delivered; anything else, a redirect included (none is followed), a
timeout or a refused address is a failure, tried again after `hooks.RETRY_SCHEDULE`. The
address is checked again at every attempt and the connection made to the address that was
checked, so a name that moved to a private network is not followed there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import httpx

from reviews import __version__
from reviews.merchants import hooks
from reviews.merchants.hooks import Attempt, FailingNotice
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.i18n import negotiate
from reviews.platform.services import Services

log = logging.getLogger("attest.webhooks")
BATCH_SIZE = 10
TIMEOUT = httpx.Timeout(5.0)
DEADLINE = 10.0  # seconds for a whole attempt, however slowly the endpoint trickles its answer
RESPONSE_KEPT = 300  # characters of a failed answer kept in the log
USER_AGENT = f"Attest-Webhooks/{__version__}"

# (the notice, the owner's language) -> (subject, text): the console's words, in its catalog.
Composer = Callable[[FailingNotice, str, str], tuple[str, str]]


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
        url = hooks.check_url(attempt.url, allow_private=allow)
        address = await hooks.resolve(url, allow_private=allow)
        headers = {"content-type": "application/json", "user-agent": USER_AGENT,
                   **hooks.headers(attempt.secrets, attempt.msg_id, svc.clock.now(), attempt.body)}
        target, extensions = url, {}
        if address is not None:  # connect to the address that was checked, not to a second lookup
            target = url.copy_with(host=address)
            headers["host"] = url.netloc.decode("ascii")
            if url.scheme == "https":
                extensions["sni_hostname"] = url.raw_host.decode("ascii")
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            async with asyncio.timeout(DEADLINE), client.stream(
                    "POST", target, content=attempt.body.encode(), headers=headers,
                    extensions=extensions) as response:
                status = response.status_code
                if not 200 <= status < 300:
                    answer = (await _head(response)).strip()
                    error = f"HTTP {status}" + (f": {answer}" if answer else "")
    except hooks.Refused as exc:
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
            attempt = await hooks.for_attempt(conn, int(job.payload["delivery_id"]), svc.clock.now())
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
                    delay = hooks.RETRY_SCHEDULE[min(job.attempts, len(hooks.RETRY_SCHEDULE)) - 1]
                    await _record(conn, attempt, outcome, now, "retry", now + delay)
                    await batch.failed(job, jobs.Retry(outcome.error or "failed", delay), conn)
                else:
                    await _record(conn, attempt, outcome, now, "failed")
                    await hooks.mark_failing(conn, attempt.endpoint_id, now)
                    await batch.done(job, conn)
            log.info("webhook attempt", extra={"delivery": attempt.delivery_id, "endpoint": attempt.endpoint_id,
                                               "status": outcome.status, "ms": outcome.ms, "ok": outcome.ok,
                                               "error": (outcome.error or "")[:200]})


async def _record(conn: Connection, attempt: Attempt, outcome: Outcome, now: datetime, result: str,
                  next_at: datetime | None = None) -> None:
    await hooks.record_attempt(conn, attempt, now=now, status=outcome.status, ms=outcome.ms, error=outcome.error,
                               outcome=result, next_at=next_at)


def _email(svc: Services, compose: Composer, notice: FailingNotice, owner: hooks.Owner) -> EmailMessage:
    locale = negotiate(owner.locale, notice.merchant_locale)
    link = svc.url(f"/console/m/{notice.merchant_slug}/developers/webhooks/{notice.endpoint_id}")
    subject, text = compose(notice, locale, link)
    msg = EmailMessage()
    msg["Message-ID"] = make_msgid(domain=svc.settings.mail_from.rpartition("@")[2] or None)
    msg["Date"] = format_datetime(svc.clock.now())
    msg["From"] = svc.settings.mail_from
    msg["To"] = owner.email
    msg["Subject"] = subject
    msg.set_content(text + "\n")
    return msg


async def _notify(svc: Services, compose: Composer, batch: jobs.Batch) -> None:
    async with svc.pool.acquire() as conn:
        for job in batch.jobs:
            notice = await hooks.failing_notice(conn, int(job.payload["endpoint_id"]))
            if notice is None or not notice.owners:
                await batch.done(job, conn)  # it works again, it is gone, or the shop has no owner to tell
                continue
            try:
                async with svc.transport().session() as session:
                    for owner in notice.owners:
                        await session.send(_email(svc, compose, notice, owner))
            except Exception as exc:  # the mail server's trouble: the job tries again later
                log.warning("webhook failing notice not sent", extra={"endpoint": notice.endpoint_id,
                                                                      "error": str(exc)[:300]})
                await batch.failed(job, jobs.Retry(f"{type(exc).__name__}: {exc}"), conn)
                continue
            await batch.done(job, conn)


async def _prune(svc: Services, batch: jobs.Batch) -> None:
    """Delete the log's rows past the period, then wait for the next one to come due (at once when
    a batch was full: a backlog goes in steps; at least `PRUNE_EVERY` later otherwise)."""
    period = timedelta(days=svc.settings.webhook_log_days)
    for job in batch.jobs:
        now = svc.clock.now()
        async with svc.pool.acquire() as conn, conn.transaction():
            pruned = await hooks.prune(conn, now - period, hooks.PRUNE_BATCH)
            await batch.done(job, conn)  # first: the next one's dedupe key is free again
            oldest = await hooks.oldest_settled(conn)
            if pruned >= hooks.PRUNE_BATCH:
                await hooks.schedule_prune(conn, now)
            elif oldest is not None:
                await hooks.schedule_prune(conn, max(oldest + period, now + hooks.PRUNE_EVERY))
        if pruned:
            log.info("webhook log pruned", extra={"deliveries": pruned, "days": svc.settings.webhook_log_days})


def tasks(svc: Services, compose: Composer, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    """The job kinds, for `reviews.worker`; `compose` words the failing endpoint's email."""
    async def deliver(batch: jobs.Batch) -> None:
        await _deliver(svc, batch)

    async def notify(batch: jobs.Batch) -> None:
        await _notify(svc, compose, batch)

    async def prune(batch: jobs.Batch) -> None:
        await _prune(svc, batch)

    return {hooks.DELIVER_JOB: jobs.Task(deliver, batch_size), hooks.FAILING_JOB: jobs.Task(notify, 5),
            hooks.PRUNE_JOB: jobs.Task(prune, 1)}
