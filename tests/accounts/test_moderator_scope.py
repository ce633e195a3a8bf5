"""A moderator's scope fails closed: no scope is no shop, every shop is an explicit choice, and a shop
role on the same shop never erases (nor widens) the scope. Once, `attest user create --role viewer
--merchant shop-b` for a moderator of shop B turned them into a moderator of every shop."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from reviews.accounts import manage, users
from reviews.merchants.model import Merchant
from reviews.platform import db
from reviews.platform.errors import ValidationError
from reviews.platform.services import Services
from tests.helpers import FormParser, add_review, make_merchant

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

PASSWORD = "correct horse battery staple"


async def _sign_in(client: httpx.AsyncClient, services: Services, email: str) -> None:
    user = await users.by_email(services.pool, email)
    assert user is not None
    _user, link = await manage.invite(services, email, "viewer", "shop-b", actor="test")  # a link to sign in with
    path = link.removeprefix(services.settings.base_url)
    page = await client.get(path)
    parser = FormParser()
    parser.feed(page.text)
    r = await client.post(path, data={**parser.fields, "password": PASSWORD})
    assert r.status_code == 303, r.text


@pytest.fixture
async def shops(services: Services) -> tuple[Merchant, Merchant]:
    return await make_merchant(services, "shop-a"), await make_merchant(services, "shop-b")


async def test_a_shop_role_on_the_moderated_shop_neither_erases_nor_widens_the_scope(
        client: httpx.AsyncClient, services: Services, shops: tuple[Merchant, Merchant]) -> None:
    shop_a, shop_b = shops
    held_a = await add_review(services, shop_a.id, 5, state="held", title="In shop A")
    held_b = await add_review(services, shop_b.id, 5, state="held", title="In shop B")
    await manage.invite(services, "modb@example.com", "moderator", "shop-b", actor="test")
    await manage.invite(services, "modb@example.com", "viewer", "shop-b", actor="test")
    user = await users.by_email(services.pool, "modb@example.com")
    assert user is not None
    assert await users.moderated_merchants(services.pool, user) == [shop_b.id]
    assert [(m.slug, m.role) for m in await users.memberships(services.pool, user.id)] == [("shop-b", "viewer")]

    await _sign_in(client, services, "modb@example.com")
    assert (await client.get(f"/console/reviews/{held_b}")).status_code == 200
    assert (await client.get(f"/console/reviews/{held_a}")).status_code == 404
    for tab in ("held", "reported", "appealed", "decided"):
        queue = await client.get(f"/console/queue?tab={tab}")
        assert queue.status_code == 200
        assert "Shop shop-a" not in queue.text and "In shop A" not in queue.text, tab


async def test_no_scope_is_no_shop_and_every_shop_is_said_out_loud(
        services: Services, shops: tuple[Merchant, Merchant]) -> None:
    async with services.pool.acquire() as conn:
        with pytest.raises(ValidationError) as unscoped:
            await users.create(conn, "mod@example.com", "moderator", None)
        assert set(unscoped.value.fields) == {"merchant"}
        with pytest.raises(ValidationError):
            await users.create(conn, "owner@example.com", "owner", shops[0].id, all_merchants=True)
        member = await users.create(conn, "viewer@example.com", "viewer", shops[0].id)
        everyone = await users.create(conn, "all@example.com", "moderator", None, all_merchants=True)
        # A moderator row with no scope at all (as an old install could hold) moderates nothing.
        bare = await users.create(conn, "bare@example.com", "moderator", shops[0].id)
        await conn.execute("DELETE FROM moderator_scopes WHERE user_id = $1", bare.id)
    assert await users.moderated_merchants(services.pool, member) == []
    assert await users.moderated_merchants(services.pool, everyone) is None
    assert await users.moderated_merchants(services.pool, bare) == []
    listed = {u["email"]: u for u in await manage.listing(services)}
    assert listed["all@example.com"]["moderates"] == "every merchant"
    assert listed["bare@example.com"]["moderates"] == []


async def test_the_migration_keeps_each_moderators_scope(pg_admin_uri: str, tmp_path: Path) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    await db.ensure_database(pg_admin_uri, name)
    conn = await db.connect(db._with_database(pg_admin_uri, name))
    try:
        before = tmp_path / "before"
        before.mkdir()
        for _number, _, path in db.migration_files():
            if path.name < "0015":
                shutil.copy(path, before / path.name)
        await db.migrate(conn, before)
        shop = await conn.fetchval("INSERT INTO merchants (slug, name) VALUES ('s', 'S') RETURNING id")
        scoped, everywhere = [await conn.fetchval(
            "INSERT INTO users (email, role) VALUES ($1, 'moderator') RETURNING id", email)
            for email in ("scoped@example.com", "everywhere@example.com")]
        await conn.execute("INSERT INTO memberships (user_id, merchant_id, role) VALUES ($1, $2, 'moderator')",
                           scoped, shop)
        await db.migrate(conn)
        assert await conn.fetch("SELECT user_id, merchant_id FROM moderator_scopes") == [(scoped, shop)]
        assert await conn.fetchval("SELECT count(*) FROM memberships") == 0
        assert {r["id"]: r["moderates_all"] for r in await conn.fetch("SELECT id, moderates_all FROM users")} == \
            {scoped: False, everywhere: True}
    finally:
        await conn.close()
        admin = await asyncpg.connect(pg_admin_uri)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_campaign_member_in_another_shop_shows_only_that_it_is_linked(
        client: httpx.AsyncClient, services: Services, shops: tuple[Merchant, Merchant]) -> None:
    shop_a, shop_b = shops
    secret = await add_review(services, shop_a.id, 5, state="held", title="Shop A secret title",
                              body="Words only shop A's moderators may read.", display_name="Zofia Tajna")
    mine = await add_review(services, shop_b.id, 5, state="held", title="Shop B review",
                            body="Words only shop A's moderators may read.")
    evidence = {"related": [mine, secret], "links": [{"a": mine, "b": secret, "similarity": 0.97, "channel": "main",
                                                          "inside_window": True, "hours_apart": 2.0}]}
    await services.pool.execute("INSERT INTO flags (review_id, kind, score, evidence) VALUES ($1, 'campaign', 1, $2)",
                                mine, evidence)
    await manage.invite(services, "modb@example.com", "moderator", "shop-b", actor="test")
    await _sign_in(client, services, "modb@example.com")
    page = await client.get(f"/console/reviews/{mine}")
    assert page.status_code == 200
    assert "A review in another shop" in page.text
    for leaked in ("Shop A secret title", "Zofia Tajna", "Shop shop-a", f"/console/reviews/{secret}"):
        assert leaked not in page.text
    # An all-shops moderator reads the other shop's member in full.
    await manage.invite(services, "all@example.com", "moderator", None, actor="test", all_merchants=True)
    await manage.invite(services, "all@example.com", "viewer", "shop-b", actor="test")
    client.cookies.clear()
    await _sign_in(client, services, "all@example.com")
    page = await client.get(f"/console/reviews/{mine}")
    assert "Shop A secret title" in page.text and "A review in another shop" not in page.text
