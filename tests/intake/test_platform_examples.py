"""The platforms' own published examples (tests/intake/fixtures/README.md), sent to the real
endpoints with the real signatures: partial refunds, WooCommerce's escaped names, data requests
that reach the merchant, orders too old to invite."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviews import cli
from reviews.invitations.sending import build_message
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.intake.platforms import WOO_SECRET, connect_shop, count, fixture, invitation, post_shopify, post_woo

__all__ = ["shop"]  # the fixture, shared with test_webhooks

ORDER = "450789469"  # Shopify's REST fixture order: one iPod in green, red and black


def shopify_rest_order() -> dict[str, Any]:
    return copy.deepcopy(fixture("shopify_rest_order")["order"])


def shopify_rest_refund() -> dict[str, Any]:
    return copy.deepcopy(fixture("shopify_rest_refund")["refund"])



@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    return await connect_shop(services, merchant[0])


@pytest.fixture
async def invited_shop(shop: Merchant, services: Services) -> Merchant:
    """A shop inviting buyers whose consent is unknown (Shopify's fixture buyer never said), on the
    day after Shopify's fixture order was placed."""
    services.clock.set(datetime(2008, 1, 11, 9, 0, tzinfo=UTC))
    async with services.pool.acquire() as conn:
        return await merchants.update_settings(conn, shop, {"require_consent": False})


async def test_shopify_refund_of_two_colours_of_three_keeps_the_invitation_the_last_one_cancels_it(
        client: httpx.AsyncClient, invited_shop: Merchant, services: Services) -> None:
    r = await post_shopify(client, "orders/fulfilled", shopify_rest_order())
    assert r.json()["order"]["invitation"]["state"] == "scheduled", r.text
    lines = await services.pool.fetch("SELECT line_id, product_id, variant_id, name, detail, quantity "
                                      "FROM order_lines ORDER BY line_id")
    assert [tuple(line) for line in lines] == [
        ("466157049", "632910392", "39072856", "IPod Nano - 8gb", "green", 1),
        ("518995019", "632910392", "49148385", "IPod Nano - 8gb", "red", 1),
        ("703073504", "632910392", "457924702", "IPod Nano - 8gb", "black", 1)]
    # Still one product to review on the page and in the email.
    assert [tuple(i) for i in await services.pool.fetch("SELECT product_id, name FROM order_items")] == [
        ("632910392", "IPod Nano - 8gb")]

    # Shopify's refund fixture is dated 2016: it arrives then (an event from the future is refused).
    services.clock.set(datetime(2016, 6, 21, 9, 0, tzinfo=UTC))
    r = await post_shopify(client, "refunds/create", shopify_rest_refund())
    assert r.json() == {"status": "ignored", "topic": "refunds/create", "reason": "partial_refund"}
    # The same refund delivered again (another delivery id) takes back nothing more.
    r = await post_shopify(client, "refunds/create", shopify_rest_refund())
    assert r.json()["reason"] == "partial_refund"
    inv = await invitation(services, ORDER)
    assert inv is not None and inv["state"] == "scheduled"
    assert await services.pool.fetchval("SELECT status FROM orders") == "fulfilled"

    # A later refund of the red one leaves nothing to review: now the invitation goes.
    last = shopify_rest_refund()
    last["id"] = 509562970
    last["refund_line_items"] = [{**last["refund_line_items"][0], "id": 104689540, "line_item_id": 518995019,
                                  "line_item": {**last["refund_line_items"][0]["line_item"], "id": 518995019}}]
    r = await post_shopify(client, "refunds/create", last)
    assert r.json().get("status") == "processed", r.text
    inv = await invitation(services, ORDER)
    assert inv is not None and (inv["state"], inv["reason"]) == ("cancelled", "order_refunded")


async def test_shopify_shipping_only_refund_and_unknown_orders_are_ignored(
        client: httpx.AsyncClient, invited_shop: Merchant, services: Services) -> None:
    refund = shopify_rest_refund()
    r = await post_shopify(client, "refunds/create", refund)
    assert r.json()["reason"] == "unknown_order"  # nothing stored, so no invitation to cancel
    await post_shopify(client, "orders/fulfilled", shopify_rest_order())
    refund["refund_line_items"] = []
    r = await post_shopify(client, "refunds/create", refund)
    assert r.json()["reason"] == "partial_refund"
    assert await count(services, "order_refunds") == 0
    assert (await invitation(services, ORDER) or {})["state"] == "scheduled"


async def test_woocommerce_docs_order_names_are_unescaped_once_and_attributes_are_a_detail(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, shop, {"require_consent": False})
    order = fixture("woocommerce_rest_order")
    order.update(status="completed", date_completed_gmt="2026-01-04T09:15:02")
    r = await post_woo(client, order)
    assert r.json()["order"]["invitation"]["state"] == "scheduled", r.text
    items = [tuple(i) for i in await services.pool.fetch("SELECT product_id, name FROM order_items ORDER BY position")]
    assert items == [("93", "Woo Single #1"), ("22", "Ship Your Idea")]
    lines = [tuple(i) for i in await services.pool.fetch(
        "SELECT line_id, variant_id, name, detail, quantity FROM order_lines ORDER BY line_id")]
    assert lines == [("315", None, "Woo Single #1", None, 2),
                     ("316", "23", "Ship Your Idea", "Color: Black, Size: M Test", 1)]
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM orders")
        inv = await conn.fetchrow("SELECT * FROM invitations")
        message = await build_message(services, conn, shop, inv, row, "invitation")
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    assert "Ship Your Idea" in html_part.get_content() and "&amp;ndash;" not in html_part.get_content()
    assert "&ndash;" not in text_part.get_content()


async def test_woocommerce_parent_name_wins_and_the_variation_is_the_detail(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    order = fixture("woocommerce_order")
    order["line_items"][0]["parent_name"] = "Tazza &amp; piattino"
    order["line_items"][0]["name"] = "Tazza &amp; piattino - Blu notte"
    await post_woo(client, order, topic="order.created")
    line = await services.pool.fetchrow("SELECT name, detail FROM order_lines WHERE line_id = '412'")
    assert (line["name"], line["detail"]) == ("Tazza & piattino", "Blu notte")
    assert await services.pool.fetchval("SELECT customer_id FROM orders") == "214"


@pytest.mark.slow
async def test_a_data_request_naming_the_account_reaches_the_merchant_as_a_download(
        client: httpx.AsyncClient, invited_shop: Merchant, services: Services,
        merchant: tuple[Merchant, str]) -> None:
    await post_shopify(client, "orders/fulfilled", shopify_rest_order())
    request = fixture("shopify_docs_customers_data_request")
    # Shopify's documented request, for this shop's customer account: its address is the account's
    # (john@), not the one on the order (bob.norman@), and it names none of the shop's orders.
    request["customer"]["id"] = 207119551
    r = await post_shopify(client, "customers/data_request", request)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["orders"]) == ("exported", 1)
    export_id = r.json()["export_id"]
    assert "bob.norman" not in json.dumps(await services.pool.fetchval("SELECT json_agg(after) FROM audit_log"))

    auth = {"Authorization": f"Bearer {merchant[1]}"}
    listed = (await client.get("/api/v1/privacy/exports", headers=auth)).json()["exports"]
    assert [(e["id"], e["state"], e["request_id"], e["orders"]) for e in listed] == [
        (export_id, "waiting", "9999", 1)]
    assert listed[0]["requested_at"] == "2008-01-11T09:00:00+00:00"
    r = await client.get(f"/api/v1/privacy/exports/{export_id}", headers=auth)
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    data = r.json()
    assert data["orders"][0]["order_id"] == ORDER and data["orders"][0]["email"] == "bob.norman@hostmail.com"
    assert [li["detail"] for li in data["orders"][0]["lines"]] == ["green", "red", "black"]
    listed = (await client.get("/api/v1/privacy/exports", headers=auth)).json()["exports"]
    assert (listed[0]["state"], listed[0]["delivered_by"]) == ("delivered", "api")

    for bad in ("999999", "abc", "1" * 40):
        assert (await client.get(f"/api/v1/privacy/exports/{bad}", headers=auth)).status_code == 404
    assert (await client.get(f"/api/v1/privacy/exports/{export_id}")).status_code == 401

    # Erasing the account empties its export; the list keeps that the request was answered.
    redact = {"shop_id": request["shop_id"], "shop_domain": request["shop_domain"],
              "customer": request["customer"], "orders_to_redact": []}
    r = await post_shopify(client, "customers/redact", redact)
    assert r.json()["orders"] == 1 and r.json()["exports_emptied"] == 1
    r = await client.get(f"/api/v1/privacy/exports/{export_id}", headers=auth)
    assert r.json()["data"] is None and r.json()["export"]["state"] == "erased"


@pytest.fixture
def env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    return services


@pytest.mark.slow
async def test_cli_lists_and_writes_exports_and_stats_shows_old_orders_as_too_old(
        client: httpx.AsyncClient, shop: Merchant, env: Services, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Shopify's fixture order is from 2008: imported now, it is history, not a failed invitation.
    r = await post_shopify(client, "orders/fulfilled", shopify_rest_order())
    assert r.json()["order"]["invitation"]["reason"] == "too_late"
    r = await post_woo(client, fixture("woocommerce_rest_order"), topic="order.created", secret=WOO_SECRET)
    assert r.status_code == 200
    assert await asyncio.to_thread(cli.main, ["stats", "demo-shop"]) == 0
    funnel = json.loads(capsys.readouterr().out)["invitations"]
    assert (funnel["ordered"], funnel["too_old_to_invite"], funnel["skipped"], funnel["failed"]) == (2, 1, {}, 0)

    assert await asyncio.to_thread(cli.main, ["privacy", "request", "demo-shop", "--customer-id", "207119551"]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert (entry["state"], entry["orders"], entry["source"]) == ("waiting", 1, "cli")
    out = tmp_path / "for-bob.json"
    args = ["privacy", "export", "demo-shop", str(entry["id"]), "--out", str(out), "--by", "anna"]
    assert await asyncio.to_thread(cli.main, args) == 0
    capsys.readouterr()
    assert json.loads(out.read_text())["orders"][0]["order_id"] == ORDER
    assert await asyncio.to_thread(cli.main, ["privacy", "exports", "demo-shop"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["state"], e["delivered_by"]) for e in listed] == [("delivered", "anna")]
    assert await asyncio.to_thread(cli.main, ["privacy", "export", "demo-shop", "12345"]) == 1
    assert await asyncio.to_thread(cli.main, ["privacy", "request", "demo-shop"]) == 2
