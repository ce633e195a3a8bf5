"""Public, read-only widget endpoints under /widgets/v1: open CORS, short public caching, ETags."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote

import asyncpg
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widgets import (
    badge,
    feed,
    fragment,
    front,
    hosts,
    ids,
    jsonld,
    links,
    listing,
    merchant_feed,
    page,
    params,
    public,
    queries,
    ratings,
    responses,
    scripts,
    streaming,
    strings,
    topics,
)
from widgets.cache import Cache, Versions
from widgets.config import Config
from widgets.params import Fields
from widgets.responses import Rendered

PER_PAGE_DEFAULT = 10
PER_PAGE_MAX = 50
WIDGET_REVIEWS = 10
JSONLD_REVIEWS = 10
FRAGMENT_REVIEWS = 10
MAX_PRODUCT_ID = params.MAX_PRODUCT_ID
MAX_TOPIC_ID = 2**63 - 1  # a bigint
# The iframe page and the fragment need nothing but their own hashed style block. Anyone may frame the
# iframe page; the fragment is meant for a shop's server to include, not to be framed or indexed alone.
_CSP = "default-src 'none'; style-src {style}; img-src 'self' data:; base-uri 'none'; form-action 'none'; " \
       "frame-ancestors *"
_FRAGMENT_CSP = "default-src 'none'; style-src {style}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_INVALID = "The request has invalid fields."


@dataclass(frozen=True)
class Widgets:
    """What one app's widget endpoints share: the caller's config, this process's version checks, its
    count of feeds being streamed, and the scripts and strings as they are sent (built on first use)."""

    config: Config
    cache: Cache
    streams: streaming.Streams
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


def _unusable_product(product: str) -> str | None:
    """Why no product can have this id (a 422, not a query PostgreSQL refuses), or None."""
    if len(product) > ids.MAX_PRODUCT_ID:
        return f"at most {ids.MAX_PRODUCT_ID} characters"
    if not ids.storable(product):
        return "must not contain control characters"
    return None


ShopHandler = Callable[[Config, Request, asyncpg.Record, "str | None"], Awaitable["Response | Rendered"]]


def shop_endpoint(handler: ShopHandler, *, reads_orders: bool = False) -> Callable[[Widgets, Request],
                                                                                Awaitable[Response]]:
    """Resolve the shop (404 if unknown) and the product (422 if malformed) before the handler, and
    offer its answer to the app's front (`widgets.front`), which gives it again to the next request
    of this very URL while the shop is at the same version (and, for a handler that `reads_orders`,
    while its orders are too)."""

    async def endpoint(widgets: Widgets, request: Request) -> Response:
        slug = request.path_params["slug"]
        # What cannot be a slug never joins the batched version check: a NUL in it would fail the
        # query of every other shop's request waiting on the same batch.
        versions = widgets.cache.order_versions if reads_orders else widgets.cache.versions
        shop = await versions.of(_pool(request), slug) if ids.valid_slug(slug) else None
        if shop is None:
            return responses.not_found()
        product = _product(request)
        if product is not None and (trouble := params.product_trouble(product)):
            return responses.error(422, "invalid", _INVALID, {"product": trouble})
        answer = await handler(widgets.config, request, shop.merchant, product)
        if isinstance(answer, Response):
            return answer
        # An answer depends on the path, the query and the database only (never on request headers), and
        # only a valid request's is offered: the front's hit needs its query neither parsed nor checked.
        front.offer(request.scope, front.Offer.of(answer, shop.version, partial(_version, versions, _pool(request),
                                                                                 slug)))
        return responses.send(request, answer)

    return endpoint


async def _version(versions: Versions, pool: asyncpg.Pool, slug: str) -> str | None:
    """The shop's current version, from a check that begins after the asking request arrived."""
    shop = await versions.of(pool, slug)
    return shop.version if shop is not None else None


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
    """A page of published reviews: filtered (`stars`, `with_reply`, `with_photos`, `language`, `topic`),
    sorted (`sort`), every language pooled with the visitor's (`lang`) first; with the summary, the shop's
    name and accent and, for a product, its topics (topics.json's): all a widget needs in one answer."""
    q = request.query_params
    fields = Fields()
    page_no = params.positive_int(q, "page", 1, 100_000, fields)
    per_page = params.positive_int(q, "per_page", PER_PAGE_DEFAULT, PER_PAGE_MAX, fields)
    first = params.visitor_language(q, "lang", config.catalog.supported, fields)
    f = listing.ReviewFilter(
        product_id=product, stars=params.stars(q, fields), language=params.review_language(q, "language", fields),
        with_reply=params.flag(q, "with_reply", fields), with_photos=params.flag(q, "with_photos", fields),
        topic_id=params.positive_int(q, "topic", 0, MAX_TOPIC_ID, fields) or None,
        sort=params.choice(q, "sort", listing.SORTS, fields) or "newest", first_language=first)
    if fields:
        return responses.error(422, "invalid", _INVALID, fields)
    pool = _pool(request)
    found = await listing.published_reviews(pool, merchant["id"], f, limit=per_page, offset=(page_no - 1) * per_page)
    shown = _photos(config, request, merchant, first)
    body = {"reviews": [public.review(r, shown(r)) for r in found.rows], "page": page_no, "per_page": per_page,
            "total": found.total, "pages": math.ceil(found.total / per_page),
            "summary": await queries.summary(pool, merchant["id"], product), "shop": _shop(config, merchant)}
    if product:  # what buyers mention: the chips above a product's list, as topics.json has them
        visitor = first or _lang(config, request, merchant)
        body["topics"] = await _topics(config, pool, merchant["id"],
                                       await queries.topic_set(pool, merchant["id"], product), visitor)
    return Rendered.of(responses.dumps(body), responses.JSON)


def _photos(config: Config, request: Request, merchant: asyncpg.Record,
            lang: str | None) -> Callable[[asyncpg.Record], list[dict[str, object]]]:
    """A row's photos as the public shape has them, their alt text in the visitor's language."""
    gettext = config.catalog.translations(lang or _lang(config, request, merchant)).gettext
    base = _base_url(request)
    return lambda row: public.photos(row, base_url=base, gettext=gettext, shop_name=merchant["name"])


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
    found = await listing.published_reviews(pool, merchant["id"], listing.ReviewFilter(
        product_id=product, first_language=locale), limit=WIDGET_REVIEWS, offset=(page_no - 1) * WIDGET_REVIEWS)
    name = (await queries.product_name(pool, merchant["id"], product) or product) if product else None
    html, style_hash = page.render(config, locale=locale, shop_name=merchant["name"], product_name=name,
                                   summary=summary, rows=found.rows,
                                   verification_url=_verification_url(request, merchant["slug"]),
                                   accent=config.accent(_settings(merchant).get("accent_color")),
                                   paging=page.Paging.of(request.url.path, request.query_params, page_no,
                                                         math.ceil(found.total / WIDGET_REVIEWS)))
    headers = {"Content-Security-Policy": _CSP.format(style=style_hash), "Content-Language": locale}
    return Rendered.of(html, responses.HTML, headers=headers)


@partial(shop_endpoint, reads_orders=True)  # the product's name, image and identifiers come from its orders
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
    found = await listing.published_reviews(pool, merchant["id"], listing.ReviewFilter(
        product_id=product, first_language=locale), limit=per_page)
    shop = fragment.Shop(slug=merchant["slug"], name=merchant["name"],
                         accent=config.accent(_settings(merchant).get("accent_color")),
                         page_url=_page_url(request, merchant["slug"], product),
                         verification_url=_verification_url(request, merchant["slug"]), base_url=_base_url(request))
    facts = await queries.product_facts(pool, merchant["id"], product)
    name = (facts["ordered_name"] or facts["reviewed_name"] if facts else None) or product
    chips = await _topics(config, pool, merchant["id"], await queries.topic_set(pool, merchant["id"], product), locale)
    out = fragment.render(config.catalog, locale=locale, shop=shop, product_id=product, product_name=name, facts=facts,
                          summary=summary, rows=found.rows, total=found.total, per_page=per_page, topics=chips)
    headers = {"Content-Security-Policy": _FRAGMENT_CSP.format(style=out.style_hash), "Content-Language": locale,
               # For the shop's page that includes it; on its own it is a duplicate of that page.
               "X-Robots-Tag": "noindex", "X-Attest-Style-Hash": out.style_hash}
    return Rendered.of(out.html, responses.HTML, headers=headers)


@partial(shop_endpoint, reads_orders=True)  # a product's name, image and identifiers come from its orders
async def jsonld_json(config: Config, request: Request, merchant: asyncpg.Record,
                      product: str | None) -> Response | Rendered:
    """A product's JSON-LD (404 for a product the shop never sold nor had reviewed), or the shop's
    `Organization` without stars (`widgets.jsonld`)."""
    pool = _pool(request)
    if not product:
        settings = merchant["settings"] if isinstance(merchant["settings"], dict) else {}
        doc = jsonld.organization(name=merchant["name"], domains=links.domains_of(settings))
        return Rendered.of(jsonld.dumps(doc), responses.JSON_LD)
    facts = await queries.product_facts(pool, merchant["id"], product)
    if facts is None:
        return responses.not_found("No such product in this shop.")
    summary = await queries.summary(pool, merchant["id"], product)
    rows = (await listing.published_reviews(pool, merchant["id"], listing.ReviewFilter(product_id=product),
                                            limit=JSONLD_REVIEWS)).rows if summary["count"] else []
    doc = jsonld.product(product_id=product, facts=facts, summary=summary, rows=rows, base_url=_base_url(request))
    return Rendered.of(jsonld.dumps(doc), responses.JSON_LD)


# Whatever the feeds' bytes depend on besides the database: a new format must not be a 304.
FEED_FORMAT = "feeds-2"


async def _feed_shop(widgets: Widgets, request: Request) -> queries.Shop | Response:
    """The shop (404 if unknown), with a version that follows its orders too."""
    slug = request.path_params["slug"]
    shop = await widgets.cache.order_versions.of(_pool(request), slug) if ids.valid_slug(slug) else None
    return shop if shop is not None else responses.not_found()


async def feed_xml(widgets: Widgets, request: Request) -> Response:
    """Google's product review feed (schema 2.4): every published product review, streamed."""
    shop = await _feed_shop(widgets, request)
    if isinstance(shop, Response):
        return shop
    merchant, base = shop.merchant, _base_url(request)
    info = feed.Shop(name=merchant["name"], slug=merchant["slug"], base_url=base)
    tag = streaming.etag(FEED_FORMAT, "product", shop.version, base)
    return streaming.respond(request, widgets.streams, tag=tag, media_type=responses.XML, body=lambda: feed.document(
        queries.stream(_pool(request), queries.PRODUCT_FEED, merchant["id"]), info))


async def merchant_feed_xml(widgets: Widgets, request: Request) -> Response:
    """Google's merchant review feed (seller ratings): the shop and its own reviews, streamed. A shop
    that registered no website has none: the feed must name the shop's site."""
    shop = await _feed_shop(widgets, request)
    if isinstance(shop, Response):
        return shop
    merchant, base = shop.merchant, _base_url(request)
    settings = merchant["settings"] if isinstance(merchant["settings"], dict) else {}
    domains = links.domains_of(settings)
    if not domains:
        return responses.not_found("This shop has registered no website domain (setting `domains`), which Google's "
                                   "merchant review feed names.")
    info = merchant_feed.Shop(slug=merchant["slug"], name=merchant["name"], domains=domains,
                              created_at=merchant["created_at"], base_url=base)
    tag = streaming.etag(FEED_FORMAT, "merchant", shop.version, base)
    return streaming.respond(request, widgets.streams, tag=tag, media_type=responses.XML,
                             body=lambda: merchant_feed.document(
                                 queries.stream(_pool(request), queries.MERCHANT_FEED, merchant["id"]), info))


# --- what buyers mention (topics computed by the service; labels and quotes are buyers' own words) ---


@shop_endpoint
async def topics_json(config: Config, request: Request, merchant: asyncpg.Record,
                      product: str | None) -> Response | Rendered:
    """The topics of a product (None: the shop's own reviews), labels and quotes chosen for `?lang=`
    (else the shop's language). 404 while there is nothing to compute them from."""
    raw = request.query_params.get("lang") or None
    if raw is not None and raw.replace("_", "-").split("-")[0].lower() not in config.catalog.supported:
        return responses.error(422, "invalid", "The request has invalid fields.",
                               {"lang": "must be one of " + ", ".join(config.catalog.supported)})
    visitor = config.catalog.negotiate(raw, merchant["locale"])
    pool = _pool(request)
    found = await queries.topic_set(pool, merchant["id"], product)
    if found is None and not await queries.has_published(pool, merchant["id"], product):
        return responses.not_found("No published reviews of this product." if product
                                   else "No published reviews of the shop itself.")
    return Rendered.of(responses.dumps({
        "product_id": product,
        "lang": visitor,
        "computed_at": found["computed_at"].isoformat() if found else None,
        "reviews": found["reviews"] if found else 0,
        "topics": await _topics(config, pool, merchant["id"], found, visitor),
    }), responses.JSON)


async def _topics(config: Config, pool: asyncpg.Pool, merchant_id: int, found: asyncpg.Record | None,
                  visitor: str) -> list[dict[str, object]]:
    """A topic set's topics as topics.json shows them, labels and quotes chosen for the visitor."""
    rows, phrases = await queries.topics(pool, merchant_id, found["id"]) if found else ([], [])
    names = config.catalog.babel_locale(visitor).languages
    return topics.shape(rows, phrases, visitor, lambda code: names.get(code, code))


async def embed_js(widgets: Widgets, request: Request) -> Response:
    return _static(request, widgets.static("embed.js", lambda: scripts.build().loader, responses.JS))


async def family_js(widgets: Widgets, request: Request) -> Response:
    """A family's code. Its address carries its version (`?v=`, from the loader): a new version is a new
    address, so a browser never mixes a loader with another version's family for long."""
    name = request.path_params["family"]
    if name not in scripts.FAMILIES:
        return responses.not_found("No such widget family.")
    return _static(request, widgets.static(f"js/{name}", lambda: scripts.build().families[name], responses.JS))


async def i18n_json(widgets: Widgets, request: Request) -> Response:
    lang = request.path_params["lang"]
    if lang not in widgets.config.catalog.supported:
        return responses.not_found("No such language.")
    return _static(request, widgets.static(f"i18n/{lang}", lambda: strings.json_of(widgets.config.catalog, lang),
                                           responses.JSON))


def _static(request: Request, static: responses.Static) -> Response:
    """A file's answer; it never changes while the process runs, whatever the database holds."""
    rendered = static.pick(request)
    front.offer(request.scope, front.Offer.of(rendered, vary=(b"accept-encoding",)))
    return responses.send(request, rendered)


class _Language(Convertor[str]):
    """A language's code in a path: two letters, never a shop endpoint's name."""

    regex = "[a-z]{2}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("language", _Language())

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

    Each call has version checks of its own, so two apps in one process (tests) never share a batch."""
    widgets = Widgets(config, Cache(), streaming.Streams())
    return [
        # The scripts and strings first: every widget loads them, and each route tried costs every request
        # that passes it. No shop endpoint ends in ".js", nor is named with two letters, so a shop whose
        # slug is "js" or "i18n" still gets its own.
        _get(prefix + "/embed.js", partial(embed_js, widgets)),
        _get(prefix + "/js/{family}.js", partial(family_js, widgets)),
        _get(prefix + "/i18n/{lang:language}.json", partial(i18n_json, widgets)),
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
        _get(prefix + "/{slug}/merchant-feed.xml", partial(merchant_feed_xml, widgets)),
        # What buyers mention: the shop's own reviews (or `?product=`), and a product's.
        _get(prefix + "/{slug}/topics.json", partial(topics_json, widgets)),
        _get(prefix + "/{slug}/products/{product_id:path}/topics.json", partial(topics_json, widgets)),
    ]
