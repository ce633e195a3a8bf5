"""The photos of an imported Judge.me export, fetched by the worker from a real HTTP server on loopback:
processed like uploads and waiting for a moderator; a 404, a page or an oversized file skipped; a
busy server retried later without fetching twice; the outgoing webhooks' SSRF guard refuses this
machine's address unless the operator allowed private addresses (as the tests do)."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import pytest

from reviews.collection.importing import import_file
from reviews.media import imports as photo_imports
from reviews.media import store as photo_store
from reviews.platform import jobs
from reviews.platform.services import Services
from reviews.screening import photo_copies
from tests.media import photos

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

JUDGEME = ["title", "body", "rating", "review_date", "source", "curated", "reviewer_name", "reviewer_email",
           "product_id", "product_handle", "reply", "reply_date", "picture_urls", "ip_address", "location"]


@dataclass
class PhotoHost:
    """The export's image host: path -> (status, headers, body); every request is counted."""

    files: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            path = head.split(" ", 2)[1]
            self.hits.append(path)
            status, headers, body = self.files.get(path, (404, {}, b"not here"))
            extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            length = "" if "Content-Length" in headers else f"Content-Length: {len(body)}\r\n"
            writer.write(f"HTTP/1.1 {status} X\r\n{extra}{length}Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def host() -> AsyncIterator[PhotoHost]:
    found = PhotoHost()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    try:
        yield found
    finally:
        server.close()
        await server.wait_closed()


def _export(tmp_path: Path, urls: list[str]) -> Path:
    path = tmp_path / "judgeme.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(JUDGEME)
        writer.writerow(["Great boots", "Warm and dry on a wet hike, the laces hold.", "5", "2025-10-01 10:00:00 UTC",
                         "web", "ok", "Marta Kowal", "marta@example.com", "B-1", "boots", "", "", ",".join(urls),
                         "", ""])
    return path


async def _import_and_run(services: Services, tmp_path: Path, urls: list[str]) -> int:
    report = await import_file(services.pool, _export(tmp_path, urls), hasher=services.hasher,
                               now=services.clock.now(), create_merchants=True, default_merchant="boot-shop")
    assert report.summary()["photos_to_fetch"] == 1
    await _drain(services)
    return int(await services.pool.fetchval("SELECT max(id) FROM reviews"))


async def _drain(services: Services) -> None:
    tasks = {**photo_imports.tasks(services), **photo_copies.tasks(services)}
    async with jobs.Worker(pool=services.pool, dsn=services.dsn, tasks=tasks, clock=services.clock) as worker:
        await worker.drain()


@pytest.fixture
def private_allowed(services: Services) -> Services:
    services.settings = replace(services.settings, webhooks_allow_private=True)
    return services


async def test_an_exports_photos_are_fetched_processed_and_wait_for_a_moderator(
        private_allowed: Services, host: PhotoHost, tmp_path: Path) -> None:
    services = private_allowed
    host.files = {
        "/a.jpg": (200, {"Content-Type": "image/jpeg"}, photos.phone_jpeg(80, (1600, 1200))),
        "/moved.jpg": (302, {"Location": "/b.jpg"}, b""),
        "/b.jpg": (200, {"Content-Type": "image/jpeg"}, photos.phone_jpeg(81, (800, 600))),
        "/page.jpg": (200, {"Content-Type": "image/jpeg"}, photos.HTML_AS_JPG),
        "/huge.jpg": (200, {"Content-Length": str(20 * 1024 * 1024)}, b""),
    }
    urls = [host.url(p) for p in ("/a.jpg", "/missing.jpg", "/moved.jpg", "/page.jpg", "/huge.jpg")]
    review_id = await _import_and_run(services, tmp_path, urls)
    found = (await photo_store.of_reviews(services.pool, [review_id]))[review_id]
    assert [(p.source, p.state, p.position) for p in found] == [("import", "pending", 0), ("import", "pending", 2)]
    assert (found[0].width, found[0].height) == (1200, 1600)  # turned upright and fitted, like an upload
    data = await photo_store.blob(services.pool, found[0].image_digest)
    assert data is not None and photos.SERIAL.encode() not in data
    assert await services.pool.fetchval("SELECT state FROM jobs WHERE kind = $1", photo_imports.IMPORT_JOB) == "done"
    assert await services.pool.fetchval("SELECT state FROM jobs WHERE kind = $1", photo_store.CHECK_JOB) == "done"


async def test_a_busy_host_is_tried_again_later_without_fetching_twice(
        private_allowed: Services, host: PhotoHost, tmp_path: Path) -> None:
    services = private_allowed
    host.files = {"/a.jpg": (200, {}, photos.phone_jpeg(82, (800, 600))), "/b.jpg": (503, {}, b"busy")}
    review_id = await _import_and_run(services, tmp_path, [host.url("/a.jpg"), host.url("/b.jpg")])
    job = await services.pool.fetchrow("SELECT * FROM jobs WHERE kind = $1", photo_imports.IMPORT_JOB)
    assert (job["state"], job["attempts"]) == ("queued", 1) and "HTTP 503" in job["last_error"]
    assert len((await photo_store.of_reviews(services.pool, [review_id]))[review_id]) == 1
    host.files["/b.jpg"] = (200, {}, photos.phone_jpeg(83, (800, 600)))
    services.clock.advance(timedelta(hours=7))  # type: ignore[attr-defined]
    await _drain(services)
    assert len((await photo_store.of_reviews(services.pool, [review_id]))[review_id]) == 2
    assert host.hits.count("/a.jpg") == 1 and host.hits.count("/b.jpg") == 2


async def test_this_machine_is_refused_unless_private_addresses_are_allowed(
        services: Services, host: PhotoHost, tmp_path: Path) -> None:
    host.files = {"/a.jpg": (200, {}, photos.phone_jpeg(84, (800, 600)))}
    review_id = await _import_and_run(services, tmp_path, [host.url("/a.jpg"), "http://localhost/x.jpg",
                                                           "file:///etc/passwd"])
    assert await photo_store.of_reviews(services.pool, [review_id]) == {}
    assert host.hits == []  # refused before connecting
    assert await services.pool.fetchval("SELECT state FROM jobs WHERE kind = $1", photo_imports.IMPORT_JOB) == "done"
