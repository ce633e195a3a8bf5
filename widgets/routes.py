"""Public, read-only widget endpoints under /widgets/v1: open CORS, short public caching, ETags."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from functools import cache, partial
from pathlib import Path
from urllib.parse import quote

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widgets import badge, feed, jsonld, page, public, queries, responses
from widgets.config import Config

STATIC = Path(__file__).resolve().parent / "static"
PER_PAGE_DEFAULT = 10
PER_PAGE_MAX = 50
WIDGET_REVIEWS = 10
JSONLD_REVIEWS = 10
MAX_PRODUCT_ID = 200
# The iframe page needs nothing but its own hashed style block; anyone may frame it.
_CSP = "default-src 'none'; style-src {style}; img-src 'self' data:; base-uri 'none'; form-action 'none'; " \
       "frame-ancestors *"


@cache
def _static(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.services.pool


def _product(request: Request) -> str | None:
    return request.path_params.get("product_id") or request.query_params.get("product") or None


def _base_url(request: Request) -> str:
    return str(request.app.state.services.settings.base_url).rstrip("/")


def _verification_url(request: Request, slug: str) -> str:
    return f"{_base_url(request)}/verification/{quote(slug)}"


def _lang(config: Config, request: Request, merchant: asyncpg.Record) -> str:
    return config.catalog.negotiate(request.query_params.get("lang"), merchant["locale"])


ShopHandler = Callable[[Config, Request, asyncpg.Record, "str | None"], Awaitable[Response]]


def shop_endpoint(handler: ShopHandler) -> Callable[[Config, Request], Awaitable[Response]]:
    """Resolve the shop (404 if unknown) and the product (422 if malformed) before the handler."""

    async def endpoint(config: Config, request: Request) -> Response:
        merchant = await queries.merchant(_pool(request), request.path_params["slug"])
        if merchant is None:
            return responses.not_found()
        product = _product(request)
        if product is not None and len(product) > MAX_PRODUCT_ID:
            return responses.error(422, "invalid", "The request has invalid fields.",
                                   {"product": f"at most {MAX_PRODUCT_ID} characters"})
        return await handler(config, request, merchant, product)

    return endpoint


@shop_endpoint
async def summary_json(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Response:
    return responses.json_response(request, await queries.summary(_pool(request), merchant["id"], product))


def _positive_int(raw: str | None, default: int, maximum: int | None, fields: dict[str, str], name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        fields[name] = "must be a whole number"
        return default
    if value < 1:
        fields[name] = "must be at least 1"
    elif maximum is not None and value > maximum:
        fields[name] = f"must be at most {maximum}"
    return value


@shop_endpoint
async def reviews_json(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Response:
    q = request.query_params
    fields: dict[str, str] = {}
    page_no = _positive_int(q.get("page"), 1, 100_000, fields, "page")
    per_page = _positive_int(q.get("per_page"), PER_PAGE_DEFAULT, PER_PAGE_MAX, fields, "per_page")
    lang = q.get("lang") or None
    if lang is not None:
        lang = lang.replace("_", "-").split("-")[0].lower()
        if lang not in config.catalog.supported:
            fields["lang"] = "must be one of " + ", ".join(config.catalog.supported)
    if fields:
        return responses.error(422, "invalid", "The request has invalid fields.", fields)
    rows, total = await queries.reviews_page(_pool(request), merchant["id"], product_id=product, lang=lang,
                                             limit=per_page, offset=(page_no - 1) * per_page)
    return responses.json_response(request, {"reviews": [public.review(r) for r in rows], "page": page_no,
                                   "per_page": per_page, "total": total, "pages": math.ceil(total / per_page)})


@shop_endpoint
async def badge_svg(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Response:
    pool = _pool(request)
    summary = await queries.summary(pool, merchant["id"], product)
    t = config.catalog.translations(_lang(config, request, merchant))
    subject = merchant["name"]
    if product:
        subject += " – " + (await queries.product_name(pool, merchant["id"], product) or product)
    if summary["count"]:
        avg = f"{summary['average']:.1f}"
        value = f"{avg}/5 · {summary['count']}"
        spoken = t.ngettext("Rated %(avg)s out of 5 from %(num)d review", "Rated %(avg)s out of 5 from %(num)d reviews",
                            summary["count"]) % {"avg": avg, "num": summary["count"]}
    else:
        value = spoken = t.gettext("none yet")
    svg = badge.render(t.gettext("reviews"), value, f"{subject}: {spoken}", badge.colour(summary["average"]))
    return responses.cached(request, svg, responses.SVG)


@shop_endpoint
async def widget_html(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Response:
    pool = _pool(request)
    locale = _lang(config, request, merchant)
    summary = await queries.summary(pool, merchant["id"], product)
    rows = await queries.latest(pool, merchant["id"], product, WIDGET_REVIEWS)
    name = (await queries.product_name(pool, merchant["id"], product) or product) if product else None
    settings = merchant["settings"] if isinstance(merchant["settings"], dict) else {}
    html, style_hash = page.render(config, locale=locale, shop_name=merchant["name"], product_name=name,
                                   summary=summary, rows=rows,
                                   verification_url=_verification_url(request, merchant["slug"]),
                                   accent=config.accent(settings.get("accent_color")))
    headers = {"Content-Security-Policy": _CSP.format(style=style_hash), "Content-Language": locale}
    return responses.cached(request, html, responses.HTML, headers=headers)


@shop_endpoint
async def jsonld_json(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Response:
    pool = _pool(request)
    summary = await queries.summary(pool, merchant["id"], product)
    rows = await queries.latest(pool, merchant["id"], product, JSONLD_REVIEWS)
    if product:
        name = await queries.product_name(pool, merchant["id"], product) or product
        doc = jsonld.document(kind="Product", name=name, summary=summary, rows=rows, sku=product)
    else:
        doc = jsonld.document(kind="Organization", name=merchant["name"], summary=summary, rows=rows)
    return responses.cached(request, jsonld.dumps(doc), responses.JSON_LD)


@shop_endpoint
async def feed_xml(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Response:
    rows = await queries.feed_reviews(_pool(request), merchant["id"])
    url = f"{_base_url(request)}/widgets/v1/{quote(merchant['slug'])}/widget.html"
    body = feed.build(shop_name=merchant["name"], rows=rows, review_url=url)
    return responses.cached(request, body, responses.XML, max_age=responses.LONG_CACHE)


async def embed_js(config: Config, request: Request) -> Response:
    return responses.cached(request, _static("embed.js"), responses.JS, max_age=responses.LONG_CACHE)


async def i18n_json(config: Config, request: Request) -> Response:
    lang = request.path_params["lang"]
    if lang not in config.catalog.supported:
        return responses.not_found("No such language.")
    return responses.cached(request, _static(f"i18n/{lang}.json"), responses.JSON, max_age=responses.LONG_CACHE)


def routes(config: Config) -> list[Route]:
    """The widget routes, to mount at /widgets/v1; the caller hands in its languages and branding."""
    return [
        Route("/embed.js", partial(embed_js, config)),
        Route("/{slug}/summary.json", partial(summary_json, config)),
        Route("/{slug}/products/{product_id}/summary.json", partial(summary_json, config)),
        Route("/{slug}/reviews.json", partial(reviews_json, config)),
        Route("/{slug}/badge.svg", partial(badge_svg, config)),
        Route("/{slug}/widget.html", partial(widget_html, config)),
        Route("/{slug}/jsonld.json", partial(jsonld_json, config)),
        Route("/{slug}/feed.xml", partial(feed_xml, config)),
        # After the shop routes, so a shop whose slug is "i18n" still gets its own endpoints.
        Route("/i18n/{lang}.json", partial(i18n_json, config)),
        Route("/{rest:path}", responses.preflight, methods=["OPTIONS"]),
    ]
