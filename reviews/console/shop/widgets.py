"""A shop's widget snippets (viewer and up): what to paste into the shop's pages, each with a copy
button. The loader once per page; for a product page the star snippet, the reviews widget, the SEO
fragment (for the shop's server) and the product's public page; for the shop the stars of a
collection page's tiles (one request for all of them), its reviews widget, the testimonials carousel,
the trust seal (HTML, with the registered websites it shows its rating on) and badge (SVG), the public
page and the Google feeds. A live preview of the badge and the reviews page in each language.

Every widget's element holds its placeholder: an `<svg width="1" height="H">` of the height the widget
will take (`widgets.scripts.reserved`), drawn by the page before any script runs, with attributes only
(no style for a Content-Security-Policy to refuse), so nothing on the page moves when the widget comes.
The addresses are the widgets' own (`widgets.routes`, under /widgets/v1 of ATTEST_BASE_URL).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from reviews.console.guards import shop_page
from reviews.console.shops import Shop, render_shop
from reviews.console.web import _
from reviews.intake import orders
from reviews.platform.settings import SUPPORTED_LOCALES
from widgets import badge as widget_badge
from widgets.scripts import reserved

MAX_PRODUCT_ID = 200  # as the widgets take them
LIST_LIMIT = 5  # reviews the snippets' review lists show (data-limit), and what their placeholder keeps
CAROUSEL_LIMIT = 8
TILES = 3  # products shown in the collection page's example


@dataclass(frozen=True)
class Snippet:
    kind: str
    title: str
    help: str
    code: str
    markup: bool = True  # pasted into a page as it is; else an address for the shop's server or a setting


@dataclass(frozen=True)
class Urls:
    """The widgets' addresses for the shop, or one of its products."""

    base: str  # ATTEST_BASE_URL
    slug: str
    product: str | None

    @property
    def widgets(self) -> str:
        return f"{self.base}/widgets/v1/{self.slug}"

    def _query(self, lang: str | None = None) -> str:
        params = [f"product={quote(self.product, safe='')}"] if self.product else []
        params += [f"lang={lang}"] if lang else []
        return "?" + "&".join(params) if params else ""

    def page(self, name: str, lang: str | None = None) -> str:
        return f"{self.widgets}/{name}{self._query(lang)}"

    @property
    def public(self) -> str:
        """The public page of the shop's reviews, or of the product's."""
        shop = f"{self.base}/shops/{quote(self.slug, safe='')}"
        return f"{shop}/products/{quote(self.product, safe='')}" if self.product else shop

    @property
    def fragment(self) -> str:
        return f"{self.widgets}/products/{quote(self.product or '', safe='')}/reviews.html"


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def placeholder(height: int) -> str:
    return f'<svg aria-hidden="true" focusable="false" width="1" height="{height}"></svg>'


def widget(family: str, slug: str, product: str | None = None, limit: int | None = None) -> str:
    """A widget's element as a shop pastes it, holding the placeholder of its height."""
    product_attr = f' data-product="{_attr(product)}"' if product else ""
    limit_attr = f' data-limit="{limit}"' if limit else ""
    return (f'<div data-attest-widget="{family}" data-merchant="{_attr(slug)}"{product_attr}{limit_attr}>'
            f'{placeholder(reserved(family, limit or LIST_LIMIT))}</div>')


def loader(base: str) -> Snippet:
    return Snippet("script", "", "", f'<script src="{_attr(base)}/widgets/v1/embed.js" defer></script>')


def product_snippets(locale: str, urls: Urls) -> list[Snippet]:
    """What a product's page shows: its stars, its reviews, the fragment of them for the shop's
    server, and its public page."""
    product = urls.product or ""
    return [
        Snippet("stars", _(locale, "Star rating"), _(locale, "Under the product's name: its average and "
                                                             "number of reviews, drawn at once."),
                widget("stars", urls.slug, product)),
        Snippet("reviews", _(locale, "Reviews widget"), _(locale, "The summary with its histogram, filters, "
                                                                 "sorting and “show more”, in the visitor's "
                                                                 "language, with a link to the public page. "
                                                                 "data-limit chooses how many at a time (1 to 50)."),
                widget("reviews", urls.slug, product, LIST_LIMIT)),
        Snippet("fragment", _(locale, "Reviews in your page's own HTML (SEO)"),
                _(locale, "Have your shop's server or theme fetch this address when it builds the product page "
                          "(add ?lang=de for another language) and put what it returns where the reviews go, "
                          "instead of the reviews widget: search engines read the reviews in your page, and "
                          "embed.js brings the same list to life."),
                urls.fragment, markup=False),
        Snippet("page", _(locale, "Public page"), _(locale, "Every published review of the product, on a page "
                                                           "search engines index: link to it."),
                urls.public, markup=False),
        Snippet("jsonld", _(locale, "JSON-LD for search engines"),
                _(locale, "Only where you use neither the reviews widget nor the fragment (which carries it): "
                          "fetch this address on your server and put what it returns into the page's head, "
                          "inside a script element of type application/ld+json."),
                urls.page("jsonld.json"), markup=False),
    ]


def shop_snippets(locale: str, urls: Urls, shop_name: str, tiles: list[str]) -> list[Snippet]:
    """The shop's own widgets, the stars of a collection page, and the shop's addresses."""
    label = _(locale, "Reviews of %(shop)s") % {"shop": shop_name}
    examples = tiles[:TILES] or ["PRODUCT-ID"]
    return [
        Snippet("tiles", _(locale, "Stars on a collection page"),
                _(locale, "One in each product tile, with that product's id: all the tiles of a page are "
                          "answered by one request."),
                "\n".join(widget("stars", urls.slug, p) for p in examples)),
        Snippet("reviews", _(locale, "Reviews widget"), _(locale, "The reviews of the whole shop, its products' "
                                                                 "and its own, newest first."),
                widget("reviews", urls.slug, None, LIST_LIMIT)),
        Snippet("carousel", _(locale, "Testimonials carousel"),
                _(locale, "The shop's latest reviews, one at a time: buttons and arrow keys move it, and it "
                          "never moves by itself unless you add data-autoplay=\"6\" (seconds per review)."),
                widget("carousel", urls.slug, None, CAROUSEL_LIMIT)),
        Snippet("seal", _(locale, "Trust seal"),
                _(locale, "Your rating, the number of verified reviews and your name, linking to your public "
                          "page. It shows your rating only on your registered websites."),
                widget("badge", urls.slug)),
        Snippet("badge", _(locale, "Badge image"), _(locale, "The same seal as an image, for places where no "
                                                            "script runs, such as emails."),
                f'<a href="{_attr(urls.public)}"><img src="{_attr(urls.page("badge.svg"))}" alt="{_attr(label)}" '
                f'height="{widget_badge.HEIGHT}"></a>'),
        Snippet("page", _(locale, "Public page"), _(locale, "Every published review, the histogram and how the "
                                                           "reviews are collected and checked: link to it."),
                urls.public, markup=False),
        Snippet("feed", _(locale, "Product review feed"), _(locale, "For Google Merchant Center's product "
                                                                   "reviews: give it this address."),
                f"{urls.widgets}/feed.xml", markup=False),
        Snippet("merchant-feed", _(locale, "Seller ratings feed"), _(locale, "For Google's seller ratings: the "
                                                                            "shop's own reviews."),
                f"{urls.widgets}/merchant-feed.xml", markup=False),
    ]


@shop_page("viewer")
async def widgets_page(request: Request, found: Shop) -> Response:
    svc, locale, merchant = found.who.svc, found.who.locale, found.merchant
    product = (request.query_params.get("product") or "").strip()[:MAX_PRODUCT_ID] or None
    lang = request.query_params.get("preview") or ""
    lang = lang if lang in SUPPORTED_LOCALES else merchant.locale
    base = svc.settings.base_url.rstrip("/")
    shop_urls = Urls(base, merchant.slug, None)
    recent = await orders.recent_products(svc.pool, merchant.id)
    # The preview loads the widgets from this very server: the same pages, by a relative address.
    local = Urls("", merchant.slug, product)
    return render_shop(
        "shop_widgets.html", found, section="widgets", product=product, preview_lang=lang, products=recent,
        script=loader(base), domains=merchant.domains,
        shop_snippets=shop_snippets(locale, shop_urls, merchant.name, [p.product_id for p in recent]),
        product_snippets=product_snippets(locale, Urls(base, merchant.slug, product)) if product else [],
        preview_frame=local.page("widget.html", lang), preview_badge=local.page("badge.svg", lang),
        product_query=quote(product, safe="") if product else "")
