"""Why a console page is not shown, and the one handler that answers for every page: the sign-in
redirect, the 404 page (also for a console URL that no route matches), the 403 page and the
expired form. Pages and their guards raise; `handle` renders.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.console.web import _, message_page, visitor


class ConsoleError(Exception):
    """A console page that is not shown; `handle` answers in its place."""


class SignInNeeded(ConsoleError):
    """Nobody is signed in: every console URL sends them to the sign-in page, and back after."""


class PageNotFound(ConsoleError):
    """Nothing here, or nothing this visitor may see: the same answer, so it tells nothing."""


class Forbidden(ConsoleError):
    """A role in the shop too low for the page or the form."""


class BadForm(ConsoleError):
    """A form without its CSRF token (or an expired one), or too large to read."""


async def handle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleError)
    if isinstance(exc, SignInNeeded):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/console/sign-in?next=" + quote(target, safe=""), status_code=303)
    who = await visitor(request)
    if isinstance(exc, Forbidden):
        return message_page(who, 403, _(who.locale, "Not allowed"),
                            _(who.locale, "Your role in this shop does not allow this. Ask its owner."))
    if isinstance(exc, BadForm):
        return message_page(who, 400, _(who.locale, "The form had expired"),
                            _(who.locale, "Please go back, reload the page and try again."))
    return await not_found_page(request)


async def not_found_page(request: Request) -> Response:
    """The console's 404, in the visitor's language; the app answers with it for /console URLs."""
    who = await visitor(request)
    return message_page(who, 404, _(who.locale, "Not found"),
                        _(who.locale, "There is nothing here, or nothing you may see."))
