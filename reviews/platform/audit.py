"""The append-only audit log: who did what to which row, with the row before and after.

The only writer of `audit_log`. The exceptions to append-only are `empty_exports` and `empty_rows`:
a buyer's erasure must not leave a copy of their data in an earlier data export's entry, nor in the
entries of rows about them (the shop's reply to their review, its report of it). Those keep who did
what and when; what was written goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reviews.platform.db import Executor

EXPORT_ACTION = "data_request"


async def record(conn: Executor, *, actor: str, action: str, table: str, row_id: int | None, now: datetime,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> int:
    """Append one entry; returns its id."""
    return int(await conn.fetchval(
        """INSERT INTO audit_log (actor, action, table_name, row_id, before, after, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        actor, action, table, row_id, before, after, now,
    ))


async def empty_exports(conn: Executor, merchant_id: int, buyer_hashes: Sequence[str], order_ids: Sequence[str],
                        now: datetime, *, everyone: bool = False) -> int:
    """Replace the data of the merchant's earlier exports for these buyers (or all) by a note."""
    return int(await conn.fetchval(
        """WITH u AS (UPDATE audit_log SET after = jsonb_build_object(
                          'buyer_hash', after->'buyer_hash', 'request_id', after->'request_id',
                          'export', 'erased', 'erased_at', $5::text)
              WHERE action = $6 AND table_name = 'merchants' AND row_id = $1 AND after ? 'export'
                AND after->>'export' IS DISTINCT FROM 'erased'
                AND ($4 OR after->>'buyer_hash' = ANY($2::text[]) OR (after->'order_ids') ?| $3::text[])
              RETURNING 1) SELECT count(*) FROM u""",
        merchant_id, list(buyer_hashes), list(order_ids), everyone, now.isoformat(), EXPORT_ACTION,
    ))


async def empty_rows(conn: Executor, table: str, row_ids: Sequence[int], now: datetime) -> int:
    """Replace the before/after of these rows' entries by a note (a buyer's erasure of what they held)."""
    return int(await conn.fetchval(
        """WITH u AS (UPDATE audit_log
                      SET before = CASE WHEN before IS NOT NULL THEN jsonb_build_object('erased_at', $3::text) END,
                          after = CASE WHEN after IS NOT NULL THEN jsonb_build_object('erased_at', $3::text) END
                      WHERE table_name = $1 AND row_id = ANY($2::bigint[])
                        AND (before IS NOT NULL OR after IS NOT NULL) AND NOT coalesce(after ? 'erased_at', false)
                      RETURNING 1) SELECT count(*) FROM u""",
        table, list(row_ids), now.isoformat()))
