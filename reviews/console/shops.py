"""What every page of the merchants' console shares: the shop chosen in the URL
(/console/m/{slug}/...) with the signed-in user's role in it (found by `guards.shop_page`), and
rendering with the shop's menu. Every page and query is scoped to that merchant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import HTMLResponse

from reviews.accounts.users import Membership
from reviews.console.web import Visitor, render
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


def render_shop(template: str, found: Shop, *, status_code: int = 200, section: str = "", **context: Any
                ) -> HTMLResponse:
    """A page of the shop's console (its template extends shop_base.html)."""
    return render(template, found.who, status_code=status_code, shop=found.merchant, role=found.role,
                  memberships=found.memberships, section=section, may=found.may, **context)
