"""Role-aware navigation: a shop's owner, agent or viewer never sees a moderator's link or shortcut,
a user of one shop lands in its inbox, and the CLI names roles as the console does."""

from __future__ import annotations

import httpx
import pytest

from reviews.accounts import manage
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.console.test_shop_pages import SHOP, _sign_in

MODERATOR_WORDS = ("/console/queue", "Keyboard shortcuts", "j and k", "Moderation", "Single-key shortcuts")


@pytest.mark.parametrize("role", ["owner", "agent", "viewer"])
@pytest.mark.slow
async def test_a_shop_user_lands_in_the_inbox_and_sees_no_moderator_link(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str], role: str) -> None:
    await _sign_in(client, services, f"{role}@example.com", role)
    landing = await client.get("/console")
    assert landing.status_code == 303 and landing.headers["location"] == SHOP
    for path in (SHOP, SHOP + "/invitations", SHOP + "/widgets", "/console/account"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert not [w for w in MODERATOR_WORDS if w in page.text], (path, role)
    inbox = (await client.get(SHOP)).text
    assert f"your role: {role}" in inbox and 'href="/console/account"' in inbox
    account = (await client.get("/console/account")).text
    assert f"({role})" in account and "Sign out everywhere" in account
    assert (await client.get("/console/queue")).status_code == 404


@pytest.mark.slow
async def test_a_user_of_two_shops_chooses_and_a_moderator_keeps_the_desk(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    async with services.pool.acquire() as conn:
        await merchants.create(conn, name="Other Shop", slug="other-shop")
    await manage.invite(services, "two@example.com", "owner", "other-shop", actor="test")
    await _sign_in(client, services, "two@example.com", "agent")
    home = await client.get("/console")
    assert home.status_code == 200 and "Your shops" in home.text and "/console/queue" not in home.text
    await _sign_in(client, services, "mod@example.com", "moderator", None)
    home = await client.get("/console")
    assert home.status_code == 200 and 'href="/console/queue"' in home.text and "x: select the review" in home.text


async def test_the_cli_names_roles_as_the_console_does(services: Services, merchant: tuple[Merchant, str]) -> None:
    await manage.invite(services, "owner@example.com", "owner", "demo-shop", actor="test")
    await manage.invite(services, "viewer@example.com", "viewer", "demo-shop", actor="test")
    await manage.invite(services, "mod@example.com", "moderator", None, actor="test", all_merchants=True)
    roles = {u["email"]: u["role"] for u in await manage.listing(services)}
    assert roles == {"owner@example.com": "owner", "viewer@example.com": "viewer", "mod@example.com": "moderator"}
