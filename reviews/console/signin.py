"""The sign-in pages of /console: a password, or a one-time link mailed to the address (which is
also how an invited user sets their first password), signing out, and signing out everywhere.

Attempts are limited per account and per client address (keyed hashes, as every rate limit). The
sessions, the links and the audit of each sign-in and sign-out are `reviews.accounts`'
(`access`, `links`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.accounts import access, links, users
from reviews.accounts.users import User
from reviews.console.guards import posted, posted_before_sign_in, signed_in_page
from reviews.console.web import (
    PRE_COOKIE,
    Visitor,
    _,
    clear_session_cookie,
    first,
    message_page,
    pre_binding,
    render,
    safe_next,
    set_pre_cookie,
    set_session_cookie,
    visitor,
)
from reviews.platform.http import client_ip
from reviews.platform.ratelimit import Limit, RateLimiter
from reviews.platform.services import Services

# Password guesses: ten for one account from one client lock only that client out of it for a quarter
# of an hour; a client is held at thirty guesses over any accounts; an account at a hundred an hour from
# everywhere (a spread guess), a pace no owner's own typing reaches. Asking for a sign-in link counts
# apart, so guesses at an owner's password never lock the owner out of the link that lets them in.
PER_ACCOUNT_CLIENT = Limit("console-sign-in-account-client", 10, 900)
PER_CLIENT = Limit("console-sign-in-client", 30, 900)
PER_ACCOUNT = Limit("console-sign-in-account", 100, 3600)
LINK_PER_ACCOUNT = Limit("console-link-account", 5, 900)
LINK_PER_CLIENT = Limit("console-link-client", 30, 900)


def _form(who: Visitor, request: Request, *, status_code: int = 200, **context: Any) -> Response:
    value, fresh = pre_binding(request)
    response = render("sign_in.html", who, status_code=status_code, binding=value,
                      next=safe_next(request.query_params.get("next") or context.pop("next", None)), **context)
    if fresh:
        set_pre_cookie(response, who.svc, value)
    return response


def _unusable(who: Visitor) -> Response:
    return message_page(who, 410, _(who.locale, "This link cannot be used"), _(
        who.locale, "Sign-in links work once and for 15 minutes, invitations for 7 days. Ask for a new link on the "
                    "sign-in page, or ask the shop's owner to resend your invitation."))


async def sign_in_page(request: Request) -> Response:
    who = await visitor(request)
    if who.user is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _form(who, request)


async def _limited(svc: Services, request: Request, email: str, *, link: bool = False) -> int:
    """Seconds to wait (the 429's Retry-After), or 0 while within the limits."""
    account, client = users.normalize(email), client_ip(request) or "unknown"
    checks = [(LINK_PER_ACCOUNT, account), (LINK_PER_CLIENT, client)] if link else [
        (PER_ACCOUNT_CLIENT, f"{account}|{client}"), (PER_CLIENT, client), (PER_ACCOUNT, account)]
    decision = await RateLimiter(svc.settings.secret_key).hit(svc.pool, checks, svc.clock.now())
    return decision.retry_after


def _too_many(response: Response, seconds: int) -> Response:
    response.headers["Retry-After"] = str(seconds)
    return response


async def sign_in(request: Request) -> Response:
    who = await visitor(request)
    form = await posted_before_sign_in(request, who)
    svc = who.svc
    email, password, target = first(form, "email").strip(), first(form, "password"), first(form, "next")
    if wait := await _limited(svc, request, email):
        return _too_many(_form(who, request, status_code=429, email=email, next=target, error=_(
            who.locale, "Too many attempts. Wait a quarter of an hour, or ask for a sign-in link.")), wait)
    user = await access.with_password(svc, email, password)
    if user is None:
        return _form(who, request, status_code=401, email=email, next=target,
                     error=_(who.locale, "The email address or the password is wrong."))
    return await _start(svc, user, safe_next(target))


async def _start(svc: Services, user: User, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, svc, await access.start(svc, user))
    return response


async def request_link(request: Request) -> Response:
    who = await visitor(request)
    form = await posted_before_sign_in(request, who)
    svc = who.svc
    email = first(form, "email").strip()
    if wait := await _limited(svc, request, email, link=True):
        return _too_many(_form(who, request, status_code=429, email=email,
                               error=_(who.locale, "Too many attempts. Wait a quarter of an hour and try again.")),
                         wait)
    user = await users.by_email(svc.pool, email) if email else None
    await links.queue_mail(svc.pool, user, who.locale, svc.clock.now())
    # The same answer whether or not the address has an account: the page tells nobody who has one.
    return message_page(who, 200, _(who.locale, "Check your email"), _(
        who.locale, "If an account exists for this address, a sign-in link is on its way. It works once, "
                    "for 15 minutes."))


async def link_page(request: Request) -> Response:
    """A GET changes nothing (mail scanners open links): the page asks for a click, or a password."""
    who = await visitor(request)
    payload = links.load_link(who.svc, request.path_params["token"])
    user = await users.by_id(who.svc.pool, payload["u"]) if payload else None
    if payload is None or user is None or user.disabled or user.link_nonce != payload["n"]:
        return _unusable(who)
    value, fresh = pre_binding(request)
    response = render("link.html", who, binding=value, email=user.email, needs_password=not user.has_password)
    if fresh:
        set_pre_cookie(response, who.svc, value)
    return response


async def use_link(request: Request) -> Response:
    who = await visitor(request)
    form = await posted_before_sign_in(request, who)
    svc = who.svc
    payload = links.load_link(svc, request.path_params["token"])
    if payload is None:
        return _unusable(who)
    password = first(form, "password")
    known = await users.by_id(svc.pool, payload["u"])
    if known is not None and (password or not known.has_password):
        problem = users.password_problem(password, known.email)
        if problem is not None:
            words = {"guessable": _(who.locale, "This password is too easy to guess: choose a less common one."),
                     "email": _(who.locale, "Choose a password that does not contain your email address.")}
            return render("link.html", who, status_code=422, binding=request.cookies.get(PRE_COOKIE),
                          email=known.email, needs_password=not known.has_password,
                          error=words.get(problem) or _(who.locale, "Choose a password of at least 12 characters."))
    user = await access.spend_link(svc, payload, password)
    if user is None:
        return _unusable(who)
    return await _start(svc, user, "/console")


@signed_in_page
async def sign_out(request: Request, found: Visitor) -> Response:
    form = await posted(request, found)
    assert found.user is not None
    await access.sign_out(found.svc, found.user, found.token, everywhere=first(form, "everywhere") == "1")
    response = RedirectResponse("/console/sign-in", status_code=303)
    clear_session_cookie(response, found.svc)
    return response
