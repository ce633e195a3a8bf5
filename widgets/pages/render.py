"""Rendering the public pages: the templates in the visitor's language, the one style block and its
hash for a Content-Security-Policy that allows no script at all, and the pages that say no."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from markupsafe import Markup
from starlette.responses import Response

from widgets import responses
from widgets.pages.config import PagesConfig
from widgets.pages.language import own_name

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STYLESHEET = TEMPLATES_DIR / "shop" / "shop.css"
# No script of any kind may run; the style block is allowed by its hash; images only from https
# (the shop's logo and product photos) and the page itself; forms (the product filter) only here.
# connect-src 'self' opens nothing a page without script could use, and lets an audit (Lighthouse's
# robots.txt check fetches from the page) read this site's own files.
CSP = ("default-src 'none'; style-src {style}; img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


@lru_cache(maxsize=256)
def style(accent: str) -> tuple[Markup, str]:
    """The page's style block for this accent colour (a hex colour the application checked) and its hash."""
    css = f":root{{--accent:{accent}}}\n" + STYLESHEET.read_text()
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return Markup(css), f"'sha256-{digest}'"  # noqa: S704 (our own stylesheet; the accent is a checked colour)


def csp(style_hash: str) -> str:
    return CSP.format(style=style_hash)


def babel_locale(config: PagesConfig, locale: str) -> Locale:
    return config.catalog.babel_locale(locale)


def html(config: PagesConfig, template: str, locale: str, accent: str, **context: Any) -> tuple[str, str]:
    """The page and its Content-Security-Policy."""
    css, style_hash = style(accent)
    env = config.catalog.environment(TEMPLATES_DIR, locale)
    page = env.get_template(template).render(locale=locale, css=css, own_name=own_name, **context)
    return page, csp(style_hash)


def error(config: PagesConfig, status: int, locale: str, accent: str, *, title: str, message: str,
          back: tuple[str, str] | None = None, shop_name: str | None = None,
          shop_href: str | None = None) -> Response:
    """A page that says what went wrong in the visitor's language (400, 404), never indexed nor cached."""
    t = config.catalog.translations(locale)
    page, policy = html(config, "shop/error.html", locale, accent, title=t.gettext(title), message=t.gettext(message),
                        back=back, shop_name=shop_name, shop_href=shop_href)
    return Response(page, status_code=status, media_type=responses.HTML, headers={
        "Content-Security-Policy": policy, "Content-Language": locale, "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex"})
