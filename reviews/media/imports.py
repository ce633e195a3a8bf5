"""An imported review's photos (Judge.me's `picture_urls`, Yotpo's image columns), fetched by the
worker and processed like uploads, then held for a moderator like every photo.

`reviews.collection.importing` keeps the addresses on the review and queues `IMPORT_JOB`; the job
fetches each one through the outgoing webhooks' SSRF guard (`urlguard`: http(s) to public addresses
only, checked again for every redirect, connecting to the address that was checked), with a timeout
and `processing.MAX_UPLOAD_BYTES` as the size limit, and stores what is a photo. An address that
refuses for good (a 404, a private address, not a photo) is skipped and logged; one that may answer
later (a timeout, a 5xx) makes the job retry, keeping what it already stored. Then screening checks
the new photos for copies (`store.CHECK_JOB`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from urllib.parse import urljoin

import httpx

from reviews.media import processing, store, urlguard
from reviews.platform import jobs
from reviews.platform.db import Executor
from reviews.platform.services import Services

log = logging.getLogger("attest.photos")
IMPORT_JOB = "photos.import"
TIMEOUT = httpx.Timeout(10.0)
DEADLINE = 30.0  # seconds for one photo, however slowly its server trickles it
MAX_REDIRECTS = 3
USER_AGENT = "Attest-photo-import/1.0"


class Skipped(Exception):
    """This address will not give a photo: skip it."""


class Later(Exception):
    """This address may give the photo later: try again."""


async def queue(conn: Executor, review_id: int, now: datetime) -> None:
    """Ask the worker to fetch this imported review's photos (its `media_urls`)."""
    await jobs.enqueue(conn, IMPORT_JOB, {"review_id": review_id}, now, dedupe_key=f"photos-import:{review_id}")


async def fetch(url: str, *, allow_private: bool) -> bytes:
    """The bytes at `url`, within the size limit; `Skipped` or `Later` when there are none."""
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target, address = await urlguard.checked(url, allow_private=allow_private)
        except urlguard.Blocked as exc:
            raise Skipped(f"address refused: {exc}") from None
        headers, extensions = {"user-agent": USER_AGENT, "accept": "image/*"}, {}
        if address is not None:  # connect to the address that was checked, not to a second lookup
            headers["host"] = target.netloc.decode("ascii")
            if target.scheme == "https":
                extensions["sni_hostname"] = target.raw_host.decode("ascii")
            target = target.copy_with(host=address)
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
                async with asyncio.timeout(DEADLINE), client.stream("GET", target, headers=headers,
                                                                    extensions=extensions) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    _check_status(response.status_code)
                    return await _read(response)
        except TimeoutError:
            raise Later("timed out") from None
        except httpx.HTTPError as exc:
            raise Later(f"{type(exc).__name__}: {exc}") from None
    raise Skipped("too many redirects")


def _check_status(status: int) -> None:
    if status in (408, 425, 429) or status >= 500:
        raise Later(f"HTTP {status}")
    if not 200 <= status < 300:
        raise Skipped(f"HTTP {status}")


async def _read(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > processing.MAX_UPLOAD_BYTES:
        raise Skipped(f"{declared} bytes")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > processing.MAX_UPLOAD_BYTES:
            raise Skipped(f"more than {processing.MAX_UPLOAD_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def import_photos(svc: Services, review_id: int) -> tuple[int, list[str]]:
    """Fetch and store the review's photos not stored yet: (how many were stored, what may work later)."""
    row = await svc.pool.fetchrow("SELECT merchant_id, state, media_urls FROM reviews WHERE id = $1", review_id)
    if row is None or row["state"] == "withdrawn":
        return 0, []
    have = await store.imported_urls(svc.pool, review_id)
    stored, later = 0, []
    for position, url in enumerate(list(row["media_urls"] or [])[:store.MAX_PER_REVIEW]):
        if url in have:
            continue
        try:
            data = await fetch(url, allow_private=svc.settings.webhooks_allow_private)
            processed = await asyncio.to_thread(processing.process, data)
        except Later as exc:
            later.append(f"{url}: {exc}")
            continue
        except (Skipped, processing.Refused) as exc:
            log.info("imported photo skipped", extra={"review": review_id, "url": url[:300], "reason": str(exc)})
            continue
        async with svc.pool.acquire() as conn:
            stored += await store.add_imported(conn, review_id=review_id, merchant_id=row["merchant_id"],
                                               source_url=url, position=position, processed=processed,
                                               now=svc.clock.now()) is not None
    return stored, later


def tasks(svc: Services) -> dict[str, jobs.Task]:
    async def handler(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            review_id = int(job.payload["review_id"])
            stored, later = await import_photos(svc, review_id)
            async with svc.pool.acquire() as conn, conn.transaction():
                if stored:
                    await store.queue_check(conn, review_id, svc.clock.now())
                if later:
                    await batch.failed(job, jobs.Retry("; ".join(later)[:1000]), conn)
                else:
                    await batch.done(job, conn)

    return {IMPORT_JOB: jobs.Task(handler, 5)}
