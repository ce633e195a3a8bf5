"""A shop's team (owner): who has which role, inviting someone by email as owner, agent or viewer
(`team.add_member` mails them an invitation, valid 7 days), resending it to someone who has not
signed in yet (the earlier link stops working), changing a role and removing a member. A shop
keeps at least one owner. Every change is audited by `reviews.accounts.team`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.accounts import team, users
from reviews.console.errors import PageNotFound
from reviews.console.guards import posted, shop_page
from reviews.console.shops import Shop, render_shop
from reviews.console.web import _, first
from reviews.platform.errors import NotFound, ValidationError


def role_labels(locale: str) -> dict[str, str]:
    return {"owner": _(locale, "owner: everything, settings and team included"),
            "agent": _(locale, "agent: works with reviews and invitations"),
            "viewer": _(locale, "viewer: sees, changes nothing")}


async def _render(found: Shop, *, status_code: int = 200, errors: dict[str, str] | None = None,
                  email: str = "", role: str = "agent", done: str | None = None) -> Response:
    return render_shop("shop_team.html", found, section="team", status_code=status_code,
                       members=await users.members(found.who.svc.pool, found.merchant.id),
                       roles=users.MERCHANT_ROLES, role_labels=role_labels(found.who.locale), errors=errors or {},
                       email=email, chosen_role=role, done=done, me=found.who.user)


@shop_page("owner")
async def team_page(request: Request, found: Shop) -> Response:
    done = request.query_params.get("done")
    return await _render(found, done=done if done in ("invited", "role", "removed", "resent") else None)


def _problem(locale: str, exc: ValidationError) -> dict[str, str]:
    """The refusal in words, beside its field."""
    if isinstance(exc, users.LastOwner):
        return {"role": _(locale, "The shop needs at least one owner: make someone else an owner first.")}
    if isinstance(exc, team.AlreadyMember):
        return {"email": _(locale, "This person is already in the team: change their role below.")}
    return dict(exc.fields)


def _done(found: Shop, what: str) -> Response:
    return RedirectResponse(f"/console/m/{found.merchant.slug}/team?done={what}", status_code=303)


@shop_page("owner")
async def invite(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    assert found.who.user is not None
    email, role = first(form, "email").strip()[:320], first(form, "role")
    try:
        await team.add_member(found.who.svc, email, role, found.merchant, actor=found.who.user.email,
                              locale=found.who.locale)
    except ValidationError as exc:
        return await _render(found, status_code=422, errors=_problem(found.who.locale, exc), email=email,
                             role=role if role in users.MERCHANT_ROLES else "agent")
    return _done(found, "invited")


@shop_page("owner")
async def change_role(request: Request, found: Shop) -> Response:
    form = await posted(request, found.who)
    assert found.who.user is not None
    user_id: int = request.path_params["user_id"]
    try:
        await team.change_role(found.who.svc, found.merchant, user_id, first(form, "role"),
                               actor=found.who.user.email)
    except NotFound:
        raise PageNotFound() from None
    except ValidationError as exc:
        return await _render(found, status_code=422, errors=_problem(found.who.locale, exc))
    return _done(found, "role")


@shop_page("owner")
async def remove(request: Request, found: Shop) -> Response:
    await posted(request, found.who)
    assert found.who.user is not None
    user_id: int = request.path_params["user_id"]
    try:
        await team.remove_member(found.who.svc, found.merchant, user_id, actor=found.who.user.email)
    except NotFound:
        raise PageNotFound() from None
    except ValidationError as exc:
        return await _render(found, status_code=422, errors=_problem(found.who.locale, exc))
    return _done(found, "removed")


@shop_page("owner")
async def resend(request: Request, found: Shop) -> Response:
    await posted(request, found.who)
    assert found.who.user is not None
    try:
        await team.resend_invitation(found.who.svc, found.merchant, request.path_params["user_id"],
                                     actor=found.who.user.email, locale=found.who.locale)
    except NotFound:
        raise PageNotFound() from None
    except ValidationError:
        return await _render(found, status_code=409, errors={
            "role": _(found.who.locale, "They have signed in already: there is no invitation to resend.")})
    return _done(found, "resent")
