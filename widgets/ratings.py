"""Ratings in numbers: many products' averages in one query (the star snippets of a collection page),
and the trust badge's figures. Published reviews only, always scoped by merchant. Read-only."""

from __future__ import annotations

from typing import Any

import asyncpg

MAX_PRODUCTS = 100


def _rating(count: int, average: float | None) -> dict[str, Any]:
    return {"average": round(average, 2) if count and average is not None else None, "count": count}


async def batch(pool: asyncpg.Pool, merchant_id: int, product_ids: list[str]) -> dict[str, Any]:
    """The shop's average and count, and each asked product's (count 0 and no average when it has no
    published review): one round trip for every tile of a collection page."""
    rows = await pool.fetch(
        """SELECT NULL::text AS product_id, count(*) AS n, avg(rating)::float8 AS average FROM reviews
           WHERE merchant_id = $1 AND state = 'published'
           UNION ALL
           SELECT product_id, count(*), avg(rating)::float8 FROM reviews
           WHERE merchant_id = $1 AND state = 'published' AND product_id = ANY($2::text[])
           GROUP BY product_id""",
        merchant_id, product_ids,
    )
    products = {p: _rating(0, None) for p in product_ids}
    shop = _rating(0, None)
    for r in rows:
        if r["product_id"] is None:
            shop = _rating(int(r["n"]), r["average"])
        else:
            products[r["product_id"]] = _rating(int(r["n"]), r["average"])
    return {"shop": shop, "products": products}


async def badge(pool: asyncpg.Pool, merchant_id: int, product_id: str | None) -> dict[str, Any]:
    """What the trust badge shows: the average and count of the published reviews (the shop's, or one
    product's) and how many of them are verified (written from an invitation after a real order)."""
    row = await pool.fetchrow(
        """SELECT count(*) AS n, avg(rating)::float8 AS average, count(*) FILTER (WHERE method = 'invited') AS verified
           FROM reviews WHERE merchant_id = $1 AND state = 'published' AND ($2::text IS NULL OR product_id = $2)""",
        merchant_id, product_id,
    )
    assert row is not None  # an aggregate without GROUP BY has its one row
    return {**_rating(int(row["n"]), row["average"]), "verified": int(row["verified"])}
