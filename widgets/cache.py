"""Rendered answers kept with the version they were rendered from, and the folded version checks
that say whether a version is still current.

Widgets and the public pages change only when a review is published, withdrawn, held or edited, or
the shop's own settings change. Before an answer is reused (by the app's front, `widgets.front`, or
by the pages' own `Answers`), the request waits for a version check that began after the request
arrived, so whatever any process committed before it shows at once: there is no window of
staleness to bound, no TTL, and no notification that could be missed while a listener reconnects.

The checks are coalesced: while one runs, the requests that arrive meanwhile wait for the next,
which reads the versions of all their shops in one query. Under load that is one small query for
many requests, instead of two to four queries each; alone, a request makes one query, not two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from widgets import queries
from widgets.responses import Rendered

T = TypeVar("T")
# A shop's whole feed can run to megabytes; those are rare and cached by the shop platforms anyway.
MAX_BODY = 256 * 1024
LINGER = 0.05  # seconds the checks' connection waits for the next request before going back to the pool

Key = tuple[str, bytes]
Connection = asyncpg.Connection | PoolConnectionProxy


class Answers(Generic[T]):
    """Rendered answers by (path, query string), each with the version it belongs to; the oldest go first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: dict[Key, tuple[T, Rendered]] = {}

    def get(self, key: Key, version: T) -> Rendered | None:
        found = self._entries.get(key)
        return found[1] if found is not None and found[0] == version else None

    def put(self, key: Key, version: T, rendered: Rendered) -> None:
        if len(rendered.body) > MAX_BODY:
            return
        self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (version, rendered)

    def __len__(self) -> int:
        return len(self._entries)


Fetch = Callable[[Connection, list[str]], Awaitable[dict[str, queries.Shop]]]


class Versions:
    """Each shop's row and version, read by a query that begins after the asking request arrived;
    the requests that arrive while one runs share the next. `fetch` is the query: the widgets' version
    (`queries.shops`) or the public pages' (`queries.page_states`)."""

    def __init__(self, fetch: Fetch = queries.shops) -> None:
        self._fetch = fetch
        self.checks = 0  # how many queries were made, for tests and the benchmark
        self._slugs: dict[str, None] = {}
        # A future of its own for each request: one that gives up cancels only its own (a shared one would
        # need a shield, two more hops through the event loop for every request).
        self._waiting: list[asyncio.Future[dict[str, queries.Shop]]] = []
        self._task: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()

    async def of(self, pool: asyncpg.Pool, slug: str) -> queries.Shop | None:
        waiter: asyncio.Future[dict[str, queries.Shop]] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._slugs[slug] = None
        self._arrived.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(pool))
        return (await waiter).get(slug)

    async def _run(self, pool: asyncpg.Pool) -> None:
        # One connection for a run of back-to-back checks, kept `LINGER` after the last: handing it
        # back to the pool after each would cost the pool's reset, a second round trip, per check.
        try:
            while self._waiting:
                try:
                    async with pool.acquire() as conn:
                        while self._waiting or await self._another():
                            await self._check(conn)
                except Exception as exc:
                    # The database is away or the connection broke: those who queued meanwhile hear of
                    # it too, and the next request tries afresh.
                    _fail(self._take()[0], exc)
        finally:
            self._task = None
            for waiter in self._take()[0]:  # cancelled (shutting down): the waiting requests must not hang
                waiter.cancel()

    def _take(self) -> tuple[list[asyncio.Future[dict[str, queries.Shop]]], list[str]]:
        taken = self._waiting, list(self._slugs)
        self._waiting, self._slugs = [], {}
        return taken

    async def _another(self) -> bool:
        """Whether a request asks within the linger."""
        self._arrived.clear()
        try:
            await asyncio.wait_for(self._arrived.wait(), LINGER)
        except TimeoutError:
            return False
        return True

    async def _check(self, conn: Connection) -> None:
        batch, slugs = self._take()
        self.checks += 1
        try:
            found = await self._fetch(conn, slugs)
        except Exception as exc:
            _fail(batch, exc)
            raise
        except BaseException:
            for waiter in batch:
                waiter.cancel()
            raise
        for waiter in batch:
            if not waiter.done():  # not given up on by its request
                waiter.set_result(found)


def _fail(batch: list[asyncio.Future[dict[str, queries.Shop]]], exc: Exception) -> None:
    for waiter in batch:
        if not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # its request raises it; if it has left, nobody else needs to hear of it


class Cache:
    """The version checks one app's widget routes share (their answers are kept by the app's front)."""

    def __init__(self) -> None:
        self.versions = Versions()
        # For the answers that read the shop's orders too (the fragment's and the JSON-LD's products).
        self.order_versions = Versions(queries.shops_and_orders)
