"""The handlers of the public pages: a shop's reviews, a product's reviews, the shop's sitemap.

Each answer is rendered once per version of the shop and reused (`widgets.cache.Answers`): the
version changes with any of the shop's reviews, in any state, and its replies, so a change made by
any process shows on the next request. Product names and photos come from the shop's orders, which
do not change the version: a rendered page is kept at most `RENDER_SECONDS`, which also moves the
transparency figures' twelve months along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from babel import Locale
from starlette.requests import Request
from starlette.responses import Response

from widgets import front, ids, queries, responses, topics, transparency
from widgets.cache import Answers, Versions
from widgets.listing import published_reviews
from widgets.pages import figures, language, params, present, render, seo
from widgets.pages.config import PagesConfig
from widgets.pages.controls import Links
from widgets.responses import Rendered

RENDER_SECONDS = 600


def N_(message: str) -> str:
    """Marks a message for the catalog; the page translates it when it is shown."""
    return message


NO_SHOP = (N_("Shop not found"), N_("There is no shop at this address. Please check the link you followed."))
NO_PRODUCT = (N_("Product not found"), N_("This shop has no reviews of a product at this address."))
NO_PAGE = (N_("Page not found"), N_("There are not that many pages of reviews."))
BAD_QUERY = (N_("This address cannot be read"),
             N_("Part of this address is not a filter this page knows. The link below shows all the reviews."))


@dataclass(frozen=True)
class Pages:
    config: PagesConfig
    answers: Answers[str]
    # The shops' page versions, one query for the requests that arrive together (as the widgets').
    versions: Versions = field(default_factory=lambda: Versions(queries.page_states))


@dataclass(frozen=True)
class Visit:
    """One request to a shop's page: the shop, the language, and what it needs from the app."""

    merchant: Any
    version: str
    locale: str
    explicit: str | None  # the ?lang= asked for, kept in links
    accent: str
    base: str
    now: datetime
    pool: Any

    @property
    def slug(self) -> str:
        return str(self.merchant["slug"])

    @property
    def settings(self) -> dict[str, Any]:
        return _settings(self.merchant)


def _settings(merchant: Any) -> dict[str, Any]:
    settings = merchant["settings"] if merchant is not None else None
    return settings if isinstance(settings, dict) else {}


def domains(merchant: Any) -> list[str]:
    """The shop's registered website host names (the `domains` setting), only those that are host names."""
    found = _settings(merchant).get("domains") or []
    if not isinstance(found, list):
        return []
    return [d for d in found if isinstance(d, str) and params.valid_host(d)]


async def _visit(pages: Pages, request: Request) -> Visit | Response:
    """The shop and the visitor's language, or the page saying there is no such shop."""
    services = request.app.state.services
    slug = request.path_params["slug"]
    state = await pages.versions.of(services.pool, slug) if ids.valid_slug(slug) else None
    merchant = state.merchant if state else None
    locale, explicit = language.page_language(pages.config.catalog, request.query_params.get("lang"),
                                              request.headers.get("accept-language"),
                                              merchant["locale"] if merchant else None)
    accent = pages.config.accent(_settings(merchant).get("accent_color"))
    if state is None:
        return render.error(pages.config, 404, locale, accent, title=NO_SHOP[0], message=NO_SHOP[1])
    return Visit(merchant, state.version, locale, explicit, accent, str(services.settings.base_url).rstrip("/"),
                 services.clock.now(), services.pool)


def _cached(pages: Pages, request: Request, visit: Visit, key: str) -> tuple[tuple[str, bytes], str, Rendered | None]:
    cache_key = (request.url.path, f"{key}|{visit.locale}|{visit.explicit or ''}".encode())
    version = _version(visit.version, visit.now)
    return cache_key, version, pages.answers.get(cache_key, version)


def _version(shop_version: str, now: datetime) -> str:
    return f"{shop_version}:{int(now.timestamp()) // RENDER_SECONDS}"


def _send(pages: Pages, request: Request, visit: Visit, version: str, answer: Rendered) -> Response:
    """The answer, offered to the app's front for the next request of this address and language."""
    clock = request.app.state.services.clock

    async def current() -> str | None:
        state = await pages.versions.of(visit.pool, visit.slug)
        return _version(state.version, clock.now()) if state is not None else None

    front.offer(request.scope, front.Offer.of(answer, version, current, vary=(b"accept-language",)))
    return responses.send(request, answer)


async def shop_page(pages: Pages, request: Request) -> Response:
    return await _reviews_page(pages, request, None)


async def product_page(pages: Pages, request: Request) -> Response:
    return await _reviews_page(pages, request, request.path_params["product_id"])


async def _reviews_page(pages: Pages, request: Request, product_id: str | None) -> Response:
    visit = await _visit(pages, request)
    if isinstance(visit, Response):
        return visit
    shop_href = params.href(params.shop_path(visit.slug), None, visit.explicit)
    if product_id is not None and not ids.valid_product_id(product_id):
        return _error(pages, visit, 404, NO_PRODUCT, shop_href)
    path = params.product_path(visit.slug, product_id) if product_id is not None else params.shop_path(visit.slug)
    try:
        listing = params.parse(request.query_params, allow_about=product_id is None)
    except params.BadRequest:
        return _error(pages, visit, 400, BAD_QUERY, params.href(path, None, visit.explicit))
    except params.PastTheEnd:
        return _error(pages, visit, 404, NO_PAGE, params.href(path, None, visit.explicit))
    key, version, answer = _cached(pages, request, visit, repr(listing))
    if answer is None:
        fresh = await _render_reviews(pages, visit, listing, path, product_id, shop_href)
        if isinstance(fresh, Response):
            return fresh
        pages.answers.put(key, version, answer := fresh)
    return _send(pages, request, visit, version, answer)


def _error(pages: Pages, visit: Visit, status: int, words: tuple[str, str], back: str) -> Response:
    t = pages.config.catalog.translations(visit.locale)
    return render.error(pages.config, status, visit.locale, visit.accent, title=words[0], message=words[1],
                        back=(back, t.gettext("See all the reviews of %(name)s") % {"name": visit.merchant["name"]}),
                        shop_name=visit.merchant["name"],
                        shop_href=params.href(params.shop_path(visit.slug), None, visit.explicit))


async def _render_reviews(pages: Pages, visit: Visit, listing: params.Listing, path: str, product_id: str | None,
                          shop_href: str) -> Rendered | Response:
    config, pool, merchant_id = pages.config, visit.pool, visit.merchant["id"]
    product = None
    if product_id is not None:
        product = await queries.product(pool, merchant_id, product_id)
        if product is None:
            return _error(pages, visit, 404, NO_PRODUCT, shop_href)
    summary = await queries.summary(pool, merchant_id, product_id)
    facets = await queries.review_facets(pool, merchant_id, product_id)
    rows, total = await published_reviews(pool, merchant_id, listing.review_filter(product_id, visit.locale),
                                          limit=params.PER_PAGE, offset=(listing.page - 1) * params.PER_PAGE)
    links = Links(path, listing, visit.explicit)
    pager = links.pager(total, params.PER_PAGE)
    if listing.page > pager.pages:
        return _error(pages, visit, 404, NO_PAGE, links.clear())
    locale = render.babel_locale(config, visit.locale)
    gettext = config.catalog.translations(visit.locale).gettext
    shown = figures.shown(await transparency.figures(pool, merchant_id, visit.now), config.reasons, locale) \
        if product is None else None
    page_url = seo.canonical(visit.base, path, visit.explicit, listing.page)
    context = {
        "shop_name": visit.merchant["name"], "shop_href": shop_href, "slug": visit.slug,
        "logo": config.logo(visit.settings.get("logo_url")), "domains": domains(visit.merchant),
        "product": product, "product_href": lambda pid: params.href(params.product_path(visit.slug, pid), None,
                                                                    visit.explicit),
        "summary": summary, "average": present.average(summary["average"], locale),
        "average_stars": present.stars(summary["average"] or 0), "facets": facets,
        "verified": facets["methods"].get("invited", 0), "imported": facets["methods"].get("imported", 0),
        "listing": listing, "links": links, "pager": pager, "total": total,
        "first": (listing.page - 1) * params.PER_PAGE + 1, "last": (listing.page - 1) * params.PER_PAGE + len(rows),
        "histogram": links.histogram(summary), "languages": links.languages(facets["languages"], locale),
        "products": links.products(facets) if product is None else [],
        "language_name": lambda code: language.name_in(locale, code) or code,
        "reviews": [present.review(r, visit.locale, locale, gettext, visit.merchant["name"]) for r in rows],
        "chips": await _chips(pool, merchant_id, product.product_id, visit.locale, locale) if product else [],
        "figures": shown,
        "canonical": page_url, "robots": seo.NOINDEX if listing.filtered or not summary["count"] else seo.INDEX,
        "alternates": seo.alternates(visit.base, path, config.catalog.supported, listing.page),
        "page_languages": [(code, params.href(path, listing, code), code == visit.locale)
                           for code in config.catalog.supported],
        "jsonld": seo.product_jsonld(product, visit.base, page_url, summary, rows) if product is not None else None,
        "verification_href": params.href(f"/verification/{visit.slug}", None, visit.explicit),
    }
    template = "shop/product.html" if product is not None else "shop/shop.html"
    html, policy = render.html(config, template, visit.locale, visit.accent, **context)
    return Rendered.of(html, responses.HTML, headers={
        "Content-Security-Policy": policy, "Content-Language": visit.locale, "Vary": "Accept-Language"})


async def _chips(pool: asyncpg.Pool, merchant_id: int, product_id: str, visitor: str,
                 locale: Locale) -> list[dict[str, Any]]:
    """The product's topics as the widget shows them (`widgets.topics`): its label a buyer's own words, its
    counted reviews and their stars."""
    found = await queries.topic_set(pool, merchant_id, product_id)
    if found is None:
        return []
    rows, phrases = await queries.topics(pool, merchant_id, found["id"])
    return topics.shape(rows, phrases, visitor, lambda code: language.name_in(locale, code) or code)


async def sitemap(pages: Pages, request: Request) -> Response:
    visit = await _visit(pages, request)
    if isinstance(visit, Response):
        return visit
    key, version, cached = _cached(pages, request, visit, "sitemap")
    if cached is not None:
        return _send(pages, request, visit, version, cached)
    products = await queries.sitemap_products(visit.pool, visit.merchant["id"])
    latest = max((r["lastmod"] for r in products if r["lastmod"]), default=None)
    shop_lastmod = await queries.latest_published(visit.pool, visit.merchant["id"]) or latest
    body = seo.sitemap(visit.base, params.shop_path(visit.slug), shop_lastmod,
                       [(params.product_path(visit.slug, r["product_id"]), r["lastmod"]) for r in products],
                       pages.config.catalog.supported)
    answer = Rendered.of(body, responses.XML, max_age=responses.LONG_CACHE)
    pages.answers.put(key, version, answer)
    return _send(pages, request, visit, version, answer)
