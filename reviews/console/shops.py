"""What every page of the merchants' console shares: the shop chosen in the URL
(/console/m/{slug}/...), the signed-in user's role in it, and rendering with the shop's menu.

Every page and query is scoped to that merchant; a shop the user has no role in is a 404, like
an id of another shop's. Roles rank viewer < agent < owner, checked on the server for every page
and every POST (a viewer sees no reply form, and a forged POST from one is refused). An operator
acts as an owner of every shop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from reviews.accounts import users
from reviews.accounts.users import Membership
from reviews.console.web import Visitor, _, bad_form, csrf_ok, first, message_page, not_found, read_form, render
from reviews.console.web import signed_in as _signed_in
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant

RANK = {"viewer": 1, "agent": 2, "owner": 3}


@dataclass(frozen=True)
class Shop:
    who: Visitor
    merchant: Merchant
    role: str  # viewer | agent | owner
    memberships: list[Membership]

    def may(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


async def shop(request: Request, need: str = "viewer") -> Shop | Response:
    """The signed-in user's shop named in the path, when their role there is at least `need`."""
    who = await _signed_in(request)
    if isinstance(who, Response):
        return who
    assert who.user is not None
    slug = str(request.path_params.get("slug", ""))
    mine = [m for m in await users.memberships(who.svc.pool, who.user.id) if m.role in RANK]
    membership = next((m for m in mine if m.slug == slug), None)
    merchant = await merchants.by_slug(who.svc.pool, slug) if slug and len(slug) <= 100 else None
    if merchant is None:
        return not_found(who)
    if who.user.is_operator:
        role = "owner"
    elif membership is not None:
        role = membership.role
    else:
        return not_found(who)
    found = Shop(who, merchant, role, mine)
    if not found.may(need):
        return forbidden(found)
    return found


async def shop_post(request: Request, need: str) -> tuple[Shop, dict[str, list[str]]] | Response:
    """A POST in a shop's console: the role it needs, the form, its CSRF token."""
    found = await shop(request, need)
    if isinstance(found, Response):
        return found
    form = await read_form(request)
    if form is None or not csrf_ok(found.who.svc, first(form, "csrf"), found.who.binding()):
        return bad_form(found.who)
    return found, form


def forbidden(found: Shop) -> HTMLResponse:
    return message_page(found.who, 403, _(found.who.locale, "Not allowed"),
                        _(found.who.locale, "Your role in this shop does not allow this. Ask its owner."))


def render_shop(template: str, found: Shop, *, status_code: int = 200, section: str = "", **context: Any
                ) -> HTMLResponse:
    """A page of the shop's console (its template extends shop_base.html)."""
    return render(template, found.who, status_code=status_code, shop=found.merchant, role=found.role,
                  memberships=found.memberships, section=section, may=found.may, **context)


def shop_not_found(found: Shop) -> HTMLResponse:
    return not_found(found.who)
