"""The web application: create_app, the routes table, middleware and error handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from reviews.buyer import pages, unsubscribe
from reviews.buyer import review_page as collect
from reviews.intake import api
from reviews.platform import metrics
from reviews.platform.errors import ApiError
from reviews.platform.i18n import translations
from reviews.platform.services import Services

log = logging.getLogger("attest.web")


def _(locale: str, message: str) -> str:
    return translations(pages.LOCALES_DIR, "pages", locale).gettext(message)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/hooks/", "/widgets/")) or path.endswith(".json")


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}
    code = codes.get(exc.status_code, "error")
    if _wants_json(request):
        message = exc.detail if isinstance(exc.detail, str) else code
        return JSONResponse({"error": {"code": code, "message": message, "fields": {}}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
    locale = pages.page_locale(request)
    if exc.status_code == 404:
        return pages.error_page(locale, 404, _(locale, "Page not found"), _(locale, "This page does not exist."))
    return pages.error_page(locale, exc.status_code, _(locale, "Something is not right"),
                            _(locale, "This request could not be handled."))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    if _wants_json(request):
        return JSONResponse({"error": {"code": "internal", "message": "Something went wrong on our side.",
                                       "fields": {}}}, status_code=500)
    locale = pages.page_locale(request)
    return pages.error_page(locale, 500, _(locale, "Something went wrong"),
                            _(locale, "Something went wrong on our side. Please try again in a moment."))


async def healthz(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    try:
        async with svc.pool.acquire(timeout=5) as conn:
            await conn.fetchval("SELECT 1")
    except Exception as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


class SecurityHeaders:
    """Conservative headers on every response; widget routes relax framing for their iframe page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_widget = scope["path"].startswith("/widgets/")

        async def send_with_headers(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"strict-origin-when-cross-origin")]
                if not is_widget:
                    extra.append((b"x-frame-options", b"DENY"))
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def routes() -> list[Route | Mount]:
    from reviews.buyer import verification
    from reviews.intake import openapi, shopify, woocommerce
    from widgets.routes import routes as widget_routes

    return [
        Route("/healthz", healthz),
        Route("/metrics", metrics.metrics),
        Route("/openapi.json", openapi.openapi_json),
        Route("/api/v1/orders", api.post_order, methods=["POST"]),
        Route("/api/v1/merchant", api.get_merchant),
        Route("/api/v1/merchant/settings", api.patch_settings, methods=["PATCH"]),
        Route("/api/v1/stats", api.get_stats),
        Route("/hooks/shopify/{slug}", shopify.receive, methods=["POST"]),
        Route("/hooks/woocommerce/{slug}", woocommerce.receive, methods=["POST"]),
        Route("/r/{token}", collect.review_page, methods=["GET"]),
        Route("/r/{token}", collect.submit_review, methods=["POST"]),
        Route("/r/{token}/withdraw", collect.withdraw_review, methods=["POST"]),
        Route("/static/{name}", collect.static_file),
        Route("/u/{token}", unsubscribe.confirm_page, methods=["GET"]),
        Route("/u/{token}", unsubscribe.unsubscribe, methods=["POST"]),
        Route("/verification", verification.page),
        Route("/verification/{slug}", verification.page),
        Mount("/widgets/v1", routes=widget_routes),
    ]


def create_app(services: Services | None = None, *, run_worker: bool = False, migrate: bool = False) -> Starlette:
    """The ASGI app. Without `services`, the lifespan connects using the environment's settings.

    With `run_worker`, the same process also runs the job worker (`attest serve`).
    """

    @contextlib.asynccontextmanager
    async def with_worker(svc: Services) -> AsyncIterator[None]:
        if not run_worker:
            yield
            return
        from reviews.worker import make_worker

        stop = asyncio.Event()
        worker = make_worker(svc)
        await worker.start()
        task = asyncio.create_task(worker.run_forever(stop))
        try:
            yield
        finally:
            stop.set()
            await task
            await worker.stop()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            async with with_worker(services):
                yield
            return
        from reviews.runtime import open_services

        async with open_services(migrate=migrate) as svc:
            app.state.services = svc
            async with with_worker(svc):
                yield

    return Starlette(
        routes=routes(),
        middleware=[Middleware(metrics.MetricsMiddleware), Middleware(SecurityHeaders)],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
