"""The public pages' routes, for the application to mount (Attest: `reviews.app`)."""

from __future__ import annotations

from functools import partial

from starlette.routing import Route

from widgets.cache import Answers
from widgets.pages import views
from widgets.pages.config import PagesConfig

# A page weighs tens of kilobytes (a widget's answer, one or two): this many keep the most asked-for
# listings of the busiest shops, within a few tens of megabytes per process.
MAX_PAGES = 512


def routes(config: PagesConfig) -> list[Route]:
    """`/shops/{slug}`, its sitemap and its product pages. Each call has a cache of its own answers."""
    pages = views.Pages(config, Answers(MAX_PAGES))
    return [
        Route("/shops/{slug}", partial(views.shop_page, pages), methods=["GET", "HEAD"]),
        Route("/shops/{slug}/sitemap.xml", partial(views.sitemap, pages), methods=["GET", "HEAD"]),
        # A product id may hold "/" (SKUs may): the rest of the path is the id.
        Route("/shops/{slug}/products/{product_id:path}", partial(views.product_page, pages),
              methods=["GET", "HEAD"]),
    ]
