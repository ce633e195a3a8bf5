"""A shop's widget snippets (viewer and up): what to paste into the shop's pages for the stars, the
review list, the badge, the iframe page, the JSON-LD and the product-review feed, for the shop or
one of its products, with a live preview of the real widgets in each language.

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

MAX_PRODUCT_ID = 200  # as the widgets take them


@dataclass(frozen=True)
class Snippet:
    kind: str
    title: str
    help: str
    code: str


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
    def summary(self) -> str:
        if self.product:
            return f"{self.widgets}/products/{quote(self.product, safe='')}/summary.json"
        return f"{self.widgets}/summary.json"


def snippets(locale: str, urls: Urls, shop_name: str) -> list[Snippet]:
    """Each widget's code, its values escaped for where they go (attributes, URLs)."""
    def attr(value: str) -> str:
        return html.escape(value, quote=True)

    product = f' data-product="{attr(urls.product)}"' if urls.product else ""
    script = f'<script src="{attr(urls.base)}/widgets/v1/embed.js" defer></script>'
    label = _(locale, "Reviews of %(shop)s") % {"shop": shop_name}
    return [
        Snippet("stars", _(locale, "Stars"), _(locale, "The average and the number of reviews, in one line. Add "
                                                       "data-lang=\"de\" to choose the language; by default, the "
                                                       "page's own."),
                f'{script}\n<div data-attest-widget="stars" data-merchant="{attr(urls.slug)}"{product}></div>'),
        Snippet("reviews", _(locale, "Review list"), _(locale, "The latest published reviews; data-limit chooses "
                                                               "how many (1 to 50)."),
                f'{script}\n<div data-attest-widget="reviews" data-merchant="{attr(urls.slug)}"{product} '
                'data-limit="5"></div>'),
        Snippet("badge", _(locale, "Badge"), _(locale, "An SVG image that links to how the reviews are verified."),
                f'<a href="{attr(urls.base)}/verification/{attr(quote(urls.slug))}">'
                f'<img src="{attr(urls.page("badge.svg"))}" alt="{attr(label)}" height="20"></a>'),
        Snippet("iframe", _(locale, "Reviews page in a frame"), _(locale, "Works without any script on your page. "
                                                                          "Add ?lang=de to choose the language."),
                f'<iframe src="{attr(urls.page("widget.html"))}" title="{attr(label)}" loading="lazy" '
                'style="width:100%;max-width:40rem;height:32rem;border:0"></iframe>'),
        Snippet("jsonld", _(locale, "JSON-LD for search engines"),
                _(locale, "Fetch this address on your server when you build the page, and put what it returns "
                          "into the page's head as it is, inside the script element below."),
                f'{urls.page("jsonld.json")}\n\n<script type="application/ld+json">\n'
                '  …\n</script>'),
        Snippet("json", _(locale, "JSON"), _(locale, "The figures for your own design."), urls.summary),
    ]


@shop_page("viewer")
async def widgets_page(request: Request, found: Shop) -> Response:
    svc, locale, merchant = found.who.svc, found.who.locale, found.merchant
    product = (request.query_params.get("product") or "").strip()[:MAX_PRODUCT_ID] or None
    lang = request.query_params.get("preview") or ""
    lang = lang if lang in SUPPORTED_LOCALES else merchant.locale
    base = svc.settings.base_url.rstrip("/")
    shop_urls = Urls(base, merchant.slug, None)
    product_urls = Urls(base, merchant.slug, product) if product else None
    # The preview loads the widgets from this very server: the same pages, by a relative address.
    local = Urls("", merchant.slug, product)
    return render_shop(
        "shop_widgets.html", found, section="widgets", product=product, preview_lang=lang,
        products=await orders.recent_products(svc.pool, merchant.id),
        shop_snippets=snippets(locale, shop_urls, merchant.name),
        product_snippets=snippets(locale, product_urls, merchant.name) if product_urls else [],
        feed_url=f"{shop_urls.widgets}/feed.xml", preview_frame=local.page("widget.html", lang),
        preview_badge=local.page("badge.svg", lang), product_query=quote(product, safe="") if product else "")
