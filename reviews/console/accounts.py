"""Managing console accounts (`attest user ...`, and later the merchants' team page): create or
extend an account and mail it a sign-in link, list, disable. Every change is audited."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from mailer.addresses import AddressError, parse
from reviews.console import signin, users
from reviews.console.users import User
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import audit
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.services import Services


async def invite(svc: Services, email: str, role: str, merchant_slug: str | None, *, actor: str,
                 locale: str = "en") -> tuple[User, str]:
    """Create the account (or give it the role), mail it a sign-in link, and return the link too,
    so the first operator of a new install can sign in without a mail server."""
    try:
        address = parse(email, smtputf8=svc.settings.smtputf8).normalized
    except AddressError as exc:
        raise ValidationError({"email": str(exc)}) from None
    merchant_id = None
    if merchant_slug:
        merchant = await merchants.by_slug(svc.pool, merchant_slug)
        if merchant is None:
            raise NotFound(f"No merchant {merchant_slug!r}.")
        merchant_id = merchant.id
    async with svc.pool.acquire() as conn:
        before = await users.by_email(conn, address)
        user = await users.create(conn, address, role, merchant_id)
        await audit.record(conn, actor=actor, action="console.user_role", table="users", row_id=user.id,
                           before=asdict(before) if before else None,
                           after={**asdict(user), "granted": role, "merchant": merchant_slug}, now=svc.clock.now())
    link = await signin.mail_link(svc, user, locale)
    return user, link


async def listing(svc: Services) -> list[dict[str, Any]]:
    return await users.listing(svc.pool)


async def disable(svc: Services, email: str, *, actor: str) -> User:
    user = await users.disable(svc.pool, email, svc.clock.now())
    if user is None:
        raise NotFound(f"No user {email!r}.")
    await audit.record(svc.pool, actor=actor, action="console.user_disabled", table="users", row_id=user.id,
                       now=svc.clock.now())
    return user


# --- a shop's team (the merchants' console) ----------------------------------------------------

class AlreadyMember(ValidationError):
    def __init__(self) -> None:
        super().__init__({"email": "is already in this shop's team: change their role instead"})


async def add_member(svc: Services, email: str, role: str, merchant: Merchant, *, actor: str,
                     locale: str = "en") -> tuple[User, str]:
    """Invite someone to a shop's team as owner, agent or viewer: `invite`, for a shop's roles only,
    and never over a role they already have there (that is a role change, with its own rule)."""
    if role not in users.MERCHANT_ROLES:
        raise ValidationError({"role": f"must be one of {', '.join(users.MERCHANT_ROLES)}"})
    try:
        address = parse(email, smtputf8=svc.settings.smtputf8).normalized
    except AddressError as exc:
        raise ValidationError({"email": str(exc)}) from None
    existing = await users.by_email(svc.pool, address)
    if existing is not None and any(m.merchant_id == merchant.id
                                    for m in await users.memberships(svc.pool, existing.id)):
        raise AlreadyMember()
    return await invite(svc, address, role, merchant.slug, actor=actor, locale=locale)


async def change_role(svc: Services, merchant: Merchant, user_id: int, role: str, *, actor: str) -> users.Member:
    """A member's new role in the shop; audited. NotFound for someone not in the team."""
    async with svc.pool.acquire() as conn, conn.transaction():
        changed = await users.set_member_role(conn, merchant.id, user_id, role)
        if changed is None:
            raise NotFound("No such member of this shop.")
        before, after = changed
        await audit.record(conn, actor=actor, action="console.member_role", table="memberships", row_id=user_id,
                           before={"email": before.email, "role": before.role, "merchant": merchant.slug},
                           after={"email": after.email, "role": after.role, "merchant": merchant.slug},
                           now=svc.clock.now())
    return after


async def remove_member(svc: Services, merchant: Merchant, user_id: int, *, actor: str) -> users.Member:
    """Take someone out of the shop's team; audited. NotFound for someone not in it."""
    async with svc.pool.acquire() as conn, conn.transaction():
        removed = await users.remove_member(conn, merchant.id, user_id)
        if removed is None:
            raise NotFound("No such member of this shop.")
        await audit.record(conn, actor=actor, action="console.member_removed", table="memberships", row_id=user_id,
                           before={"email": removed.email, "role": removed.role, "merchant": merchant.slug},
                           now=svc.clock.now())
    return removed
