"""The console's home: the user's shops, the moderation counts for a moderator, and the single-key
shortcuts setting (the desk's keyboard shortcuts, one setting per user)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.accounts import users
from reviews.console.desk.queue import age
from reviews.console.guards import posted, signed_in_page
from reviews.console.web import Visitor, first, render
from reviews.moderation import queue
from reviews.platform.settings import SUPPORTED_LOCALES


@signed_in_page
async def home(request: Request, who: Visitor) -> Response:
    """Where the console opens: a user of one shop who moderates nothing lands in its inbox."""
    return await _home(who, landing=True)


@signed_in_page
async def account(request: Request, who: Visitor) -> Response:
    """The same page without the landing: the user's shops, shortcuts, signing out everywhere."""
    return await _home(who, landing=False, saved=request.query_params.get("saved"))


async def _home(who: Visitor, *, landing: bool, saved: str | None = None) -> Response:
    assert who.user is not None
    shops = await users.memberships(who.svc.pool, who.user.id)
    merchants = await users.moderated_merchants(who.svc.pool, who.user)
    if merchants == [] and landing and len(shops) == 1:
        return RedirectResponse(f"/console/m/{quote(shops[0].slug, safe='')}", status_code=303)
    if merchants == []:
        return render("home.html", who, counts=None, oldest=None, shops=shops, saved=saved)
    counts = await queue.counts(who.svc.pool, merchants)
    oldest = await queue.oldest_held(who.svc.pool, merchants)
    return render("home.html", who, counts=counts, oldest=age(who.locale, oldest, who.svc.clock.now()), shops=shops,
                  saved=saved)


@signed_in_page
async def shortcuts(request: Request, who: Visitor) -> Response:
    form = await posted(request, who)
    assert who.user is not None
    await users.set_shortcuts(who.svc.pool, who.user.id, first(form, "shortcuts") == "on")
    return RedirectResponse("/console", status_code=303)


@signed_in_page
async def language(request: Request, who: Visitor) -> Response:
    """The console's language, for every page and for the emails to this user; blank: the browser's."""
    form = await posted(request, who)
    assert who.user is not None
    chosen = first(form, "language")
    await users.set_locale(who.svc.pool, who.user.id, chosen if chosen in SUPPORTED_LOCALES else None)
    return RedirectResponse("/console/account?saved=language", status_code=303)
