"""The prefetch's read of a shop's rating history (the burst test's baseline) stays in an index."""

from __future__ import annotations

from datetime import UTC, date, datetime

from embedding.stats import PREFETCH_SQL
from reviews.merchants.model import Merchant
from reviews.platform.services import Services


async def test_a_shops_rating_history_is_summed_from_its_index(services: Services,
                                                                merchant: tuple[Merchant, str]) -> None:
    """Two years of daily counters are summed right, and an index holds all that read needs
    (merchant_daily_ratings_history, migration 0029): by the primary key each counter row cost a
    page of the table of its own."""
    shop = merchant[0]
    first = date(2024, 1, 1)
    # As the counters are written: a day at a time, every shop's rows of that day together.
    others = [r["id"] for r in await services.pool.fetch(
        "INSERT INTO merchants (slug, name) SELECT 'other-' || g, 'Other' FROM generate_series(1, 40) g RETURNING id")]
    await services.pool.execute(
        """INSERT INTO merchant_daily_ratings (merchant_id, day, rating, n)
           SELECT shop, $2::date + d, rating, rating
           FROM generate_series(0, 729) d, unnest($1::bigint[]) shop, unnest('{1,4,5}'::smallint[]) rating
           ORDER BY d""", [shop.id, *others], first)
    await services.pool.execute("VACUUM ANALYZE merchant_daily_ratings")
    when = datetime(2025, 6, 1, 12, tzinfo=UTC)
    args = (["lamp"], shop.id, datetime(2025, 6, 1, tzinfo=UTC), when, "en")
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(PREFETCH_SQL, *args)
        days = (date(2025, 6, 1) - first).days
        assert dict(zip(row["ratings"], row["counts"], strict=True)) == {1: days, 4: 4 * days, 5: 5 * days}
    # Everything the read needs is in one index, in the order it reads: an index-only scan. (Whether
    # the planner takes it depends on how many of the table's pages vacuum found all-visible; on the
    # million-review database of bench/search.py it did, and the prefetch went from 4.4 to 2.4 ms.)
    index = await services.pool.fetchrow(
        """SELECT array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
                  i.indnkeyatts AS keys
           FROM pg_index i WHERE i.indexrelid = 'merchant_daily_ratings_history'::regclass""")
    assert index["columns"][:index["keys"]] == ["merchant_id", "day"]
    assert set(index["columns"][index["keys"]:]) == {"rating", "n"}
