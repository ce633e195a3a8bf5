"""The people who sign in to /console: their accounts, passwords, roles and memberships.

The only writer of `users` and `memberships`. Passwords are argon2id hashes (argon2-cffi); a
password is never logged, echoed or stored otherwise. A user's `epoch` is part of every
session cookie, so raising it (sign out everywhere, disabling, a new password) ends them all.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ValidationError

ROLES = ("operator", "moderator", "owner", "agent", "viewer")
MERCHANT_ROLES = ("owner", "agent", "viewer")
PASSWORD_MIN = 12
PASSWORD_MAX = 256  # argon2 takes any length; a cap keeps a megabyte "password" from costing a core

_hasher = PasswordHasher()
# Verifying against this when the account does not exist takes as long as a real check, so the
# time of an answer does not tell which addresses have accounts.
_DUMMY_HASH = _hasher.hash("attest-no-such-user-placeholder")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str  # operator | moderator | member
    epoch: int
    link_nonce: int
    shortcuts: bool
    locale: str | None
    disabled: bool
    has_password: bool

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True)
class Membership:
    merchant_id: int
    slug: str
    name: str
    role: str


def _user(row: asyncpg.Record) -> User:
    return User(row["id"], row["email"], row["role"], row["epoch"], row["link_nonce"], row["shortcuts"],
                row["locale"], row["disabled_at"] is not None, row["password_hash"] is not None)


def normalize(email: str) -> str:
    return email.strip().lower()


# NIST SP 800-63B: length, and no password that is known, guessable or about the account itself.
_COMMON_FILE = Path(__file__).resolve().parent / "common_passwords.txt"
_SEQUENCES = ("01234567890123456789", "98765432109876543210", "abcdefghijklmnopqrstuvwxyz",
              "zyxwvutsrqponmlkjihgfedcba", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm",
              "azertyuiopqsdfghjklmwxcvbn", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")
# Words a guesser tries first with digits or symbols around them.
_BASE_WORDS = ("password", "passwort", "contraseña", "motdepasse", "haslo", "parola", "attest", "qwerty",
               "letmein", "welcome", "admin", "iloveyou", "sunshine", "football", "monkey", "dragon")


@cache
def _common() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password will not do, as a code ("length", "guessable", "email"), or None."""
    if len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX:
        return "length"
    folded = password.casefold()
    core = folded.strip(string.digits + string.punctuation + string.whitespace)
    if (not password.strip() or len(set(folded)) < 4 or folded in _common()
            or any(folded in sequence for sequence in _SEQUENCES) or core in _BASE_WORDS
            or any(core == word * (len(core) // len(word)) for word in _BASE_WORDS if len(word) <= len(core))
            or _repeats(folded)):
        return "guessable"
    address = normalize(email)
    local = address.partition("@")[0]
    if address and (address in folded or (len(local) >= 4 and local in folded)):
        return "email"
    return None


def _repeats(folded: str) -> bool:
    """One short piece said again and again ("abcabcabcabc", "passwordpassword")."""
    return any(len(folded) % n == 0 and folded == folded[:n] * (len(folded) // n)
               for n in range(1, len(folded) // 2 + 1))


def check_password(password: str, email: str = "") -> None:
    problem = password_problem(password, email)
    if problem == "length":
        raise ValidationError({"password": f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"})
    if problem == "guessable":
        raise ValidationError({"password": "is too easy to guess (a common, repeated or sequential password)"})
    if problem == "email":
        raise ValidationError({"password": "must not contain the account's email address"})


async def create(conn: Connection, email: str, role: str, merchant_id: int | None, *,
                 all_merchants: bool = False) -> User:
    """A new account (no password yet: it is set from a sign-in link), or a new role of an existing one.
    Operators and moderators are roles of the install; the others need a merchant. A moderator's scope
    is named: one merchant more for each call, or every merchant with `all_merchants`; it is kept apart
    from the shop roles, so neither ever overwrites the other."""
    if role not in ROLES:
        raise ValidationError({"role": f"must be one of {', '.join(ROLES)}"})
    if role in MERCHANT_ROLES and merchant_id is None:
        article = "an" if role[0] in "aeiou" else "a"
        raise ValidationError({"merchant": f"{article} {role} belongs to a merchant: name it"})
    if role == "operator" and merchant_id is not None:
        raise ValidationError({"merchant": "an operator sees every merchant: name none"})
    if role == "moderator" and (merchant_id is None) == (not all_merchants):
        raise ValidationError({"merchant": "a moderator moderates the merchants named, one at a time, or every "
                                           "merchant: name one, or ask for all of them"})
    if all_merchants and role != "moderator":
        raise ValidationError({"merchant": "only a moderator can be given every merchant"})
    install_role = role if role in ("operator", "moderator") else "member"
    async with conn.transaction():
        row = await conn.fetchrow(
            """INSERT INTO users (email, role, moderates_all) VALUES ($1, $2, $3)
               ON CONFLICT (email) DO UPDATE SET role = CASE
                   WHEN users.role = 'operator' OR EXCLUDED.role = 'operator' THEN 'operator'
                   WHEN users.role = 'moderator' OR EXCLUDED.role = 'moderator' THEN 'moderator'
                   ELSE 'member' END,
                   moderates_all = users.moderates_all OR EXCLUDED.moderates_all
               RETURNING *""",
            normalize(email), install_role, all_merchants)
        assert row is not None
        if role == "moderator" and merchant_id is not None:
            await conn.execute(
                """INSERT INTO moderator_scopes (user_id, merchant_id) VALUES ($1, $2)
                   ON CONFLICT (user_id, merchant_id) DO NOTHING""", row["id"], merchant_id)
        elif merchant_id is not None:
            await conn.execute(
                """INSERT INTO memberships (user_id, merchant_id, role) VALUES ($1, $2, $3)
                   ON CONFLICT (user_id, merchant_id) DO UPDATE SET role = EXCLUDED.role""",
                row["id"], merchant_id, role)
    return _user(row)


async def by_id(conn: Executor, user_id: int) -> User | None:
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
    return _user(row) if row else None


async def by_email(conn: Executor, email: str) -> User | None:
    row = await conn.fetchrow("SELECT * FROM users WHERE email = $1", normalize(email))
    return _user(row) if row else None


async def verify_password(conn: Executor, email: str, password: str) -> User | None:
    """The user, when the address has an enabled account and the password is its own."""
    row = await conn.fetchrow("SELECT * FROM users WHERE email = $1", normalize(email))
    stored = row["password_hash"] if row is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password[:PASSWORD_MAX])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or stored is None or row["disabled_at"] is not None:
        return None
    return _user(row)


async def set_password(conn: Connection, user_id: int, password: str) -> User:
    """A new password ends every other session (the epoch moves)."""
    email = await conn.fetchval("SELECT email FROM users WHERE id = $1", user_id)
    check_password(password, email or "")
    row = await conn.fetchrow(
        "UPDATE users SET password_hash = $2, epoch = epoch + 1 WHERE id = $1 RETURNING *",
        user_id, _hasher.hash(password))
    assert row is not None
    return _user(row)


async def renew_link(conn: Executor, user_id: int) -> User | None:
    """Move the nonce without spending a link: every link mailed before stops working (a resent invitation)."""
    row = await conn.fetchrow(
        "UPDATE users SET link_nonce = link_nonce + 1 WHERE id = $1 AND disabled_at IS NULL RETURNING *", user_id)
    return _user(row) if row else None


async def use_link(conn: Connection, user_id: int, nonce: int) -> User | None:
    """Spend a sign-in link: only the link carrying the current nonce works, and once."""
    row = await conn.fetchrow(
        """UPDATE users SET link_nonce = link_nonce + 1 WHERE id = $1 AND link_nonce = $2 AND disabled_at IS NULL
           RETURNING *""", user_id, nonce)
    return _user(row) if row else None


async def signed_in(conn: Executor, user_id: int, now: datetime) -> None:
    await conn.execute("UPDATE users SET last_sign_in_at = $2 WHERE id = $1", user_id, now)


async def end_sessions(conn: Executor, user_id: int) -> None:
    """Sign out everywhere."""
    await conn.execute("UPDATE users SET epoch = epoch + 1 WHERE id = $1", user_id)


async def disable(conn: Executor, email: str, now: datetime) -> User | None:
    row = await conn.fetchrow(
        "UPDATE users SET disabled_at = coalesce(disabled_at, $2), epoch = epoch + 1 WHERE email = $1 RETURNING *",
        normalize(email), now)
    return _user(row) if row else None


async def set_locale(conn: Executor, user_id: int, locale: str | None) -> None:
    """The console's language the user chose (None: their browser's); their emails follow it too."""
    await conn.execute("UPDATE users SET locale = $2 WHERE id = $1", user_id, locale)


async def set_shortcuts(conn: Executor, user_id: int, on: bool) -> None:
    await conn.execute("UPDATE users SET shortcuts = $2 WHERE id = $1", user_id, on)


async def memberships(conn: Executor, user_id: int) -> list[Membership]:
    rows = await conn.fetch(
        """SELECT m.id, m.slug, m.name, s.role FROM memberships s JOIN merchants m ON m.id = s.merchant_id
           WHERE s.user_id = $1 ORDER BY m.name, m.slug""", user_id)
    return [Membership(r["id"], r["slug"], r["name"], r["role"]) for r in rows]


@dataclass(frozen=True)
class Member:
    """Someone with a role in a shop, as its team page lists them."""

    user_id: int
    email: str
    role: str  # owner | agent | viewer
    since: datetime
    last_sign_in_at: datetime | None
    has_password: bool
    disabled: bool


class LastOwner(ValidationError):
    """A shop keeps at least one owner: the last one can be neither removed nor given another role."""

    def __init__(self) -> None:
        super().__init__({"role": "the shop's last owner stays an owner"})


async def members(conn: Executor, merchant_id: int) -> list[Member]:
    rows = await conn.fetch(
        """SELECT u.id, u.email, s.role, s.created_at, u.last_sign_in_at, u.password_hash IS NOT NULL AS has_password,
                  u.disabled_at IS NOT NULL AS disabled
           FROM memberships s JOIN users u ON u.id = s.user_id
           WHERE s.merchant_id = $1 AND s.role IN ('owner', 'agent', 'viewer')
           ORDER BY CASE s.role WHEN 'owner' THEN 0 WHEN 'agent' THEN 1 ELSE 2 END, u.email""", merchant_id)
    return [Member(r["id"], r["email"], r["role"], r["created_at"], r["last_sign_in_at"], r["has_password"],
                   r["disabled"]) for r in rows]


async def _other_owners(conn: Connection, merchant_id: int, user_id: int) -> int:
    # The shop's memberships locked, so two owners removing each other at once cannot both succeed.
    rows = await conn.fetch(
        "SELECT user_id, role FROM memberships WHERE merchant_id = $1 ORDER BY user_id FOR UPDATE", merchant_id)
    return sum(1 for r in rows if r["role"] == "owner" and r["user_id"] != user_id)


async def set_member_role(conn: Connection, merchant_id: int, user_id: int, role: str
                          ) -> tuple[Member, Member] | None:
    """Change a member's role in the shop (owner, agent or viewer): the member before and after,
    None when they are no member. Refuses (LastOwner) to leave the shop without an owner."""
    if role not in MERCHANT_ROLES:
        raise ValidationError({"role": f"must be one of {', '.join(MERCHANT_ROLES)}"})
    async with conn.transaction():
        others = await _other_owners(conn, merchant_id, user_id)
        before = next((m for m in await members(conn, merchant_id) if m.user_id == user_id), None)
        if before is None:
            return None
        if before.role == "owner" and role != "owner" and others == 0:
            raise LastOwner()
        await conn.execute("UPDATE memberships SET role = $3 WHERE user_id = $1 AND merchant_id = $2",
                           user_id, merchant_id, role)
    return before, Member(before.user_id, before.email, role, before.since, before.last_sign_in_at,
                          before.has_password, before.disabled)


async def remove_member(conn: Connection, merchant_id: int, user_id: int) -> Member | None:
    """Take a member out of the shop (their account stays, with its other shops); None when they
    are no member. Refuses (LastOwner) to remove the last owner. Their sessions in this shop end at
    once: every page checks the membership."""
    async with conn.transaction():
        others = await _other_owners(conn, merchant_id, user_id)
        before = next((m for m in await members(conn, merchant_id) if m.user_id == user_id), None)
        if before is None:
            return None
        if before.role == "owner" and others == 0:
            raise LastOwner()
        await conn.execute("DELETE FROM memberships WHERE user_id = $1 AND merchant_id = $2", user_id, merchant_id)
    return before


async def moderated_merchants(conn: Executor, user: User) -> list[int] | None:
    """The merchants whose queue the user moderates: None for every merchant, only for an operator or
    a moderator made one for every merchant explicitly; else the merchants named in their scope, and []
    (nothing) for anyone else or a moderator with no scope: it fails closed."""
    if user.role == "operator":
        return None
    if user.role != "moderator":
        return []
    row = await conn.fetchrow(
        """SELECT u.moderates_all,
                  ARRAY(SELECT merchant_id FROM moderator_scopes WHERE user_id = u.id ORDER BY merchant_id) AS ids
           FROM users u WHERE u.id = $1""", user.id)
    if row is None:
        return []
    return None if row["moderates_all"] else [int(i) for i in row["ids"]]


async def listing(conn: Executor) -> list[dict[str, object]]:
    rows = await conn.fetch(
        """SELECT u.id, u.email, u.role, u.moderates_all, u.disabled_at, u.last_sign_in_at,
                  u.password_hash IS NOT NULL AS has_password,
                  coalesce((SELECT jsonb_agg(jsonb_build_object('merchant', m.slug, 'role', s.role) ORDER BY m.slug)
                            FROM memberships s JOIN merchants m ON m.id = s.merchant_id WHERE s.user_id = u.id),
                           '[]'::jsonb) AS memberships,
                  ARRAY(SELECT m.slug FROM moderator_scopes c JOIN merchants m ON m.id = c.merchant_id
                        WHERE c.user_id = u.id ORDER BY m.slug) AS moderates
           FROM users u ORDER BY u.email""")
    return [{"email": r["email"], "role": r["role"], "memberships": r["memberships"],
             **({"moderates": "every merchant" if r["moderates_all"] else list(r["moderates"])}
                if r["role"] == "moderator" else {}),
             "password_set": r["has_password"], "disabled": r["disabled_at"] is not None,
             "last_sign_in_at": r["last_sign_in_at"].isoformat() if r["last_sign_in_at"] else None} for r in rows]
