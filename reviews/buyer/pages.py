"""Server-rendered pages for buyers, in their language (gettext domain "pages")."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import HTMLResponse

from reviews.platform.i18n import Catalog, babel_locale, negotiate, negotiate_accept_language
from reviews.platform.settings import SUPPORTED_LOCALES

_HERE = Path(__file__).resolve().parent
LOCALES_DIR = _HERE / "locales"
STATIC_DIR = _HERE / "static"  # the review page's optional script: the page works without it
PAGES = Catalog(LOCALES_DIR, "pages")
# Everything a buyer's page loads comes from us; the only exceptions are the shop's own images (its logo)
# and the previews the review page's script makes of the photos chosen on the phone (blob:).
# connect-src: the review page's script tells the shop's funnel that the link was opened (review.js).
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
       "img-src 'self' https: http: data: blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "it": "Italiano", "pl": "Polski", "ro": "Română",
                  "de": "Deutsch", "fr": "Français"}


@cache
def _environment(locale: str) -> jinja2.Environment:
    env = PAGES.environment(_HERE / "templates", locale)
    env.globals.update(locale=locale, languages=LANGUAGE_NAMES, supported=SUPPORTED_LOCALES,
                       babel_locale=babel_locale(locale))
    return env


def _(locale: str, message: str) -> str:
    """The buyer pages' gettext: `_(locale, "text")`, as the catalog check in the tests extracts it."""
    return PAGES.gettext(locale, message)


def _n(locale: str, singular: str, plural: str, n: int) -> str:
    return PAGES.ngettext(locale, singular, plural, n)


def number(locale: str, n: int) -> str:
    return format_decimal(n, locale=babel_locale(locale))


def date(locale: str, when: datetime | None) -> str | None:
    return format_date(when, format="long", locale=babel_locale(locale)) if when else None


def page_locale(request: Request, *fallbacks: str | None) -> str:
    """?lang= wins (the visible switch), then the buyer's own locale, then the browser's."""
    return negotiate(request.query_params.get("lang"), *fallbacks,
                     negotiate_accept_language(request.headers.get("accept-language")))


def render(template: str, locale: str, status_code: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    html = _environment(locale).get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = locale
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Content-Security-Policy", CSP)  # error pages, unsubscribe and all
    return response


def error_page(locale: str, status_code: int, title: str, message: str) -> HTMLResponse:
    return render("error.html", locale, status_code=status_code, title=title, message=message)
