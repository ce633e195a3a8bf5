"""Signing in and out: a password checked, a one-time link spent (an invited user's first password
set from it), a fresh session started at every sign-in (no fixation), one session or every session
ended. Each is audited, a failed password too.
"""

from __future__ import annotations

from reviews.accounts import sessions, users
from reviews.accounts.users import User
from reviews.platform import audit
from reviews.platform.services import Services


async def with_password(svc: Services, email: str, password: str) -> User | None:
    """The user, when the address has an enabled account and the password is its own."""
    user = await users.verify_password(svc.pool, email, password) if email and password else None
    if user is None:
        await audit.record(svc.pool, actor=f"console:{users.normalize(email)[:200]}", action="console.sign_in_failed",
                           table="users", row_id=None, now=svc.clock.now())
    return user


async def spend_link(svc: Services, link: dict[str, int], password: str) -> User | None:
    """The link's user, once (None when it was spent, or the account disabled); `password`, when
    given, becomes theirs."""
    async with svc.pool.acquire() as conn:
        user = await users.use_link(conn, link["u"], link["n"])
        if user is not None and password:
            user = await users.set_password(conn, user.id, password)
            await audit.record(conn, actor=user.email, action="console.password_set", table="users", row_id=user.id,
                               now=svc.clock.now())
    return user


async def start(svc: Services, user: User) -> str:
    """A new session for the user: the token for its cookie."""
    now = svc.clock.now()
    token = await sessions.start(svc.pool, user, now)
    await users.signed_in(svc.pool, user.id, now)
    await audit.record(svc.pool, actor=user.email, action="console.sign_in", table="users", row_id=user.id, now=now)
    return token


async def sign_out(svc: Services, user: User, token: str | None, *, everywhere: bool) -> None:
    """End this session, or (`everywhere`) every session of the user."""
    now = svc.clock.now()
    if everywhere:
        await users.end_sessions(svc.pool, user.id)
    await sessions.end(svc.pool, token, now)
    await audit.record(svc.pool, actor=user.email, action="console.sign_out_everywhere" if everywhere
                       else "console.sign_out", table="users", row_id=user.id, now=now)
