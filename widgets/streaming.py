"""Answers too large to render whole: the Google feeds, a shop's every review, streamed as they are
read. Memory stays that of one batch of rows and one chunk of text, whatever the shop's size.

They keep what the other widgets' answers have: a strong ETag (the shop's version and its orders',
so an unchanged feed is a 304 without a query of its reviews), long public caching and open CORS.
Each stream holds a database connection while its client reads, so a process runs only a few at
once; one more is a 503 with Retry-After, which Google's fetcher honours.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from widgets import responses

CHUNK = 64 * 1024
MAX_STREAMS = 4
RETRY_AFTER = 60


async def chunked(pieces: AsyncIterator[str], size: int = CHUNK) -> AsyncIterator[bytes]:
    """The pieces of a document as UTF-8 chunks of about `size` bytes: one send per chunk, not per review."""
    buffer: list[bytes] = []
    held = 0
    async for piece in pieces:
        data = piece.encode()
        buffer.append(data)
        held += len(data)
        if held >= size:
            yield b"".join(buffer)
            buffer, held = [], 0
    if buffer:
        yield b"".join(buffer)


class Streams:
    """How many streamed answers this process is sending."""

    def __init__(self, limit: int = MAX_STREAMS) -> None:
        self.limit = limit
        self.running = 0

    async def counted(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        self.running += 1
        try:
            async for chunk in body:
                yield chunk
        finally:
            self.running -= 1


def etag(*parts: str) -> str:
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def respond(request: Request, streams: Streams, *, tag: str, media_type: str,
            body: Callable[[], AsyncIterator[str]]) -> Response:
    """304 when the client has this version; the headers alone for HEAD; else the document, streamed."""
    headers = {**responses.CORS, "Cache-Control": responses.cache_control(responses.LONG_CACHE), "ETag": tag}
    if responses.matches(request.headers.get("if-none-match"), tag):
        return responses.Prepared(304, b"", _raw(headers))
    if request.method == "HEAD":
        return responses.Prepared(200, b"", _raw({**headers, "Content-Type": media_type}))
    if streams.running >= streams.limit:
        answer = responses.error(503, "busy", "Too many feeds are being sent right now; try again in a minute.")
        answer.headers["Retry-After"] = str(RETRY_AFTER)
        return answer
    return StreamingResponse(streams.counted(chunked(body())), media_type=media_type, headers=headers)


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
