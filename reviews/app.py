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

from reviews.buyer import pages, review_page, unsubscribe, verification
from reviews.buyer.pages import _
from reviews.collection import store as reviews
from reviews.intake import api, openapi, shopify, woocommerce
from reviews.invitations import store as invitations
from reviews.merchants import branding
from reviews.platform import db, http, metrics
from reviews.platform.errors import ApiError
from reviews.platform.i18n import Catalog
from reviews.platform.services import Services
from reviews.privacy import buyer_data
from reviews.runtime import open_services
from reviews.screening import flags
from reviews.worker import make_worker
from widgets import config as widgets_config
from widgets.routes import routes as widget_routes

log = logging.getLogger("attest.web")


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
        await db.ping(svc.pool)
    except Exception as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


WIDGETS = widgets_config.Config(catalog=Catalog(widgets_config.LOCALES_DIR, widgets_config.DOMAIN),
                                accent=lambda setting: branding.colours(setting).accent)


def routes() -> list[Route | Mount]:
    return [
        Route("/healthz", healthz),
        Route("/metrics", metrics.endpoint(reviews_by_state=reviews.count_by_state,
                                           invitations_by_state=invitations.count_by_state,
                                           open_flags=flags.count_open)),
        Route("/openapi.json", openapi.openapi_json),
        Route("/api/v1/orders", api.post_order, methods=["POST"]),
        Route("/api/v1/merchant", api.get_merchant),
        Route("/api/v1/merchant/settings", api.patch_settings, methods=["PATCH"]),
        Route("/api/v1/stats", api.get_stats),
        Route("/hooks/shopify/{slug}", shopify.receiver(privacy=buyer_data.shopify_topic), methods=["POST"]),
        Route("/hooks/woocommerce/{slug}", woocommerce.receive, methods=["POST"]),
        Route("/r/{token}", review_page.review_page, methods=["GET"]),
        Route("/r/{token}", review_page.submit_review, methods=["POST"]),
        Route("/r/{token}/withdraw", review_page.withdraw_review, methods=["POST"]),
        Route("/static/{name}", review_page.static_file),
        Route("/u/{token}", unsubscribe.confirm_page, methods=["GET"]),
        Route("/u/{token}", unsubscribe.unsubscribe, methods=["POST"]),
        Route("/verification", verification.page),
        Route("/verification/{slug}", verification.page),
        Mount("/widgets/v1", routes=widget_routes(WIDGETS)),
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
        async with open_services(migrate=migrate) as svc:
            app.state.services = svc
            async with with_worker(svc):
                yield

    return Starlette(
        routes=routes(),
        middleware=[Middleware(metrics.MetricsMiddleware), Middleware(http.SecurityHeaders)],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
