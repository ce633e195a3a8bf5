"""The HTTP server's own defences against slow clients, which the app never sees: uvicorn closes an idle
kept-alive connection, but not one that trickles its headers or stalls inside its body, so a few thousand
such sockets would hold the process's connections for ever (slowloris). Behind a reverse proxy that
buffers requests (nginx's default) these limits are the proxy's as well; see the README."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from reviews.platform.settings import Settings


class _DeadlineProtocol(H11Protocol):
    """H11Protocol with a deadline for a request's headers and an idle limit inside its body."""

    header_seconds: float = 10.0
    body_idle_seconds: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A kept-alive connection arms its clock for every request. Rather than a timer each time (created,
        # then cancelled a moment later), one timer per connection wakes at the earliest deadline set and,
        # if the clock was re-armed meanwhile, sleeps again until the new one.
        self._due: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_seconds)

    def data_received(self, data: bytes) -> None:
        if self._due is None and self.conn.their_state is h11.IDLE:
            # The next request on a kept-alive connection: its headers' clock starts with its first byte.
            self._arm(self.header_seconds)
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._arm(self.body_idle_seconds)  # every chunk of the body restarts the idle clock
        elif state is not h11.IDLE:
            self._due = None  # the whole request is in (or the connection is done with)

    def connection_lost(self, exc: Exception | None) -> None:
        self._due = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._due = due = self.loop.time() + seconds
        if self._timer is not None and self._timer.when() <= due:
            return  # it wakes first and sleeps again until this deadline
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(due, self._wake)

    def _wake(self) -> None:
        self._timer = None
        if self._due is None:
            return  # disarmed since: the clock restarts with the next request's first byte
        if self.loop.time() < self._due:
            self._timer = self.loop.call_at(self._due, self._wake)
            return
        self._due = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.logger.info("closing a connection whose request came too slowly")
            self.transport.close()


def config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for Attest's web processes."""
    protocol = type("AttestH11Protocol", (_DeadlineProtocol,), {
        "header_seconds": settings.header_timeout_seconds,
        "body_idle_seconds": settings.body_timeout_seconds,
    })
    options: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_config": None,
        # Forwarded headers are the app's to judge (ATTEST_TRUSTED_PROXIES), not uvicorn's.
        "proxy_headers": False, "server_header": False,
        "http": protocol, "timeout_keep_alive": 5,
        # Each access line's fields are computed for every request, even when the level drops the line.
        "access_log": logging.getLogger("uvicorn.access").isEnabledFor(logging.INFO),
        # Past this many open connections a request gets a 503 at once rather than a slow death for all.
        "limit_concurrency": settings.max_connections,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def freeze_startup_heap() -> None:
    """Move everything the process holds once it has started (modules, templates, catalogs, the pool)
    out of the garbage collector's sight: it lives as long as the process, and each full collection
    walked all of it. bench/widgets.py counted 39 full collections of 65 ms each (up to 81 ms) in one
    web process's run, a stall of every request in flight: the p99 of each database-backed endpoint."""
    gc.collect()
    gc.freeze()
