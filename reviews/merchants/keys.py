"""Merchants' API keys: issued once, stored only as a sha256 hash with a prefix for display.

The only writer of `api_keys`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from reviews.merchants.model import Merchant, from_row
from reviews.platform.db import Executor

NAME_MAX = 100
# Last use is written at most this often per key: a busy shop's every request is not a row write.
LAST_USE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKey:
    """A key as the console lists it: never the key, only its first characters."""

    id: int
    name: str | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _entry(r: asyncpg.Record) -> ApiKey:
    return ApiKey(r["id"], r["name"], r["prefix"], r["created_at"], r["last_used_at"], r["revoked_at"])


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "atk_" + secrets.token_urlsafe(32)


async def add_api_key(conn: Executor, merchant_id: int) -> str:
    """A new key; it is returned once and only its hash is kept."""
    _listed, key = await issue(conn, merchant_id)
    return key


async def issue(conn: Executor, merchant_id: int, name: str | None = None, now: datetime | None = None
                ) -> tuple[ApiKey, str]:
    """A new key with its name, as listed, and the key itself: returned this once, only its hash kept."""
    key = new_api_key()
    row = await conn.fetchrow(
        """INSERT INTO api_keys (merchant_id, key_hash, prefix, name, created_at)
           VALUES ($1, $2, $3, $4, coalesce($5, now())) RETURNING *""",
        merchant_id, hash_key(key), key[:10], (name or "").strip()[:NAME_MAX] or None, now,
    )
    assert row is not None  # an INSERT ... RETURNING yields its row
    return _entry(row), key


async def by_api_key(conn: Executor, key: str, now: datetime | None = None) -> Merchant | None:
    """The merchant of a key that is not revoked. With `now`, the key's last use is recorded in the
    same statement (at most once per `LAST_USE_EVERY`)."""
    row = await conn.fetchrow(
        """WITH k AS (SELECT id, merchant_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL),
                used AS (UPDATE api_keys SET last_used_at = $2 WHERE $2::timestamptz IS NOT NULL
                           AND id = (SELECT id FROM k)
                           AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - $3::interval))
           SELECT m.* FROM k JOIN merchants m ON m.id = k.merchant_id""",
        hash_key(key), now, LAST_USE_EVERY,
    )
    return from_row(row) if row else None


async def listed(conn: Executor, merchant_id: int) -> list[ApiKey]:
    """The merchant's keys, the ones in use first, newest first."""
    rows = await conn.fetch(
        """SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys WHERE merchant_id = $1
           ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC""", merchant_id)
    return [_entry(r) for r in rows]


async def revoke(conn: Executor, merchant_id: int, key_id: int, now: datetime) -> ApiKey | None:
    """Revoke one of the merchant's keys (only its own); None when it has no such key in use."""
    r = await conn.fetchrow(
        """UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND merchant_id = $2 AND revoked_at IS NULL
           RETURNING id, name, prefix, created_at, last_used_at, revoked_at""", key_id, merchant_id, now)
    return _entry(r) if r else None
