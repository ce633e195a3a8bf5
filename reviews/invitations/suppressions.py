"""Addresses that must not be mailed again (unsubscribed, hard bounces), per merchant or everywhere.

Stored only as keyed hashes, and never erased (see `reviews.privacy.buyer_data`). The only writer
of `suppressions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from reviews.invitations import store
from reviews.platform.db import Connection, Executor


async def reason_for(conn: Executor, merchant_id: int, address_hash: str | None) -> str | None:
    """Why this merchant may not mail the address ('unsubscribed', 'hard_bounce', ...), or None."""
    if not address_hash:
        return None
    reason: str | None = await conn.fetchval(
        """SELECT reason FROM suppressions WHERE address_hash = $2 AND (merchant_id = $1 OR merchant_id IS NULL)
           ORDER BY merchant_id NULLS FIRST LIMIT 1""",
        merchant_id, address_hash,
    )
    return reason


async def for_hashes(conn: Executor, address_hashes: Sequence[str]) -> dict[tuple[int | None, str], str]:
    """(merchant id, or None for everywhere; address hash) → reason, for a batch of addresses."""
    return {
        (r["merchant_id"], r["address_hash"]): r["reason"]
        for r in await conn.fetch(
            "SELECT merchant_id, address_hash, reason FROM suppressions WHERE address_hash = ANY($1)",
            list(address_hashes))
    }


class Listed(TypedDict):
    merchant_id: int | None
    reason: str
    created_at: datetime


async def listed(conn: Executor, merchant_id: int, address_hashes: Sequence[str]) -> list[Listed]:
    """This merchant's (and the global) suppressions of these addresses, for a buyer's data export."""
    rows = await conn.fetch(
        """SELECT merchant_id, reason, created_at FROM suppressions
           WHERE address_hash = ANY($2::text[]) AND (merchant_id = $1 OR merchant_id IS NULL) ORDER BY id""",
        merchant_id, sorted(address_hashes),
    )
    return [Listed(merchant_id=r["merchant_id"], reason=r["reason"], created_at=r["created_at"]) for r in rows]


async def add(conn: Executor, merchant_id: int | None, address_hash: str, reason: str, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO suppressions (merchant_id, address_hash, reason, created_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        merchant_id, address_hash, reason, now,
    )


async def unsubscribe(conn: Connection, merchant_id: int | None, address_hash: str, now: datetime) -> None:
    """The buyer asked to hear no more (from this merchant, or from any: `merchant_id` None). What
    was already scheduled for the address is not sent either."""
    async with conn.transaction():
        await add(conn, merchant_id, address_hash, "unsubscribed", now)
        await store.cancel_for_address(conn, merchant_id, address_hash, "unsubscribed", now)
