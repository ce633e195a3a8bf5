"""Buyers' data exports, kept for the merchant to download and hand over: the only writer of
`data_exports`.

The merchant, not Attest, answers the buyer (GDPR Art. 12: within a month), so each export is
listed with when it was asked for and whether the merchant has downloaded it yet. An erasure of
the buyer empties their exports: the list keeps that a request was answered, not the data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from reviews.platform.db import Connection, Executor


@dataclass(frozen=True)
class Entry:
    """One export as the list shows it (no personal data)."""

    id: int
    source: str
    request_id: str | None
    requested_at: datetime
    delivered_at: datetime | None
    delivered_by: str | None
    erased_at: datetime | None
    orders: int
    reviews: int
    buyer: str | None  # the address asked about, masked: a***@example.com

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Entry:
        return cls(row["id"], row["source"], row["request_id"], row["requested_at"], row["delivered_at"],
                   row["delivered_by"], row["erased_at"], int(row["orders"] or 0), int(row["reviews"] or 0),
                   row["buyer_hint"])

    @property
    def empty(self) -> bool:
        """Nothing was held for the buyer: the answer to give them is that."""
        return self.orders == 0 and self.reviews == 0

    def describe(self) -> dict[str, Any]:
        def iso(when: datetime | None) -> str | None:
            return when.isoformat() if when else None

        state = "erased" if self.erased_at else "delivered" if self.delivered_at else "waiting"
        return {"id": self.id, "source": self.source, "request_id": self.request_id,
                "requested_at": iso(self.requested_at), "state": state, "delivered_at": iso(self.delivered_at),
                "delivered_by": self.delivered_by, "erased_at": iso(self.erased_at),
                "orders": self.orders, "reviews": self.reviews, "buyer": self.buyer}


@dataclass(frozen=True)
class Download:
    entry: Entry
    data: dict[str, Any] | None  # None: the buyer was erased since

    @property
    def filename(self) -> str:
        return f"data-export-{self.entry.id}-{self.entry.requested_at:%Y-%m-%d}.json"


def masked(email: str | None) -> str | None:
    """a***@example.com: enough for the merchant to match an export to a request, not the address."""
    local, at, domain = (email or "").rpartition("@")
    return f"{local[0]}***@{domain}" if at and local and domain else None


_COLUMNS = """id, source, request_id, requested_at, delivered_at, delivered_by, erased_at, buyer_hint,
              jsonb_array_length(coalesce(export->'orders', '[]'::jsonb)) AS orders,
              jsonb_array_length(coalesce(export->'reviews', '[]'::jsonb)) AS reviews"""


async def save(conn: Executor, merchant_id: int, data: dict[str, Any], *, source: str, now: datetime,
               request_id: str | None = None, buyer_hash: str | None = None,
               customer_id: str | None = None) -> int:
    return int(await conn.fetchval(
        """INSERT INTO data_exports (merchant_id, source, request_id, buyer_hash, customer_id, order_ids, export,
                                     requested_at, buyer_hint)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
        merchant_id, source, request_id, buyer_hash, customer_id, [o["order_id"] for o in data["orders"]], data, now,
        masked(data.get("email"))))


async def listed(conn: Executor, merchant_id: int) -> list[Entry]:
    """The merchant's exports, newest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM data_exports WHERE merchant_id = $1 ORDER BY requested_at DESC, id DESC", merchant_id)
    return [Entry.from_row(r) for r in rows]


async def download(conn: Connection, merchant_id: int, export_id: int, *, by: str, now: datetime) -> Download | None:
    """The export (only the merchant's own), marked delivered on its first download."""
    async with conn.transaction():
        await conn.execute(
            """UPDATE data_exports SET delivered_at = $3, delivered_by = $4
               WHERE id = $1 AND merchant_id = $2 AND delivered_at IS NULL AND erased_at IS NULL""",
            export_id, merchant_id, now, by[:200])
        row = await conn.fetchrow(
            f"SELECT export, {_COLUMNS} FROM data_exports WHERE id = $1 AND merchant_id = $2", export_id, merchant_id)
    if row is None:
        return None
    data = row["export"]
    return Download(Entry.from_row(row), json.loads(data) if isinstance(data, str) else data)


async def erase(conn: Executor, merchant_id: int, *, now: datetime, buyer_hashes: Sequence[str] = (),
                order_ids: Sequence[str] = (), customer_ids: Sequence[str] = (), everyone: bool = False) -> int:
    """Empty the exports of these buyers (or of all the merchant's buyers); the entries stay."""
    return int(await conn.fetchval(
        """WITH u AS (UPDATE data_exports SET export = NULL, erased_at = $6
              WHERE merchant_id = $1 AND erased_at IS NULL
                AND ($5 OR buyer_hash = ANY($2::text[]) OR order_ids && $3::text[] OR customer_id = ANY($4::text[]))
              RETURNING 1) SELECT count(*) FROM u""",
        merchant_id, list(buyer_hashes), list(order_ids), list(customer_ids), everyone, now))
