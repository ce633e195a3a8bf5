"""Who may see a console page, checked before the page runs: anyone signed in, a moderator (and of
which shops), or someone with a role in the shop of the URL. Each guard is a decorator that hands
the page what it found, or raises the `errors.ConsoleError` that `errors.handle` renders; a form's
CSRF token is checked by `posted` in the page, after its guard.

Roles rank viewer < agent < owner, checked on the server for every page and every POST (a viewer
sees no reply form, and a forged POST from one is refused). An operator acts as an owner of every
shop. A shop the user has no role in is a 404, like an id of another shop's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from reviews.accounts import users
from reviews.console.errors import BadForm, Forbidden, PageNotFound, SignInNeeded
from reviews.console.shops import RANK, Shop
from reviews.console.web import PRE_COOKIE, Form, Visitor, csrf_ok, first, read_form, visitor
from reviews.merchants import store as merchants

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Desk:
    """A moderator at work: who, and the merchants whose queue they moderate (None: all)."""

    who: Visitor
    merchants: list[int] | None


async def _signed_in(request: Request) -> Visitor:
    who = await visitor(request)
    if who.user is None:
        raise SignInNeeded()
    return who


def signed_in_page(page: Callable[[Request, Visitor], Awaitable[Response]]) -> Endpoint:
    @functools.wraps(page)
    async def guarded(request: Request) -> Response:
        return await page(request, await _signed_in(request))
    return guarded


def moderator_page(page: Callable[[Request, Desk], Awaitable[Response]]) -> Endpoint:
    """A page of the moderators' desk: a 404 for anyone who moderates nothing."""
    @functools.wraps(page)
    async def guarded(request: Request) -> Response:
        who = await _signed_in(request)
        assert who.user is not None
        scope = await users.moderated_merchants(who.svc.pool, who.user)
        if scope == []:
            raise PageNotFound()
        return await page(request, Desk(who, scope))
    return guarded


async def _shop(request: Request, need: str) -> Shop:
    who = await _signed_in(request)
    assert who.user is not None
    slug = str(request.path_params.get("slug", ""))
    mine = [m for m in await users.memberships(who.svc.pool, who.user.id) if m.role in RANK]
    membership = next((m for m in mine if m.slug == slug), None)
    merchant = await merchants.by_slug(who.svc.pool, slug) if slug and len(slug) <= 100 else None
    if merchant is None:
        raise PageNotFound()
    if who.user.is_operator:
        role = "owner"
    elif membership is not None:
        role = membership.role
    else:
        raise PageNotFound()
    found = Shop(who, merchant, role, mine)
    if not found.may(need):
        raise Forbidden()
    return found


def shop_page(role: str) -> Callable[[Callable[[Request, Shop], Awaitable[Response]]], Endpoint]:
    """A page of the shop named in the path, for a role there of at least `role`."""
    def guard(page: Callable[[Request, Shop], Awaitable[Response]]) -> Endpoint:
        @functools.wraps(page)
        async def guarded(request: Request) -> Response:
            return await page(request, await _shop(request, role))
        return guarded
    return guard


async def _form(request: Request, who: Visitor, binding: str | None) -> Form:
    form = await read_form(request)
    if form is None or not csrf_ok(who.svc, first(form, "csrf"), binding):
        raise BadForm()
    return form


async def posted(request: Request, who: Visitor) -> Form:
    """The posted form, when its CSRF token is bound to this session."""
    return await _form(request, who, who.binding())


async def posted_before_sign_in(request: Request, who: Visitor) -> Form:
    """A form posted before sign-in: its CSRF token is bound to the pre-session cookie."""
    return await _form(request, who, request.cookies.get(PRE_COOKIE))
