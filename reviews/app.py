"""The web application: create_app, the routes table, middleware and error handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from reviews.buyer import pages, review_page, unsubscribe, verification
from reviews.buyer.pages import _
from reviews.collection import store as reviews
from reviews.collection.reasons import REASONS
from reviews.console import errors as console_errors
from reviews.console.routes import EXCEPTION_HANDLERS as CONSOLE_ERRORS
from reviews.console.routes import routes as console_routes
from reviews.intake import api, openapi, shopify, woocommerce
from reviews.invitations import store as invitations
from reviews.media import serving as photos
from reviews.merchants import branding
from reviews.moderation import queue as moderation_queue
from reviews.platform import db, http, metrics, server
from reviews.platform.errors import ApiError
from reviews.platform.i18n import Catalog
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from reviews.privacy import api as privacy_api
from reviews.privacy import buyer_data
from reviews.runtime import open_services
from reviews.screening import flags
from reviews.worker import make_worker
from widgets import config as widgets_config
from widgets import front
from widgets.pages import config as pages_config
from widgets.pages.routes import routes as shop_page_routes
from widgets.routes import routes as widget_routes

log = logging.getLogger("attest.web")
# How long a client is asked to wait while the database is out of reach.
RETRY_AFTER_SECONDS = 5
CLIENT_CLOSED_REQUEST = 499
# The worker loop comes round at least every few seconds, and between the job kinds of a batch.
WORKER_STALL_SECONDS = float(os.environ.get("ATTEST_WORKER_STALL_SECONDS") or 120)


def _worker_ended(app: Starlette, task: asyncio.Task[None], stop: asyncio.Event) -> None:
    """The worker ends only when told to; if it died anyway, the process must end with an error
    (`attest serve` exits non-zero) so that a supervisor restarts it."""
    if stop.is_set() or task.cancelled() or task.exception() is None:
        return
    log.critical("worker died; stopping the process", exc_info=task.exception())
    app.state.worker_failed = True
    signal.raise_signal(signal.SIGTERM)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/hooks/", "/widgets/")) or path.endswith(".json")


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}
    code = codes.get(exc.status_code, "error")
    if _wants_json(request):
        message = exc.detail if isinstance(exc.detail, str) else code
        return JSONResponse({"error": {"code": code, "message": message, "fields": {}}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
    if exc.status_code == 404 and (request.url.path == "/console" or request.url.path.startswith("/console/")):
        return await console_errors.not_found_page(request)  # an id that is no number, an unknown page
    locale = pages.page_locale(request)
    if exc.status_code == 404:
        return pages.error_page(locale, 404, _(locale, "Page not found"), _(locale, "This page does not exist."))
    response = pages.error_page(locale, exc.status_code, _(locale, "Something is not right"),
                                _(locale, "This request could not be handled."))
    response.headers.update(getattr(exc, "headers", None) or {})  # a 405 names the methods allowed
    return response


async def refused_url(request: Request, status: int) -> Response:
    return await http_error(request, HTTPException(status))


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its request was read: its mistake or its network's, not a server error.
    Nobody reads this answer; 499 (nginx's "client closed request") keeps it apart in the metrics."""
    log.info("client disconnected", extra={"path": request.url.path, "method": request.method})
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    if _wants_json(request):
        return JSONResponse({"error": {"code": "internal", "message": "Something went wrong on our side.",
                                       "fields": {}}}, status_code=500)
    locale = pages.page_locale(request)
    return pages.error_page(locale, 500, _(locale, "Something went wrong"),
                            _(locale, "Something went wrong on our side. Please try again in a moment."))


async def unavailable(request: Request, exc: Exception) -> Response:
    """The database is out of reach: 503 with Retry-After, which clients and platforms retry,
    instead of a 500. The pool reconnects by itself once it is back."""
    log.warning("database unavailable", extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc}"})
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _wants_json(request):
        return JSONResponse({"error": {"code": "unavailable", "message": "The service is briefly unavailable; "
                                       "please try again shortly.", "fields": {}}}, status_code=503, headers=headers)
    locale = pages.page_locale(request)
    response = pages.error_page(locale, 503, _(locale, "Back in a moment"),
                                _(locale, "We cannot save or show reviews right now. Please try again in a minute; "
                                          "nothing you sent before this page is lost."))
    response.headers.update(headers)
    return response


async def healthz(request: Request) -> JSONResponse:
    """The database, and the worker when this process runs one: 503 when either is unwell, so a
    supervisor or load balancer acts."""
    svc: Services = request.app.state.services
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    try:
        await db.ping(svc.pool)
    except Exception as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        body.update(status="error", database="unreachable")
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        idle = worker.seconds_since_loop
        body["worker"] = {"state": "ok" if idle < WORKER_STALL_SECONDS else "stalled",
                          "seconds_since_loop": round(idle, 1)}
        if idle >= WORKER_STALL_SECONDS:
            body["status"] = "degraded" if body["status"] == "ok" else body["status"]
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


WIDGETS = widgets_config.Config(catalog=Catalog(widgets_config.LOCALES_DIR, widgets_config.DOMAIN),
                                accent=lambda setting: branding.colours(setting).accent)

# The public shop and product pages (/shops/{slug}): their own catalog, the shop's branding, and the
# reject reasons' labels for the transparency figures.
SHOP_PAGES = pages_config.PagesConfig(catalog=Catalog(pages_config.LOCALES_DIR, pages_config.DOMAIN),
                                      accent=lambda setting: branding.colours(setting).accent,
                                      logo=branding.web_url, reasons={r.code: r.label for r in REASONS})


def routes() -> list[Route | Mount]:
    return [
        # First: every shop page loads widgets and the photos they show, several of each, and the
        # router tries routes in order.
        Route("/photos/private/{token}", photos.private_photo),
        Route("/photos/{key}/{variant}", photos.PublicPhotos()),
        *widget_routes(WIDGETS, prefix="/widgets/v1"),
        Route("/healthz", healthz),
        Route("/metrics", metrics.endpoint(reviews_by_state=reviews.count_by_state,
                                           invitations_by_state=invitations.count_by_state,
                                           open_flags=flags.count_open,
                                           oldest_held=moderation_queue.oldest_held_seconds)),
        *console_routes(),
        Route("/openapi.json", openapi.openapi_json),
        Route("/api/v1/orders", api.post_order, methods=["POST"]),
        Route("/api/v1/merchant", api.get_merchant),
        Route("/api/v1/merchant/settings", api.patch_settings, methods=["PATCH"]),
        Route("/api/v1/stats", api.get_stats),
        Route("/api/v1/privacy/exports", privacy_api.list_exports),
        Route("/api/v1/privacy/exports/{export_id}", privacy_api.get_export),
        Route("/hooks/shopify/{slug}", shopify.receiver(privacy=buyer_data.shopify_topic), methods=["POST"]),
        Route("/hooks/woocommerce/{slug}", woocommerce.receive, methods=["POST"]),
        Route("/r/{token}", review_page.review_page, methods=["GET"]),
        Route("/r/{token}", review_page.submit_review, methods=["POST"]),
        Route("/r/{token}/withdraw", review_page.withdraw_review, methods=["POST"]),
        Route("/r/{token}/opened", review_page.link_opened, methods=["POST"]),
        Route("/r/{token}/appeal", review_page.appeal_review, methods=["POST"]),
        Mount("/static", http.CachedStaticFiles(directory=pages.STATIC_DIR, max_age=3600)),
        Route("/u/{token}", unsubscribe.confirm_page, methods=["GET"]),
        Route("/u/{token}", unsubscribe.unsubscribe, methods=["POST"]),
        Route("/verification", verification.page),
        Route("/verification/{slug}", verification.page),
        *shop_page_routes(SHOP_PAGES),
    ]


def create_app(services: Services | None = None, *, run_worker: bool = False, migrate: bool = False,
               settings: Settings | None = None) -> Starlette:
    """The ASGI app. Without `services`, the lifespan connects using `settings` (default: the environment's).

    With `run_worker`, the same process also runs the job worker (`attest serve`).
    """

    @contextlib.asynccontextmanager
    async def with_worker(app: Starlette, svc: Services) -> AsyncIterator[None]:
        if not run_worker:
            yield
            return
        stop = asyncio.Event()
        worker = app.state.worker = make_worker(svc)
        task = asyncio.create_task(worker.run_forever(stop))
        task.add_done_callback(lambda done: _worker_ended(app, done, stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait([task])
            await worker.stop()

    @contextlib.asynccontextmanager
    async def with_embedded_watch(svc: Services) -> AsyncIterator[None]:
        # Attest owns the embedded database: if its PostgreSQL dies, start it again. An external
        # DATABASE_URL is the operator's to restart.
        if svc.settings.database_url or not run_worker:
            yield
            return
        stop = asyncio.Event()
        watch = asyncio.create_task(db.keep_embedded_running(svc.settings.data_dir, stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait([watch])

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            async with with_worker(app, services):
                yield
            return
        async with open_services(settings, migrate=migrate) as svc:
            app.state.services = svc
            async with with_embedded_watch(svc), with_worker(app, svc):
                server.freeze_startup_heap()
                yield

    observer = metrics.Observer()
    return Starlette(
        routes=routes(),
        # The front first: what it answers needs nothing of the layers below (see widgets.front).
        middleware=[Middleware(front.Front, extra_headers=http.security_headers, meter=observer.meter),
                    Middleware(http.TrustedProxies), Middleware(metrics.MetricsMiddleware, observer=observer),
                    Middleware(http.SecurityHeaders), Middleware(http.UnstorableUrls, refuse=refused_url)],
        exception_handlers={ApiError: api_error, HTTPException: http_error, ClientDisconnect: client_gone,
                            **CONSOLE_ERRORS, Exception: server_error,
                            **dict.fromkeys(db.UNAVAILABLE, unavailable)},
        lifespan=lifespan,
    )
