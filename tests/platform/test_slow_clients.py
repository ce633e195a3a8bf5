"""Slow and vanishing clients against the real server (uvicorn with Attest's protocol, real sockets): a
request that trickles its headers or stalls in its body is cut off, and a client that hangs up mid-body
is counted as a client's doing (499), not as a server error."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import uvicorn

from reviews.app import create_app
from reviews.merchants.model import Merchant
from reviews.platform import server
from reviews.platform.services import Services
from tests.conftest import METRICS_HEADERS, free_port
from tests.processes import eventually

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

SHORT = 0.5  # the test server's header and body limits, in seconds
PATIENCE = 15  # how long a test waits for the server to act before failing


@pytest.fixture
async def live(services: Services) -> AsyncIterator[tuple[str, int]]:
    settings = dataclasses.replace(services.settings, header_timeout_seconds=SHORT, body_timeout_seconds=SHORT)
    app = create_app(dataclasses.replace(services, settings=settings))
    port = free_port()
    srv = uvicorn.Server(server.config(app, settings, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(srv.serve())
    await eventually(lambda: srv.started, PATIENCE, "the server to start")
    try:
        yield "127.0.0.1", port
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, PATIENCE)


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection (fails if it never does)."""
    return await asyncio.wait_for(reader.read(), PATIENCE)


async def test_a_request_whose_headers_never_end_is_cut_off(live: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*live)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\nX-Slow: ")
    await writer.drain()
    assert await _closed_by_server(reader) == b""
    writer.close()


async def test_a_slowloris_trickling_header_bytes_is_cut_off_too(live: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*live)
    writer.write(b"GET /healthz HTTP/1.1\r\n")
    closed = asyncio.create_task(reader.read())
    deadline = time.monotonic() + PATIENCE
    # One header byte at a time, each well within the limit: only the deadline for the whole block stops it.
    while not closed.done():
        assert time.monotonic() < deadline, "the server kept a trickling connection open"
        try:
            writer.write(b"X")
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.wait([closed], timeout=SHORT / 5)
    assert await closed == b""
    writer.close()


async def test_a_prompt_request_is_answered_and_kept_alive(live: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*live)
    for _ in range(2):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), PATIENCE)
        assert head.startswith(b"HTTP/1.1 200")
        length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
    writer.close()


async def _count_of(base: str, status: str) -> float:
    async with httpx.AsyncClient(base_url=base) as c:
        text = (await c.get("/metrics", headers=METRICS_HEADERS)).text
    found = re.search(r'attest_http_requests_total\{method="POST",route="/api/v1/orders",status="' + status
                      + r'"\} ([0-9.e+]+)', text)
    return float(found.group(1)) if found else 0.0


def _more_than(base: str, status: str, before: float) -> Callable[[], Awaitable[bool]]:
    async def grown() -> bool:
        return await _count_of(base, status) > before
    return grown


async def test_a_body_that_stalls_is_cut_off_and_counted_as_the_clients(
        live: tuple[str, int], merchant: tuple[Merchant, str], caplog: pytest.LogCaptureFixture) -> None:
    base = f"http://{live[0]}:{live[1]}"
    _, key = merchant
    before = await _count_of(base, "499")
    reader, writer = await asyncio.open_connection(*live)
    writer.write(b"POST /api/v1/orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
                 + f"Authorization: Bearer {key}\r\nContent-Length: 400\r\n\r\n".encode() + b'{"order_id": "A-1"')
    await writer.drain()
    with caplog.at_level(logging.INFO):
        assert await _closed_by_server(reader) == b""
        writer.close()
        await eventually(_more_than(base, "499", before), PATIENCE, "the stalled request to be counted")
    assert await _count_of(base, "499") == before + 1
    assert await _count_of(base, "500") == 0
    assert not [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert [r for r in caplog.records if r.getMessage() == "client disconnected"]


async def test_a_client_that_hangs_up_mid_body_is_a_499_not_a_500(
        live: tuple[str, int], merchant: tuple[Merchant, str], caplog: pytest.LogCaptureFixture) -> None:
    base = f"http://{live[0]}:{live[1]}"
    _, key = merchant
    before = await _count_of(base, "499")
    with caplog.at_level(logging.INFO):
        _, writer = await asyncio.open_connection(*live)
        writer.write(b"POST /api/v1/orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
                     + f"Authorization: Bearer {key}\r\nContent-Length: 4000\r\n\r\n".encode() + b'{"order_id"')
        await writer.drain()
        writer.close()
        await eventually(_more_than(base, "499", before), PATIENCE, "the abandoned request to be counted")
    assert await _count_of(base, "499") == before + 1
    assert await _count_of(base, "500") == 0
    assert not [r for r in caplog.records if r.getMessage() == "unhandled error"]
