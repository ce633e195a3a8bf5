"""The HTTP server's own defences against slow clients, which the app never sees: uvicorn closes an idle
kept-alive connection, but not one that trickles its headers or stalls inside its body, so a few thousand
such sockets would hold the process's connections for ever (slowloris). Behind a reverse proxy that
buffers requests (nginx's default) these limits are the proxy's as well; see the README."""

from __future__ import annotations

import asyncio
import gc
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
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_seconds)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            # The next request on a kept-alive connection: its headers' clock starts with its first byte.
            self._arm(self.header_seconds)
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._arm(self.body_idle_seconds)  # every chunk of the body restarts the idle clock
        elif state is not h11.IDLE:
            self._disarm()  # the whole request is in (or the connection is done with)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
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
