"""Managing accounts (`attest user ...`, and a shop's team through `team`): create or extend an
account and mail it a sign-in link, list, disable. Every change is audited."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from mailer.addresses import AddressError, parse
from reviews.accounts import links, users
from reviews.accounts.users import User
from reviews.merchants import store as merchants
from reviews.platform import audit
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.services import Services


def mailable(svc: Services, email: str) -> str:
    """The address, normalised, when a sign-in link can be mailed to it."""
    try:
        return parse(email, smtputf8=svc.settings.smtputf8).normalized
    except AddressError as exc:
        raise ValidationError({"email": str(exc)}) from None


async def invite(svc: Services, email: str, role: str, merchant_slug: str | None, *, actor: str,
                 locale: str = "en", all_merchants: bool = False) -> tuple[User, str]:
    """Create the account (or give it the role), mail it a sign-in link, and return the link too,
    so the first operator of a new install can sign in without a mail server."""
    address = mailable(svc, email)
    merchant_id = None
    if merchant_slug:
        merchant = await merchants.by_slug(svc.pool, merchant_slug)
        if merchant is None:
            raise NotFound(f"No merchant {merchant_slug!r}.")
        merchant_id = merchant.id
    async with svc.pool.acquire() as conn:
        before = await users.by_email(conn, address)
        user = await users.create(conn, address, role, merchant_id, all_merchants=all_merchants)
        await audit.record(conn, actor=actor, action="console.user_role", table="users", row_id=user.id,
                           before=asdict(before) if before else None,
                           after={**asdict(user), "granted": role, "merchant": merchant_slug,
                                  "all_merchants": all_merchants}, now=svc.clock.now())
    link = await links.mail_link(svc, user, locale)
    return user, link


async def listing(svc: Services) -> list[dict[str, Any]]:
    """Every account, named as the console names it: an account of the install is an operator or a
    moderator; any other's role is the one it holds in its shops (owner, agent, viewer)."""
    found = await users.listing(svc.pool)
    for row in found:
        if row["role"] == "member":
            held = row["memberships"] if isinstance(row["memberships"], list) else []
            roles = sorted({str(m.get("role")) for m in held if isinstance(m, dict)}, key=_RANKED.index)
            row["role"] = ", ".join(roles) if roles else "no role"
    return found


_RANKED = ["owner", "agent", "viewer", "moderator", "operator", "None"]


async def disable(svc: Services, email: str, *, actor: str) -> User:
    user = await users.disable(svc.pool, email, svc.clock.now())
    if user is None:
        raise NotFound(f"No user {email!r}.")
    await audit.record(svc.pool, actor=actor, action="console.user_disabled", table="users", row_id=user.id,
                       now=svc.clock.now())
    return user
