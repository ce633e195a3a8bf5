"""A shop's team: inviting someone as owner, agent or viewer, changing a member's role, taking them
out. A shop keeps at least one owner (`users.LastOwner`). Every change is audited."""

from __future__ import annotations

from reviews.accounts import links, manage, users
from reviews.accounts.users import User
from reviews.merchants.model import Merchant
from reviews.platform import audit
from reviews.platform.errors import NotFound, ValidationError
from reviews.platform.services import Services


class AlreadyMember(ValidationError):
    def __init__(self) -> None:
        super().__init__({"email": "is already in this shop's team: change their role instead"})


async def add_member(svc: Services, email: str, role: str, merchant: Merchant, *, actor: str,
                     locale: str = "en") -> tuple[User, str]:
    """Invite someone to a shop's team as owner, agent or viewer: `invite`, for a shop's roles only,
    and never over a role they already have there (that is a role change, with its own rule)."""
    if role not in users.MERCHANT_ROLES:
        raise ValidationError({"role": f"must be one of {', '.join(users.MERCHANT_ROLES)}"})
    address = manage.mailable(svc, email)
    existing = await users.by_email(svc.pool, address)
    if existing is not None and any(m.merchant_id == merchant.id
                                    for m in await users.memberships(svc.pool, existing.id)):
        raise AlreadyMember()
    return await manage.invite(svc, address, role, merchant.slug, actor=actor, locale=locale)


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


class NotInvited(ValidationError):
    def __init__(self) -> None:
        super().__init__({"member": "has signed in already: there is no invitation to resend"})


async def resend_invitation(svc: Services, merchant: Merchant, user_id: int, *, actor: str,
                            locale: str = "en") -> str:
    """Mail a member who never signed in a new invitation, valid 7 days; the earlier link stops working.
    NotFound for someone not in the team; audited."""
    member = next((m for m in await users.members(svc.pool, merchant.id) if m.user_id == user_id), None)
    if member is None:
        raise NotFound("No such member of this shop.")
    if member.has_password:
        raise NotInvited()
    async with svc.pool.acquire() as conn, conn.transaction():
        user = await users.renew_link(conn, user_id)
        if user is None:
            raise NotFound("No such member of this shop.")
        await audit.record(conn, actor=actor, action="console.invitation_resent", table="users", row_id=user_id,
                           after={"email": user.email, "merchant": merchant.slug}, now=svc.clock.now())
    return await links.mail_link(svc, user, locale)
