"""Public, read-only widget endpoints under /widgets/v1: open CORS, short public caching, ETags."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widgets import (
    badge,
    feed,
    fragment,
    hosts,
    jsonld,
    listing,
    page,
    params,
    public,
    queries,
    ratings,
    responses,
    scripts,
    strings,
)
from widgets.cache import Cache
from widgets.config import Config
from widgets.params import Fields
from widgets.responses import Rendered

PER_PAGE_DEFAULT = 10
PER_PAGE_MAX = 50
WIDGET_REVIEWS = 10
JSONLD_REVIEWS = 10
FRAGMENT_REVIEWS = 10
MAX_PRODUCT_ID = params.MAX_PRODUCT_ID
# The iframe page and the fragment need nothing but their own hashed style block. Anyone may frame the
# iframe page; the fragment is meant for a shop's server to include, not to be framed or indexed alone.
_CSP = "default-src 'none'; style-src {style}; img-src 'self' data:; base-uri 'none'; form-action 'none'; " \
       "frame-ancestors *"
_FRAGMENT_CSP = "default-src 'none'; style-src {style}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_INVALID = "The request has invalid fields."


@dataclass(frozen=True)
class Widgets:
    """What one app's widget endpoints share: the caller's config, this process's cache of answers, and
    the scripts and strings as they are sent (built on first use)."""

    config: Config
    cache: Cache
    files: dict[str, responses.Static] = field(default_factory=dict)

    def static(self, name: str, build: Callable[[], bytes], media_type: str) -> responses.Static:
        found = self.files.get(name)
        if found is None:
            found = self.files[name] = responses.Static.of(build(), media_type)
        return found


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


ShopHandler = Callable[[Config, Request, asyncpg.Record, "str | None"], Awaitable["Response | Rendered"]]


def shop_endpoint(handler: ShopHandler) -> Callable[[Widgets, Request], Awaitable[Response]]:
    """Resolve the shop (404 if unknown) and the product (422 if malformed) before the handler, and
    reuse the answer rendered for this very URL while the shop is at the same version."""

    async def endpoint(widgets: Widgets, request: Request) -> Response:
        shop = await widgets.cache.versions.of(_pool(request), request.path_params["slug"])
        if shop is None:
            return responses.not_found()
        product = _product(request)
        if product is not None and (trouble := params.product_trouble(product)):
            return responses.error(422, "invalid", _INVALID, {"product": trouble})
        # An answer depends on the path, the query and the database only (never on request headers).
        key = (request.scope["path"], request.scope["query_string"])
        rendered = widgets.cache.answers.get(key, shop.version)
        if rendered is None:
            answer = await handler(widgets.config, request, shop.merchant, product)
            if isinstance(answer, Response):
                return answer
            widgets.cache.answers.put(key, shop.version, answer)
            rendered = answer
        return responses.send(request, rendered)

    return endpoint


@shop_endpoint
async def summary_json(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Rendered:
    return Rendered.of(responses.dumps(await queries.summary(_pool(request), merchant["id"], product)), responses.JSON)


def _shop(config: Config, merchant: asyncpg.Record) -> dict[str, str]:
    return {"name": merchant["name"], "accent": config.accent(_settings(merchant).get("accent_color"))}


def _settings(merchant: asyncpg.Record) -> dict[str, object]:
    return merchant["settings"] if isinstance(merchant["settings"], dict) else {}


@shop_endpoint
async def reviews_json(config: Config, request: Request, merchant: asyncpg.Record,
                       product: str | None) -> Response | Rendered:
    """A page of published reviews: filtered (`stars`, `with_reply`, `language`), sorted (`sort`), every
    language pooled with the visitor's (`lang`) first; with the summary and the shop's name and accent,
    all a widget needs in one answer."""
    q = request.query_params
    fields = Fields()
    page_no = params.positive_int(q, "page", 1, 100_000, fields)
    per_page = params.positive_int(q, "per_page", PER_PAGE_DEFAULT, PER_PAGE_MAX, fields)
    first = params.visitor_language(q, "lang", config.catalog.supported, fields)
    only = params.review_language(q, "language", fields)
    sort = params.choice(q, "sort", listing.SORTS, fields) or "newest"
    stars = params.stars(q, fields)
    with_reply = params.flag(q, "with_reply", fields)
    if fields:
        return responses.error(422, "invalid", _INVALID, fields)
    pool = _pool(request)
    found = await listing.published_reviews(pool, merchant["id"], product_id=product, stars=stars,
                                            with_reply=with_reply, language=only, first_language=first, sort=sort,
                                            limit=per_page, offset=(page_no - 1) * per_page)
    body = {"reviews": [public.review(r) for r in found.rows], "page": page_no, "per_page": per_page,
            "total": found.total, "pages": math.ceil(found.total / per_page),
            "summary": await queries.summary(pool, merchant["id"], product), "shop": _shop(config, merchant)}
    return Rendered.of(responses.dumps(body), responses.JSON)


@shop_endpoint
async def ratings_json(config: Config, request: Request, merchant: asyncpg.Record,
                       product: str | None) -> Response | Rendered:
    """The shop's average and count, and those of each product in `products=a,b,c` (at most 100): the
    star snippets of a whole collection page in one request."""
    fields = Fields()
    ids = params.product_ids(request.scope["query_string"], ratings.MAX_PRODUCTS, fields)
    if fields:
        return responses.error(422, "invalid", _INVALID, fields)
    return Rendered.of(responses.dumps(await ratings.batch(_pool(request), merchant["id"], ids)), responses.JSON)


def _page_url(request: Request, slug: str, product: str | None) -> str:
    path = f"/shops/{quote(slug, safe='')}"
    return _base_url(request) + path + (f"/products/{quote(product, safe='')}" if product else "")


@shop_endpoint
async def badge_json(config: Config, request: Request, merchant: asyncpg.Record,
                     product: str | None) -> Response | Rendered:
    """The trust badge's figures, and whether `host` (the page's `location.hostname`) is one of the
    websites the shop registered. On any other the figures are withheld (null): the seal warns there."""
    raw = request.query_params.get("host")
    host = hosts.normalise(raw) if raw is not None else None
    if raw is not None and host is None:
        return responses.error(422, "invalid", _INVALID, {"host": "is not a host name"})
    domains = hosts.domains(_settings(merchant))
    registered = hosts.registered(host, domains) if host else None
    figures: dict[str, object] = {"average": None, "count": None, "verified": None}
    if registered is not False:
        figures = await ratings.badge(_pool(request), merchant["id"], product)
    body = {"shop": {**_shop(config, merchant), "slug": merchant["slug"], "domains": domains},
            "host": host, "registered": registered, **figures, "page": _page_url(request, merchant["slug"], product)}
    return Rendered.of(responses.dumps(body), responses.JSON)


@shop_endpoint
async def badge_svg(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Rendered:
    pool = _pool(request)
    figures = await ratings.badge(pool, merchant["id"], product)
    locale = _lang(config, request, merchant)
    t = config.catalog.translations(locale)
    name = merchant["name"]
    if product:
        name += " – " + (await queries.product_name(pool, merchant["id"], product) or product)
    count, verified = figures["count"], figures["verified"]
    if count:
        avg = page.average_text(config, figures["average"], locale)
        rating = f"{avg}/5 · " + t.ngettext("%(num)d review", "%(num)d reviews", count) % {"num": count}
        spoken = t.ngettext("Rated %(avg)s out of 5 from %(num)d review", "Rated %(avg)s out of 5 from %(num)d reviews",
                            count) % {"avg": avg, "num": count}
    else:
        rating = spoken = t.gettext("No reviews yet")
    proof = ""
    if verified:
        proof = (t.ngettext("%(num)d verified review", "%(num)d verified reviews", verified) % {"num": verified}
                 + " · " + t.gettext("Verified by Attest"))
    words = badge.Words(name=name, rating=rating, verified=proof,
                        title=f"{name}: {spoken}" + (f". {proof}" if proof else ""))
    svg = badge.render(words, figures["average"] if count else None)
    return Rendered.of(svg, responses.SVG, headers={"Content-Language": locale})


@shop_endpoint
async def widget_html(config: Config, request: Request, merchant: asyncpg.Record,
                      product: str | None) -> Response | Rendered:
    fields = Fields()
    page_no = params.positive_int(request.query_params, "page", 1, 100_000, fields)
    if fields:
        return responses.error(422, "invalid", _INVALID, fields)
    pool = _pool(request)
    locale = _lang(config, request, merchant)
    summary = await queries.summary(pool, merchant["id"], product)
    found = await listing.published_reviews(pool, merchant["id"], product_id=product, first_language=locale,
                                            limit=WIDGET_REVIEWS, offset=(page_no - 1) * WIDGET_REVIEWS)
    name = (await queries.product_name(pool, merchant["id"], product) or product) if product else None
    html, style_hash = page.render(config, locale=locale, shop_name=merchant["name"], product_name=name,
                                   summary=summary, rows=found.rows,
                                   verification_url=_verification_url(request, merchant["slug"]),
                                   accent=config.accent(_settings(merchant).get("accent_color")),
                                   paging=page.Paging.of(request.url.path, request.query_params, page_no,
                                                         math.ceil(found.total / WIDGET_REVIEWS)))
    headers = {"Content-Security-Policy": _CSP.format(style=style_hash), "Content-Language": locale}
    return Rendered.of(html, responses.HTML, headers=headers)


@shop_endpoint
async def fragment_html(config: Config, request: Request, merchant: asyncpg.Record,
                        product: str | None) -> Response | Rendered:
    assert product is not None  # the route's path holds it
    fields = Fields()
    per_page = params.positive_int(request.query_params, "per_page", FRAGMENT_REVIEWS, PER_PAGE_MAX, fields)
    if fields:
        return responses.error(422, "invalid", _INVALID, fields)
    pool = _pool(request)
    locale = _lang(config, request, merchant)
    summary = await queries.summary(pool, merchant["id"], product)
    found = await listing.published_reviews(pool, merchant["id"], product_id=product, first_language=locale,
                                            limit=per_page)
    shop = fragment.Shop(slug=merchant["slug"], name=merchant["name"],
                         accent=config.accent(_settings(merchant).get("accent_color")),
                         page_url=_page_url(request, merchant["slug"], product),
                         verification_url=_verification_url(request, merchant["slug"]))
    name = await queries.product_name(pool, merchant["id"], product) or product
    out = fragment.render(config.catalog, locale=locale, shop=shop, product_id=product, product_name=name,
                          summary=summary, rows=found.rows, total=found.total, per_page=per_page)
    headers = {"Content-Security-Policy": _FRAGMENT_CSP.format(style=out.style_hash), "Content-Language": locale,
               # For the shop's page that includes it; on its own it is a duplicate of that page.
               "X-Robots-Tag": "noindex", "X-Attest-Style-Hash": out.style_hash}
    return Rendered.of(out.html, responses.HTML, headers=headers)


@shop_endpoint
async def jsonld_json(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Rendered:
    pool = _pool(request)
    summary = await queries.summary(pool, merchant["id"], product)
    rows = await queries.latest(pool, merchant["id"], product, JSONLD_REVIEWS)
    if product:
        name = await queries.product_name(pool, merchant["id"], product) or product
        doc = jsonld.document(kind="Product", name=name, summary=summary, rows=rows, sku=product)
    else:
        doc = jsonld.document(kind="Organization", name=merchant["name"], summary=summary, rows=rows)
    return Rendered.of(jsonld.dumps(doc), responses.JSON_LD)


@shop_endpoint
async def feed_xml(config: Config, request: Request, merchant: asyncpg.Record, product: str | None) -> Rendered:
    rows = await queries.feed_reviews(_pool(request), merchant["id"])
    url = f"{_base_url(request)}/widgets/v1/{quote(merchant['slug'])}/widget.html"
    body = feed.build(shop_name=merchant["name"], rows=rows, review_url=url)
    return Rendered.of(body, responses.XML, max_age=responses.LONG_CACHE)


async def embed_js(widgets: Widgets, request: Request) -> Response:
    return widgets.static("embed.js", lambda: scripts.build().loader, responses.JS).send(request)


async def family_js(widgets: Widgets, request: Request) -> Response:
    """A family's code. Its address carries its version (`?v=`, from the loader): a new version is a new
    address, so a browser never mixes a loader with another version's family for long."""
    name = request.path_params["family"]
    if name not in scripts.FAMILIES:
        return responses.not_found("No such widget family.")
    return widgets.static(f"js/{name}", lambda: scripts.build().families[name], responses.JS).send(request)


async def i18n_json(widgets: Widgets, request: Request) -> Response:
    lang = request.path_params["lang"]
    if lang not in widgets.config.catalog.supported:
        return responses.not_found("No such language.")
    return widgets.static(f"i18n/{lang}", lambda: strings.json_of(widgets.config.catalog, lang),
                          responses.JSON).send(request)


Endpoint = Callable[[Request], Awaitable[Response]]


def _get(path: str, endpoint: Endpoint) -> Route:
    """GET (and HEAD) with its CORS preflight on the same route, so that a path that is no widget's
    is a 404: a catch-all OPTIONS route would make every unknown path a 405."""

    async def answer(request: Request) -> Response:
        if request.method == "OPTIONS":
            return await responses.preflight(request)
        return await endpoint(request)

    return Route(path, answer, methods=["GET", "HEAD", "OPTIONS"])


def routes(config: Config, prefix: str = "") -> list[Route]:
    """The widget routes, under `prefix` (/widgets/v1 in Attest) or to mount there; the caller hands in
    its languages and branding. With the prefix they can sit in the app's own router, which spares
    every widget request a mount's second routing pass.

    Each call has a cache of its own, so two apps in one process (tests) never share answers."""
    widgets = Widgets(config, Cache())
    return [
        _get(prefix + "/embed.js", partial(embed_js, widgets)),
        _get(prefix + "/{slug}/summary.json", partial(summary_json, widgets)),
        # A product id may hold "/" (Shopify handles do not, SKUs may): the path form takes it too.
        _get(prefix + "/{slug}/products/{product_id:path}/summary.json", partial(summary_json, widgets)),
        _get(prefix + "/{slug}/products/{product_id:path}/reviews.html", partial(fragment_html, widgets)),
        _get(prefix + "/{slug}/reviews.json", partial(reviews_json, widgets)),
        _get(prefix + "/{slug}/ratings.json", partial(ratings_json, widgets)),
        _get(prefix + "/{slug}/badge.svg", partial(badge_svg, widgets)),
        _get(prefix + "/{slug}/badge.json", partial(badge_json, widgets)),
        _get(prefix + "/{slug}/widget.html", partial(widget_html, widgets)),
        _get(prefix + "/{slug}/jsonld.json", partial(jsonld_json, widgets)),
        _get(prefix + "/{slug}/feed.xml", partial(feed_xml, widgets)),
        # After the shop routes, so a shop whose slug is "i18n" or "js" still gets its own endpoints.
        _get(prefix + "/i18n/{lang}.json", partial(i18n_json, widgets)),
        _get(prefix + "/js/{family}.js", partial(family_js, widgets)),
    ]
