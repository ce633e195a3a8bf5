"""Console sessions: a random token in a cookie scoped to /console, its hash in `console_sessions`.

The only writer of `console_sessions`. A fresh token at every sign-in (no fixation); a session
ends when signed out, after `IDLE` without a request, after `LONGEST` in all, or when the user's
epoch moves (sign out everywhere, a disabled account, a new password).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from reviews.accounts.users import User, by_id
from reviews.platform.db import Executor

COOKIE = "attest_console"
PATH = "/console"
IDLE = timedelta(hours=2)
LONGEST = timedelta(days=7)
# last_seen_at is written at most this often: a page view is then no write at all.
TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(conn: Executor, user: User, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    await conn.execute(
        """INSERT INTO console_sessions (token_hash, user_id, epoch, created_at, last_seen_at)
           VALUES ($1, $2, $3, $4, $4)""", _hash(token), user.id, user.epoch, now)
    return token


async def current(conn: Executor, token: str | None, now: datetime) -> User | None:
    """The signed-in user of this cookie, when its session still holds."""
    if not token or len(token) > 200:
        return None
    row = await conn.fetchrow(
        """SELECT s.user_id, s.epoch, s.created_at, s.last_seen_at FROM console_sessions s
           WHERE s.token_hash = $1 AND s.ended_at IS NULL""", _hash(token))
    if row is None or now - row["last_seen_at"] > IDLE or now - row["created_at"] > LONGEST:
        return None
    user = await by_id(conn, row["user_id"])
    if user is None or user.disabled or user.epoch != row["epoch"]:
        return None
    if now - row["last_seen_at"] > TOUCH_EVERY:
        await conn.execute("UPDATE console_sessions SET last_seen_at = $2 WHERE token_hash = $1", _hash(token), now)
    return user


def binding(token: str) -> str:
    """What a CSRF token of this session is bound to (never the token itself)."""
    return _hash("csrf:" + token)[:32]


async def end(conn: Executor, token: str | None, now: datetime) -> None:
    if token:
        await conn.execute("UPDATE console_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL",
                           _hash(token), now)

