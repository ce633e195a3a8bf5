"""Merchants' API keys: issued once, stored only as a sha256 hash with a prefix for display.

The only writer of `api_keys`.
"""

from __future__ import annotations

import hashlib
import secrets

from reviews.merchants.model import Merchant, from_row
from reviews.platform.db import Connection, Executor


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "atk_" + secrets.token_urlsafe(32)


async def add_api_key(conn: Connection, merchant_id: int) -> str:
    key = new_api_key()
    await conn.execute(
        "INSERT INTO api_keys (merchant_id, key_hash, prefix) VALUES ($1, $2, $3)",
        merchant_id, hash_key(key), key[:10],
    )
    return key


async def by_api_key(conn: Executor, key: str) -> Merchant | None:
    row = await conn.fetchrow(
        """SELECT m.* FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
           WHERE k.key_hash = $1 AND k.revoked_at IS NULL""",
        hash_key(key),
    )
    return from_row(row) if row else None
