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
from starlette.responses import HTMLResponse, RedirectResponse, Response

from reviews.accounts import sessions
from reviews.accounts.users import User
from reviews.platform import tokens
from reviews.platform.errors import ApiError
from reviews.platform.http import read_body
from reviews.platform.i18n import Catalog, babel_locale, negotiate, negotiate_accept_language
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES

_HERE = Path(__file__).resolve().parent
LOCALES_DIR = _HERE / "locales"
CONSOLE = Catalog(LOCALES_DIR, "console")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "it": "Italiano", "pl": "Polski", "ro": "Română",
                  "de": "Deutsch", "fr": "Français"}
PRE_COOKIE = "attest_console_pre"
CSRF_MAX_AGE = 8 * 3600
FORM_MAX = 64 * 1024


def _(locale: str, message: str) -> str:
    return CONSOLE.gettext(locale, message)


def _n(locale: str, singular: str, plural: str, n: int) -> str:
    return CONSOLE.ngettext(locale, singular, plural, n)


@cache
def _environment(locale: str) -> jinja2.Environment:
    env = CONSOLE.environment(_HERE / "templates", locale)
    env.globals.update(locale=locale, languages=LANGUAGE_NAMES, supported=SUPPORTED_LOCALES)
    env.filters["urlquote"] = lambda value: quote(str(value), safe="")
    return env


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the services, the signed-in user (if any), the session token, the language."""

    svc: Services
    user: User | None
    token: str | None
    locale: str

    def binding(self) -> str | None:
        return sessions.binding(self.token) if self.token else None


def locale_of(request: Request, user: User | None) -> str:
    return negotiate(request.query_params.get("lang"), user.locale if user else None,
                     negotiate_accept_language(request.headers.get("accept-language")))


async def visitor(request: Request) -> Visitor:
    svc: Services = request.app.state.services
    token = request.cookies.get(sessions.COOKIE)
    user = await sessions.current(svc.pool, token, svc.clock.now()) if token else None
    return Visitor(svc, user, token if user else None, locale_of(request, user))


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/console/sign-in?next=" + quote(target, safe=""), status_code=303)


async def signed_in(request: Request) -> Visitor | Response:
    """The visitor when signed in; otherwise the redirect to the sign-in page (every console URL)."""
    found = await visitor(request)
    return found if found.user is not None else sign_in_redirect(request)


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


async def read_form(request: Request) -> dict[str, list[str]] | None:
    """Every field of a posted form (a field may repeat, as checkboxes do); None when over the limit."""
    try:
        await read_body(request, FORM_MAX)
    except ApiError:
        return None
    raw = await request.form()
    form: dict[str, list[str]] = {}
    for key, value in raw.multi_items():
        if isinstance(value, str):
            form.setdefault(key, []).append(value.replace("\x00", ""))
    return form


def first(form: dict[str, list[str]], key: str) -> str:
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


def render(template: str, who: Visitor, *, status_code: int = 200, binding: str | None = None,
           **context: Any) -> HTMLResponse:
    """A console page. Forms on it carry a CSRF token bound to the session (or to `binding`)."""
    bound = binding or who.binding()
    html = _environment(who.locale).get_template(template).render(
        user=who.user, csrf=csrf_token(who.svc, bound) if bound else "", babel_locale=babel_locale(who.locale),
        **context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = who.locale
    response.headers["Cache-Control"] = "no-store"
    return response


def message_page(who: Visitor, status_code: int, title: str, message: str) -> HTMLResponse:
    return render("message.html", who, status_code=status_code, title=title, message=message)


def not_found(who: Visitor) -> HTMLResponse:
    return message_page(who, 404, _(who.locale, "Not found"),
                        _(who.locale, "There is nothing here, or nothing you may see."))


def bad_form(who: Visitor) -> HTMLResponse:
    return message_page(who, 400, _(who.locale, "The form had expired"),
                        _(who.locale, "Please go back, reload the page and try again."))
