"""A shop's own website on another loopback origin, embedding Attest's widgets the way a merchant pastes
them: a product page, a collection page, a product page that includes the SEO fragment from its server,
and the same pages without the widgets (the baseline). Served by a real uvicorn, with a strict
Content-Security-Policy that lets in only the shop itself and Attest.

The browser reaches it by host name (`shop.test`, `www.shop.test`, `copycat.test`, all mapped to
127.0.0.1 by Chromium's --host-resolver-rules), so that the trust badge sees the website it is on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from reviews.app import create_app
from reviews.console.shop import widgets as widgets_page
from reviews.console.shop.widgets import Snippet
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from tests.browser_support import AXE
from tests.conftest import METRICS_TOKEN, free_port
from tests.helpers import add_review
from tests.widgets.storefront import Storefront, set_domains

HOSTS = ("shop.test", "www.shop.test", "copycat.test")
RESOLVER = "--host-resolver-rules=" + ", ".join(f"MAP {h} 127.0.0.1" for h in HOSTS)
COLLECTION = [f"P{i:02}" for i in range(3, 27)]  # 24 products beside SKU-1 and SKU-2
RESERVED_REVIEWS = 1140  # what five reviews with their summary take, at most, from 390 px wide up

SHOP_CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 Georgia,"Times New Roman",serif;color:#222;background:#fff}
header,footer{background:#1d3557;color:#fff;padding:12px 16px}
header a,footer a{color:#fff}
main{max-width:1100px;margin:0 auto;padding:16px}
.product{display:grid;gap:24px}
@media (min-width:800px){.product{grid-template-columns:1fr 1fr}}
.photo{aspect-ratio:4/3;border-radius:8px;background:linear-gradient(135deg,#a8dadc,#457b9d)}
h1{font-size:2rem;line-height:1.2;margin:0 0 8px}
.price{font-size:1.5rem;margin:12px 0}
button.buy{font:inherit;padding:12px 24px;border:0;border-radius:6px;background:#b5172a;color:#fff}
section{margin:32px 0}
.tiles{list-style:none;padding:0;display:grid;grid-template-columns:repeat(2,1fr);gap:16px}
@media (min-width:800px){.tiles{grid-template-columns:repeat(4,1fr)}}
.tile{border:1px solid #ccc;border-radius:8px;padding:8px}
.tile .photo{aspect-ratio:1}
.tile h2{font-size:1rem;margin:8px 0 4px}
.tile a{color:#1d3557}
.copy{max-width:60ch}
"""
# What a careless theme or a hostile page does to everything: none of it may change a widget's layout.
HOSTILE_CSS = """
*{font-size:40px !important;display:block !important;line-height:3 !important;letter-spacing:4px !important}
div{color:red !important;padding:20px !important;border:5px solid green !important}
span,a,p,li,ul,h2,h3,button,select{margin:30px !important;text-transform:uppercase !important}
"""
LOREM = ("Cushioned for long days on rocky trails, with a sole that grips wet stone and a mesh upper that dries "
         "fast. Made to last: reinforced toe cap, replaceable laces, and a two-year guarantee on the stitching.")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@dataclass
class Site:
    attest: str  # Attest's origin, http://127.0.0.1:port
    port: int  # the shop's port, on every host name
    fragment_hash: str = ""

    def url(self, path: str, host: str = "shop.test") -> str:
        return f"http://{host}:{self.port}{path}"


def _stars(product: str | None, attest: str, element_id: str = "") -> str:
    # One line of content before the script runs (a link to the reviews for a page without script):
    # the line the snippet takes, so nothing moves when the stars come.
    product_attr = f' data-product="{html.escape(product)}"' if product else ""
    id_attr = f' id="{element_id}"' if element_id else ""
    path = "/shops/demo-shop" + (f"/products/{product}" if product else "")
    return (f'<div{id_attr} class="stars" data-attest-widget="stars" data-merchant="demo-shop"{product_attr}>'
            f'<a href="{attest}{path}">Reviews</a></div>')


def _page(site: Site, *, title: str, body: str, widgets: bool, lang: str = "en", hostile: bool = False,
          footer: str | None = None, script: str | None = None) -> str:
    if script is None:
        script = f'<script async src="{site.attest}/widgets/v1/embed.js"></script>' if widgets else ""
    if footer is None:
        footer = f'<div id="badge" data-attest-widget="badge" data-merchant="demo-shop">{placeholder(76)}</div>'
    sheets = '<link rel="stylesheet" href="/shop.css">' + ('<link rel="stylesheet" href="/hostile.css">'
                                                          if hostile else "")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title>"
            '<meta name="description" content="Trail shoes and merino socks for walkers, from Demo Shop.">'
            f"{sheets}</head><body>"
            '<header><a href="/">Demo Shop</a></header>'
            f"<main>{body}</main>"
            f"<footer>{footer}"
            "<p>© Demo Shop · Trail shoes since 2019</p></footer>"
            f"{script}</body></html>")


def placeholder(height: int) -> str:
    """The height a widget will take, kept by the page before any script runs: attributes, not styles,
    so that no Content-Security-Policy stands in the way."""
    return f'<svg aria-hidden="true" focusable="false" width="1" height="{height}"></svg>'


def product_body(site: Site, *, fragment: str | None = None, carousel: bool = True, limit: int = 5,
                 autoplay: int = 0) -> str:
    reviews = fragment if fragment is not None else (
        '<div id="reviews" data-attest-widget="reviews" data-merchant="demo-shop" data-product="SKU-1" '
        f'data-limit="{limit}">{placeholder(RESERVED_REVIEWS)}</div>')
    play = f' data-autoplay="{autoplay}"' if autoplay else ""
    more = ('<section aria-label="What buyers say about the shop"><div id="carousel" data-attest-widget="carousel" '
            f'data-merchant="demo-shop" data-limit="8"{play}>{placeholder(300)}</div></section>' if carousel else "")
    return ('<div class="product"><div class="photo" role="img" aria-label="Trail shoes in blue"></div><div>'
            f'<h1>Trail shoes</h1>{_stars("SKU-1", site.attest, "stars")}'
            '<p class="price">€89.00</p>'
            f'<p class="copy">{LOREM}</p><p class="copy">{LOREM}</p>'
            '<button class="buy" type="button">Add to cart</button></div></div>'
            f'<section id="all-reviews" aria-label="Reviews">{reviews}</section>{more}')


def collection_body(site: Site) -> str:
    tiles = "".join(
        f'<li class="tile"><div class="photo" role="img" aria-label="Product {p}"></div>'
        f'<h2><a href="/products/{p.lower()}">Product {p}</a></h2>{_stars(p, site.attest)}</li>'
        for p in ["SKU-1", "SKU-2", *COLLECTION])
    return f'<h1>All products</h1><ul class="tiles">{tiles}</ul>'


def console_snippets(site: Site) -> dict[str, Snippet]:
    """Every snippet the console's widgets page offers for SKU-1 and the shop, by its code's id there."""
    product = widgets_page.product_snippets("en", widgets_page.Urls(site.attest, "demo-shop", "SKU-1"))
    shop = widgets_page.shop_snippets("en", widgets_page.Urls(site.attest, "demo-shop", None), "Demo Shop",
                                      ["SKU-1", "SKU-2", "P04"])
    return {"script": widgets_page.loader(site.attest), **{f"product-{s.kind}": s for s in product},
            **{f"shop-{s.kind}": s for s in shop}}


def snippets_page(site: Site, fragment: str) -> tuple[str, str]:
    """A product page with every snippet the console offers pasted where a shop would put it (the SEO
    fragment as the shop's server includes it): the body and the footer."""
    code = {name: s.code for name, s in console_snippets(site).items()}
    tiles = "".join(f'<li class="tile"><div class="photo" role="img" aria-label="Product {n}"></div>'
                    f'<h2><a href="/products/{n}">Product {n}</a></h2>{stars}</li>'
                    for n, stars in enumerate(code["shop-tiles"].split("\n"), start=1))
    body = ('<div class="product"><div class="photo" role="img" aria-label="Trail shoes in blue"></div><div>'
            f'<h1>Trail shoes</h1>{code["product-stars"]}<p class="price">€89.00</p>'
            f'<p class="copy">{LOREM}</p><button class="buy" type="button">Add to cart</button></div></div>'
            f'<section aria-label="Reviews">{code["product-reviews"]}</section>'
            f'<section aria-label="Reviews from the shop\'s server">{fragment}</section>'
            f'<section aria-label="You may also like"><ul class="tiles">{tiles}</ul></section>'
            f'<section aria-label="What buyers say about the shop">{code["shop-carousel"]}</section>'
            f'<section aria-label="All the shop\'s reviews">{code["shop-reviews"]}</section>')
    footer = f'{code["shop-seal"]}<p>{code["shop-badge"]}</p>'
    return body, footer


def csp(site: Site, widgets: bool) -> str:
    """Only the shop and Attest: scripts and data from Attest, styles from the shop (the widgets' own come
    as constructed sheets; the fragment's block by its hash)."""
    attest = f" {site.attest}" if widgets else ""
    connect = "'self'" + attest
    return (f"default-src 'none'; script-src 'self'{attest}; connect-src {connect}; "
            f"style-src 'self' {site.fragment_hash}; img-src 'self'{attest}; base-uri 'none'; "
            f"form-action 'self'{attest}; "
            "frame-ancestors 'none'")


def shop_app(site: Site) -> Starlette:
    async def fragment(lang: str) -> str:
        # What a shop's server or theme does: fetch the fragment and include it in its own page.
        async with httpx.AsyncClient() as client:
            r = await client.get(console_snippets(site)["product-fragment"].code, params={"lang": lang})
        r.raise_for_status()
        site.fragment_hash = r.headers["x-attest-style-hash"]
        return r.text

    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        widgets = not name.endswith("-bare")
        base = name.removesuffix("-bare")
        q = request.query_params
        lang = q.get("lang", "en")
        if base == "product":
            body = (product_body(site, limit=int(q.get("limit", "5")), autoplay=int(q.get("autoplay", "0")))
                    if widgets else product_body(site, fragment="", carousel=False))
        elif base == "fragment":
            body = product_body(site, fragment=await fragment(lang), carousel=False)
        elif base == "collection":
            body = collection_body(site)
        elif base == "snippets":
            body, footer = snippets_page(site, await fragment(lang))
            document = _page(site, title="Trail shoes – Demo Shop (every snippet)", body=body, widgets=True,
                             lang=lang, footer=footer, script=console_snippets(site)["script"].code)
            return HTMLResponse(document, headers={"Content-Security-Policy": csp(site, True)})
        elif base == "hostile":
            body = product_body(site)
        else:
            return Response("Not found", status_code=404)
        document = _page(site, title=f"Trail shoes – Demo Shop ({base})", body=body, widgets=widgets, lang=lang,
                         hostile=base == "hostile")
        return HTMLResponse(document, headers={"Content-Security-Policy": csp(site, widgets)})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "robots.txt":
            return Response("User-agent: *\nAllow: /\n", media_type="text/plain")
        if name == "axe.min.js":
            return Response(AXE.read_bytes(), media_type="application/javascript")
        css = {"shop.css": SHOP_CSS, "hostile.css": HOSTILE_CSS}.get(name)
        return Response(css, media_type="text/css") if css else Response("Not found", status_code=404)

    async def home(request: Request) -> Response:
        return HTMLResponse(_page(site, title="Demo Shop", body="<h1>Demo Shop</h1>", widgets=False),
                            headers={"Content-Security-Policy": csp(site, False)})

    return Starlette(routes=[Route("/", home), Route("/pages/{name}", page), Route("/{name}", static)])


@contextlib.asynccontextmanager
async def serve(app: object, port: int) -> AsyncIterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,  # type: ignore[arg-type]
                            lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise AssertionError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def seed(services: Services, shop: Storefront) -> None:
    """More reviews, so the list pages and the carousel turns: the collection's products, most with a few."""
    for i, product in enumerate(COLLECTION):
        for k in range(i % 4):
            await add_review(services, shop.merchant.id, 1 + (i + k) % 5, product_id=product,
                             product_name=f"Product {product}", title=f"Review {k} of {product}",
                             body="Comfortable and well made. " * (1 + k))
    await add_review(services, shop.merchant.id, 4, title="Helpful staff", body="They answered in an hour.")
    await set_domains(services, shop.merchant.id, ["shop.test"])


@contextlib.asynccontextmanager
async def running(services: Services, attest_port: int, shop: Storefront) -> AsyncIterator[Site]:
    await seed(services, shop)
    site = Site(attest=f"http://127.0.0.1:{attest_port}", port=free_port())
    async with serve(create_app(services), attest_port), serve(shop_app(site), site.port):
        yield site



@pytest.fixture
def attest_port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path: Path, dsn: str, attest_port: int) -> Settings:
    """Attest on a real port: its own address is where its links lead (the public page, the verification page)."""
    return Settings(data_dir=tmp_path / "data", database_url=dsn, secret_key="test-secret-key",
                    base_url=f"http://127.0.0.1:{attest_port}", mail_from="reviews@attest.test", dev=True,
                    metrics_token=METRICS_TOKEN)
