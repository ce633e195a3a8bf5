"""A buyer's data export holds the shop's replies to their reviews (and their appeals); their erasure
removes those with the reviews' text: the replies, a reply email still waiting, the shop's reports of
the reviews, the appeals, and the audit log's copies, so that no row in the database still holds any
of it. Another buyer's reviews keep theirs."""

from __future__ import annotations

import json

import httpx

from reviews.collection import appeals, replies, reports
from reviews.collection import store as reviews
from reviews.collection.replies import NOTICE_JOB
from reviews.hooks import endpoints
from reviews.hooks import events as hook_events
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.privacy import buyer_data
from tests.helpers import form_of, invite

Fixture = tuple[Merchant, str]
BUYER = "anna.kowalska@example.com"
OTHER = "jonas.becker@example.com"
# Words that are in one place each, to look for everywhere afterwards.
REVIEW_TEXT = "As a nurse in Krakow-xq1 I wear them all day."
SHOP_TEXT = "Parcel to Krakow-xq2 came fast."
REPLY = "Thank you Anna-xq3, enjoy the shoes in Krakow!"
SHOP_REPLY = "Glad the parcel-xq4 was quick, Anna."
NOTE = "She names her ward-xq5 at the hospital"
APPEAL = "My review-xq6 is about the shoes, please look again."
OTHER_REPLY = "Danke Jonas-xq7!"
MARKERS = ("xq1", "xq2", "xq3", "xq4", "xq5", "xq6")


async def _published(client: httpx.AsyncClient, services: Services, key: str, **order: str) -> dict[str | None, int]:
    """The buyer's published reviews from their invitation, by product id (None: the shop)."""
    path = await invite(client, services, key, **order)
    form = await form_of(client, path)
    body = {"rating_0": "5", "body_0": REVIEW_TEXT, "rating_shop": "4", "body_shop": SHOP_TEXT} \
        if order.get("email", BUYER) == BUYER else {"rating_0": "4", "body_0": "Bequem und leicht, gern wieder."}
    assert (await client.post(path, data={**form.fields, **body})).status_code == 200
    invitation = await services.pool.fetchval("SELECT max(id) FROM invitations")
    rows = await services.pool.fetch("SELECT id, product_id FROM reviews WHERE invitation_id = $1", invitation)
    async with services.pool.acquire() as conn:
        for row in rows:
            await reviews.publish(conn, row["id"], services.clock.now())
    return {r["product_id"]: r["id"] for r in rows}


async def _everything_mentioning(services: Services, word: str) -> list[str]:
    """Every table with a row whose text holds `word` (each row cast to text, all columns)."""
    tables = [r["tablename"] for r in await services.pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
    found = []
    for table in tables:
        if await services.pool.fetchval(f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE $1', f"%{word}%"):
            found.append(table)
    return found


async def test_the_export_holds_the_shops_replies_and_the_erasure_leaves_none_of_them(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    shop, key = merchant
    now = services.clock.now()
    async with services.pool.acquire() as conn:
        await endpoints.create(conn, shop.id, "http://127.0.0.1:9/hooks", list(hook_events.EVENT_TYPES), now=now,
                               actor="test", allow_private=True)
    mine = await _published(client, services, key)
    theirs = await _published(client, services, key, order_id="B-2", email=OTHER, name="Jonas Becker")
    product, shop_review, other = mine["SKU-1"], mine[None], theirs["SKU-1"]
    async with services.pool.acquire() as conn:
        for review_id, text in ((product, REPLY), (shop_review, SHOP_REPLY), (other, OTHER_REPLY)):
            await replies.save(conn, merchant_id=shop.id, review_id=review_id, text=text, author="agent@example.com",
                               user_id=None, now=now)
        await reports.report(conn, merchant_id=shop.id, review_id=product, reason="personal_data", note=NOTE,
                             reporter="agent@example.com", user_id=None, now=now)
        await appeals.file(conn, shop_review, APPEAL, now)

        data = await buyer_data.export(conn, shop.id, BUYER, hasher=services.hasher)
        by_id = {r["id"]: r for r in data["reviews"]}
        assert set(by_id) == {product, shop_review}  # not the other buyer's
        assert by_id[product]["shop_reply"] == {"body": REPLY, "created_at": now.isoformat(),
                                                "updated_at": now.isoformat(), "source": "shop"}
        assert by_id[shop_review]["shop_reply"]["body"] == SHOP_REPLY
        assert by_id[shop_review]["appeal"]["body"] == APPEAL and by_id[product]["appeal"] is None
        assert OTHER_REPLY not in json.dumps(data)
        # The export the merchant downloads holds them too, until the erasure empties it.
        await buyer_data.record_export(conn, shop.id, data, actor="test", now=now, hasher=services.hasher)
        assert await _everything_mentioning(services, "xq3")  # the reply: in review_replies, the export, ...

        waiting = await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'queued'", NOTICE_JOB)
        assert waiting == 3  # each first reply's email to its author, not sent yet

        result = await buyer_data.erase_buyer(conn, shop.id, BUYER, hasher=services.hasher, now=now, actor="test")
    assert (result["reviews"], result["replies"], result["reports"], result["appeals"]) == (2, 2, 1, 1)

    for marker in MARKERS:
        assert await _everything_mentioning(services, marker) == [], marker
    pool = services.pool
    mine_ids = [product, shop_review]
    for table in ("review_replies", "review_reports", "appeals"):
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE review_id = ANY($1::bigint[])", mine_ids) == 0
    assert await pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND dedupe_key = ANY($2::text[])",
                               NOTICE_JOB, [f"reply:{i}" for i in mine_ids]) == 0
    # The reviews stay as withdrawn, empty ratings; the shop's webhooks hear so, without the reply.
    assert {r["state"] for r in await pool.fetch("SELECT state FROM reviews WHERE id = ANY($1::bigint[])",
                                                 mine_ids)} == {"withdrawn"}
    withdrawn = [json.loads(r["body"]) for r in await pool.fetch(
        "SELECT body FROM webhook_deliveries WHERE event_type = 'review.withdrawn' AND body IS NOT NULL")]
    assert sorted(m["data"]["id"] for m in withdrawn) == sorted(mine_ids)
    assert all(m["data"]["reply"] is None and m["data"]["body"] == "" for m in withdrawn)
    # The other buyer's review keeps its reply, and its email still goes.
    assert (await replies.of_review(pool, other)) is not None
    assert await pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1 AND dedupe_key = $2 AND state = 'queued'",
                               NOTICE_JOB, f"reply:{other}") == 1
    assert "review_replies" in await _everything_mentioning(services, "xq7")
