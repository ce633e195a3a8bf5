"""Prometheus metrics at /metrics: this process's HTTP traffic, and the shared queue and
review state read from the database (the same from every web process)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviews.platform import jobs
from reviews.platform.db import Connection

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("attest_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("attest_http_request_seconds", "HTTP request time", ["route"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
JOBS = Gauge("attest_jobs", "Jobs by kind and state", ["kind", "state"], registry=REGISTRY)
OLDEST_DUE = Gauge("attest_jobs_oldest_due_seconds", "How long the oldest due job has waited", registry=REGISTRY)
REVIEWS = Gauge("attest_reviews", "Reviews by state", ["state"], registry=REGISTRY)
INVITATIONS = Gauge("attest_invitations", "Invitations by state", ["state"], registry=REGISTRY)
OPEN_FLAGS = Gauge("attest_flags_open", "Flags waiting for a moderator", registry=REGISTRY)
OLDEST_HELD = Gauge("attest_oldest_held_review_seconds", "How long the longest-waiting held review has waited",
                    registry=REGISTRY)


def templates(routes: Iterable[BaseRoute], prefix: str = "") -> dict[int, str]:
    """Each route's full path template (a mount's prefix and its own), by the route's identity."""
    found: dict[int, str] = {}
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        if isinstance(route, Mount) and route.routes:
            # Left in the scope only when none of its routes matched: that request is "unmatched".
            found.update(templates(route.routes, path))
        else:
            found[id(route)] = path or "other"
    return found


def _route_name(scope: Scope, names: dict[int, str]) -> str:
    # The route's path template, never the raw path: tokens and slugs would explode the label set.
    # The router leaves the route it chose in the scope, the innermost one when it went through a mount.
    route = scope.get("route")
    return "unmatched" if route is None else names.get(id(route), "unmatched")


class Observer:
    """Counts and times requests by route, for MetricsMiddleware and for the app's front
    (`widgets.front`), which answers some requests before the middleware sees them. prometheus_client's
    labels() locks and validates on every call, so each label set's child is looked up once."""

    def __init__(self) -> None:
        self._names: dict[int, str] | None = None
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}

    def route(self, scope: Scope) -> str:
        if self._names is None:
            self._names = templates(getattr(getattr(scope.get("app"), "router", None), "routes", []))
        return _route_name(scope, self._names)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = REQUESTS.labels(method, route, str(status))
        timer = self._timers.get(route)
        if timer is None:
            timer = self._timers[route] = LATENCY.labels(route)
        counter.inc()
        timer.observe(seconds)

    def meter(self, scope: Scope) -> Callable[[int, float], None]:
        """What counts the later answers to this request's route by status and seconds."""
        method, route = scope["method"], self.route(scope)
        return lambda status, seconds: self.observe(method, route, status, seconds)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, observer: Observer | None = None) -> None:
        self.app = app
        self.observer = observer or Observer()

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        self.observer.observe(scope["method"], self.observer.route(scope), status, seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._observe(scope, status, time.perf_counter() - started)


def _refused(request: Request, token: str | None) -> Response | None:
    """Only a scraper with ATTEST_METRICS_TOKEN reads the metrics; without a token configured nobody does."""
    if token is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    return Response("A bearer token is required.", status_code=401, media_type="text/plain",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


Counts = Callable[[Connection], Awaitable[dict[str, int]]]


def endpoint(*, reviews_by_state: Counts, invitations_by_state: Counts,
             open_flags: Callable[[Connection], Awaitable[int]],
             oldest_held: Callable[[Connection, datetime], Awaitable[float]] | None = None,
             ) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics handler. The counts come from each table's owner (`reviews.app` wires them)."""

    async def metrics(request: Request) -> Response:
        svc = request.app.state.services
        refused = _refused(request, svc.settings.metrics_token)
        if refused is not None:
            return refused
        now = svc.clock.now()
        async with svc.pool.acquire() as conn:
            queue = await jobs.queue_state(conn, now)
            JOBS.clear()
            for (kind, state), n in queue.counts.items():
                JOBS.labels(kind, state).set(n)
            OLDEST_DUE.set(queue.oldest_due_seconds)
            for gauge, count in ((REVIEWS, reviews_by_state), (INVITATIONS, invitations_by_state)):
                gauge.clear()
                for state, n in (await count(conn)).items():
                    gauge.labels(state).set(n)
            OPEN_FLAGS.set(await open_flags(conn))
            if oldest_held is not None:
                OLDEST_HELD.set(await oldest_held(conn, now))
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return metrics
