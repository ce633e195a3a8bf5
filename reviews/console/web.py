"""What every console page shares: the signed-in visitor, rendering in their language (gettext
domain "console"), forms with their CSRF token, and the session cookie.

CSRF is the scheme the buyer's review page uses: a token signed with the CSRF purpose, bound to
something only this browser holds (here the session, or before sign-in a random pre-session
cookie), checked on every POST. One mechanism for the whole service.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from reviews.accounts import sessions
from reviews.accounts.users import User
from reviews.console import dates
from reviews.platform import tokens
from reviews.platform.errors import ApiError
from reviews.platform.http import read_body
from reviews.platform.i18n import Catalog, babel_locale, negotiate, negotiate_accept_language
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES

_HERE = Path(__file__).resolve().parent
LOCALES_DIR = _HERE / "locales"
CONSOLE = Catalog(LOCALES_DIR, "console")
# What every page shares, then the moderators' desk and the shop pages, each beside its modules.
TEMPLATES = (_HERE / "templates", _HERE / "desk" / "templates", _HERE / "shop" / "templates")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "it": "Italiano", "pl": "Polski", "ro": "Română",
                  "de": "Deutsch", "fr": "Français"}
PRE_COOKIE = "attest_console_pre"
CSRF_MAX_AGE = 8 * 3600
FORM_MAX = 64 * 1024

# A posted form: each field's values, in order (a field may repeat).
Form = dict[str, list[str]]


def _(locale: str, message: str) -> str:
    return CONSOLE.gettext(locale, message)


def _n(locale: str, singular: str, plural: str, n: int) -> str:
    return CONSOLE.ngettext(locale, singular, plural, n)


@cache
def _environment(locale: str) -> jinja2.Environment:
    # The catalog's environment reads one folder; an overlay keeps its gettext and settings and
    # reads the templates of the console's sections as well (their names are unique).
    env = CONSOLE.environment(TEMPLATES[0], locale).overlay(loader=jinja2.FileSystemLoader(TEMPLATES))
    env.globals.update(locale=locale, languages=LANGUAGE_NAMES, supported=SUPPORTED_LOCALES)
    env.filters["urlquote"] = lambda value: quote(str(value), safe="")
    # {{ t|when }}: a <time> in the visitor's zone and language; {{ t|when_text }} the words alone.
    env.filters["when"] = jinja2.pass_context(
        lambda ctx, value: dates.element(value, ctx.get("zone", "UTC"), ctx["babel_locale"]))
    env.filters["when_text"] = jinja2.pass_context(
        lambda ctx, value: dates.text(value, ctx.get("zone", "UTC"), ctx["babel_locale"]))
    return env


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the services, the signed-in user (if any), the session token, the language."""

    svc: Services
    user: User | None
    token: str | None
    locale: str
    zone: str = "UTC"  # the browser's time zone, which console.js records in a cookie

    def binding(self) -> str | None:
        return sessions.binding(self.token) if self.token else None


def locale_of(request: Request, user: User | None) -> str:
    return negotiate(request.query_params.get("lang"), user.locale if user else None,
                     negotiate_accept_language(request.headers.get("accept-language")))


async def visitor(request: Request) -> Visitor:
    """Who is asking, looked up once per request: a page's error is rendered for the same visitor."""
    known = getattr(request.state, "console_visitor", None)
    if isinstance(known, Visitor):
        return known
    svc: Services = request.app.state.services
    token = request.cookies.get(sessions.COOKIE)
    user = await sessions.current(svc.pool, token, svc.clock.now()) if token else None
    found = request.state.console_visitor = Visitor(
        svc, user, token if user else None, locale_of(request, user),
        dates.zone_of(request.cookies.get(dates.ZONE_COOKIE)))
    return found


def safe_next(value: str | None) -> str:
    """Only our own console pages are places to go back to after signing in."""
    if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


def csrf_token(svc: Services, binding: str) -> str:
    return svc.signer.sign(tokens.CSRF, {"c": binding})


def csrf_ok(svc: Services, token: str | None, binding: str | None) -> bool:
    if not token or not binding:
        return False
    try:
        payload = svc.signer.load(tokens.CSRF, token, CSRF_MAX_AGE)
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return False
    return isinstance(payload, dict) and payload.get("c") == binding


async def read_form(request: Request) -> Form | None:
    """Every field of a posted form (a field may repeat, as checkboxes do); None when over the limit."""
    try:
        await read_body(request, FORM_MAX)
    except ApiError:
        return None
    raw = await request.form()
    form: Form = {}
    for key, value in raw.multi_items():
        if isinstance(value, str):
            form.setdefault(key, []).append(value.replace("\x00", ""))
    return form


def first(form: Form, key: str) -> str:
    values = form.get(key) or [""]
    return values[0]


def pre_binding(request: Request) -> tuple[str, bool]:
    """The pre-session cookie's value (and whether it has to be set), for forms shown before sign-in."""
    value = request.cookies.get(PRE_COOKIE)
    if value and 20 <= len(value) <= 100:
        return value, False
    return secrets.token_urlsafe(24), True


def secure(svc: Services) -> bool:
    return svc.settings.base_url.startswith("https://")


def set_pre_cookie(response: Response, svc: Services, value: str) -> None:
    response.set_cookie(PRE_COOKIE, value, path=sessions.PATH, httponly=True, samesite="lax", secure=secure(svc),
                        max_age=CSRF_MAX_AGE)


def set_session_cookie(response: Response, svc: Services, token: str) -> None:
    response.set_cookie(sessions.COOKIE, token, path=sessions.PATH, httponly=True, samesite="lax", secure=secure(svc))


def clear_session_cookie(response: Response, svc: Services) -> None:
    response.delete_cookie(sessions.COOKIE, path=sessions.PATH, httponly=True, samesite="lax", secure=secure(svc))


# Scripts only from our own files (console.js: shortcuts and copy buttons), never inline; the pages'
# own <style> and style attributes are allowed, frames only ours (the email and widget previews).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
       "frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def render(template: str, who: Visitor, *, status_code: int = 200, binding: str | None = None,
           **context: Any) -> HTMLResponse:
    """A console page. Forms on it carry a CSRF token bound to the session (or to `binding`)."""
    bound = binding or who.binding()
    html = _environment(who.locale).get_template(template).render(
        user=who.user, csrf=csrf_token(who.svc, bound) if bound else "", babel_locale=babel_locale(who.locale),
        zone=who.zone, **context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = who.locale
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    return response


def message_page(who: Visitor, status_code: int, title: str, message: str) -> HTMLResponse:
    return render("message.html", who, status_code=status_code, title=title, message=message)

