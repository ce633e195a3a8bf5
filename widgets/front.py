"""Public answers given again without routing, parsing or rendering: the front of a web process.

A shop's pages ask for the same few answers thousands of times between two changes: its widgets'
JSON, the scripts, the badge, its public page, its photos. Each of those endpoints renders an answer
once and caches it, but reaching that cache still costs every request the app's whole middleware
stack, its router and a `Request`: more than the answer itself, at these sizes.

So an endpoint that may be answered again *offers* its answer (`offer`), with the version it was
rendered from and how to read the current one. `Front`, the outermost layer of the app, keeps the
offers by path, query and the request headers the answer varies on, and answers the next such GET
itself, once the answer's version check (which, like every other, begins after the request arrived)
says the answer is still current. Anything else (a HEAD, an unknown or stale answer, a failed
check) goes through the app as before, which renders it afresh and offers it again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from widgets.responses import Rendered, matches

SLOT = "attest.front"  # the scope's list an endpoint adds its offer to
MAX_ENTRIES = 4096
MAX_BYTES = 64 * 1024 * 1024
Headers = list[tuple[bytes, bytes]]
Meter = Callable[[int, float], None]


@dataclass(frozen=True, slots=True)
class Offer:
    """An answer that may be given again while `current()` returns `version` (always, if `current`
    is None: an answer that cannot change while the process runs). `vary` names the request headers,
    lowercase, that chose it (the path and query always do)."""

    body: bytes
    etag: str
    ok: Headers  # the 200's headers, Content-Length and Content-Type included
    not_modified: Headers  # the 304's
    version: object = None
    current: Callable[[], Awaitable[object]] | None = None
    vary: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, rendered: Rendered, version: object = None, current: Callable[[], Awaitable[object]] | None = None,
           vary: tuple[bytes, ...] = ()) -> Offer:
        return cls(rendered.body, rendered.etag, rendered.raw_ok, rendered.raw_not_modified, version, current, vary)


def offer(scope: Scope, answer: Offer) -> None:
    """Offer this request's answer to the front, if one runs (an app without it ignores this)."""
    slot = scope.get(SLOT)
    if slot is not None:
        # With the endpoint's own scope, which names its route: a layer between may have copied the front's.
        slot.append((answer, scope))


@dataclass(frozen=True, slots=True)
class _Kept:
    offer: Offer
    ok: Headers  # with the app's own headers added, as its middleware would have
    not_modified: Headers
    meter: Meter | None


Key = tuple[str, bytes, tuple[bytes, ...]]


class Front:
    """The ASGI layer that answers what was offered (see the module docstring).

    `extra_headers(path)` are the headers the app's middleware adds to every answer of that path unless
    the answer has its own; `meter(scope)`, called when an answer is kept (the route is known then),
    gives what counts each later answer by status and seconds, as the app's metrics do."""

    def __init__(self, app: ASGIApp, *, extra_headers: Callable[[str], Sequence[tuple[bytes, bytes]]] = lambda _: (),
                 meter: Callable[[Scope], Meter] | None = None, max_entries: int = MAX_ENTRIES,
                 max_bytes: int = MAX_BYTES) -> None:
        self.app = app
        self.extra_headers = extra_headers
        self.meter = meter
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.hits = 0  # answers given here, for tests and the benchmark
        self._varies: dict[tuple[str, bytes], tuple[bytes, ...]] = {}
        self._kept: dict[Key, _Kept] = {}
        self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path, query = scope["path"], scope["query_string"]
        vary = self._varies.get((path, query))
        if vary is not None:
            if_none_match, values = _read(scope["headers"], vary)
            key = (path, query, values)
            kept = self._kept.get(key)
            if kept is not None:
                if await _current(kept.offer):
                    await self._answer(kept, if_none_match, send, started)
                    return
                if self._kept.get(key) is kept:  # not already replaced by a request that rendered it afresh
                    self._drop(key)
        offers: list[tuple[Offer, Scope]] = []
        scope[SLOT] = offers
        await self.app(scope, receive, send)
        if offers:
            answer, inner = offers[-1]
            _, values = _read(scope["headers"], answer.vary)
            self._keep((path, query, values), answer, inner)

    async def _answer(self, kept: _Kept, if_none_match: str | None, send: Send, started: float) -> None:
        self.hits += 1
        if matches(if_none_match, kept.offer.etag):
            status = 304
            await send({"type": "http.response.start", "status": 304, "headers": kept.not_modified})
            await send({"type": "http.response.body", "body": b""})
        else:
            status = 200
            await send({"type": "http.response.start", "status": 200, "headers": kept.ok})
            await send({"type": "http.response.body", "body": kept.offer.body})
        if kept.meter is not None:
            kept.meter(status, time.perf_counter() - started)

    def _keep(self, key: Key, answer: Offer, scope: Scope) -> None:
        size = len(answer.body)
        if size > self.max_bytes // 16:
            return
        self._drop(key)
        while self._kept and (len(self._kept) >= self.max_entries or self._bytes + size > self.max_bytes):
            self._drop(next(iter(self._kept)))
        extra = self.extra_headers(key[0])
        self._kept[key] = _Kept(answer, _with(answer.ok, extra), _with(answer.not_modified, extra),
                                self.meter(scope) if self.meter is not None else None)
        self._varies[key[0], key[1]] = answer.vary
        self._bytes += size

    def _drop(self, key: Key) -> None:
        gone = self._kept.pop(key, None)
        if gone is not None:
            self._bytes -= len(gone.offer.body)
            # Forgotten with its answer, so that it stays as bounded as they are: another variant of the
            # same address, if one is kept, is a miss until it is offered again.
            self._varies.pop((key[0], key[1]), None)

    def __len__(self) -> int:
        return len(self._kept)


async def _current(answer: Offer) -> bool:
    if answer.current is None:
        return True
    try:
        return await answer.current() == answer.version
    except Exception:
        # The check failed (the database is away): the app answers this request as it answers such a
        # failure, with its own error page.
        return False


def _read(headers: Sequence[tuple[bytes, bytes]], vary: tuple[bytes, ...]) -> tuple[str | None, tuple[bytes, ...]]:
    """The request's If-None-Match, and the values of the `vary` headers (b"" for one it lacks)."""
    if_none_match = None
    values = [b""] * len(vary)
    for name, value in headers:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif vary and name in vary:
            values[vary.index(name)] = value
    return if_none_match, tuple(values)


def _with(headers: Headers, extra: Sequence[tuple[bytes, bytes]]) -> Headers:
    present = {name for name, _ in headers}
    return [*headers, *(pair for pair in extra if pair[0] not in present)]
