"""What identifies a product to Google (GTIN, MPN, brand, SKU) and where the order went: the API takes
them, the platforms' line items give what they carry, and `order_items` / `orders` keep them."""

from __future__ import annotations

from typing import Any

import httpx

from reviews.intake import shopify, woocommerce
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import auth, order_event
from tests.intake.platforms import (
    completed_woo_order,
    connect_shop,
    fixture,
    fulfilled_order,
    post_shopify,
    post_woo,
)


async def _items(services: Services, external_id: str) -> dict[str, dict[str, Any]]:
    rows = await services.pool.fetch(
        """SELECT i.product_id, i.gtin, i.mpn, i.brand, i.sku FROM order_items i JOIN orders o ON o.id = i.order_id
           WHERE o.external_id = $1""", external_id)
    return {r["product_id"]: dict(r) for r in rows}


async def _country(services: Services, external_id: str) -> str | None:
    return await services.pool.fetchval("SELECT country FROM orders WHERE external_id = $1", external_id)


async def test_the_api_takes_each_products_identifiers_and_the_country(client: httpx.AsyncClient,
                                                                       services: Services,
                                                                       merchant: tuple[Merchant, str]) -> None:
    body = order_event("A-77", products=[
        {"id": "SKU-1", "name": "Trail shoes", "gtin": 4006381333931, "mpn": "TR-2024-39", "brand": "Bergwerk",
         "sku": "TLA-39-PET"},
        {"id": "SKU-2", "name": "Merino socks", "sku": 1881},
    ])
    body["customer"]["country"] = "de"
    r = await client.post("/api/v1/orders", json=body, headers=auth(merchant[1]))
    assert r.status_code == 200, r.text
    items = await _items(services, "A-77")
    assert items["SKU-1"] == {"product_id": "SKU-1", "gtin": "4006381333931", "mpn": "TR-2024-39",
                              "brand": "Bergwerk", "sku": "TLA-39-PET"}
    assert items["SKU-2"]["sku"] == "1881" and items["SKU-2"]["gtin"] is None
    assert await _country(services, "A-77") == "DE"

    # A later event without them keeps what an earlier one said.
    later = order_event("A-77", status="delivered", products=[{"id": "SKU-1", "name": "Trail shoes"}])
    assert (await client.post("/api/v1/orders", json=later, headers=auth(merchant[1]))).status_code == 200
    assert (await _items(services, "A-77"))["SKU-1"]["mpn"] == "TR-2024-39"
    assert await _country(services, "A-77") == "DE"


async def test_the_api_refuses_what_is_no_identifier_and_names_each_field(client: httpx.AsyncClient,
                                                                          merchant: tuple[Merchant, str]) -> None:
    body = order_event("A-78", products=[{"id": "SKU-1", "name": "Trail shoes", "mpn": "x" * 71,
                                          "brand": ["Acme"], "sku": 1.5, "gtin": "ABC"}])
    body["customer"]["country"] = "Germany"
    r = await client.post("/api/v1/orders", json=body, headers=auth(merchant[1]))
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == {
        "customer.country": "must be a two-letter ISO 3166-1 country code such as DE",
        "products.0.mpn": "must be at most 70 characters", "products.0.brand": "must be a string",
        "products.0.sku": "must be a string or a whole number", "products.0.gtin": "must be digits"}


async def test_the_openapi_document_describes_them(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    product = schemas["ProductBody"]["properties"]
    assert {"gtin", "mpn", "brand", "sku"} <= set(product)
    assert product["mpn"]["maxLength"] == 70 and product["brand"]["maxLength"] == 70
    assert "ISO 3166-1" in schemas["CustomerBody"]["properties"]["country"]["description"]


def test_shopify_lines_give_the_sku_and_the_vendor_as_brand() -> None:
    body = shopify.order_body("orders/fulfilled", fixture("shopify_order"))
    products = {p["id"]: p for p in body["products"]}
    assert products["8901234567881"]["sku"] == "TLA-39-PET"
    assert products["8901234567881"]["brand"] == "Bergwerk"
    assert "gtin" not in products["8901234567881"]  # an order's line has no barcode
    assert body["customer"]["country"] == "DE"
    # Shopify's own example: one product in three colours, each its own SKU; the product keeps the first.
    rest = shopify.order_body("orders/create", fixture("shopify_rest_order")["order"])
    assert [(p["id"], p.get("sku")) for p in rest["products"]] == [("632910392", "IPOD2008GREEN")]
    assert rest["customer"]["country"] == "US"


def test_woocommerce_lines_give_the_sku_and_what_plugins_store_on_them() -> None:
    order = fixture("woocommerce_order")
    order["line_items"][1]["meta_data"] = [
        {"id": 1, "key": "_wc_gla_gtin", "value": "978-3-16-148410-0"},
        {"id": 2, "key": "_wc_gla_mpn", "value": "SUG-4-2024"},
        {"id": 3, "key": "_wc_gla_brand", "value": "Sughero &amp; Co"}]
    body = woocommerce.order_body({**order, "status": "completed"})
    assert body is not None
    products = {p["id"]: p for p in body["products"]}
    assert products["1881"]["sku"] == "TAZ-BLU" and "gtin" not in products["1881"]
    assert {k: products["1902"].get(k) for k in ("sku", "gtin", "mpn", "brand")} == {
        "sku": "SUG-4", "gtin": "9783161484100", "mpn": "SUG-4-2024", "brand": "Sughero & Co"}
    assert body["customer"]["country"] == "IT"
    rest = woocommerce.order_body(fixture("woocommerce_rest_order"))
    assert rest is not None and rest["customer"]["country"] == "US"


async def test_platform_orders_store_the_identifiers_and_drop_what_the_api_would_refuse(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    await connect_shop(services, merchant[0])
    order = fulfilled_order()
    order["line_items"][0]["sku"] = "S" * 300  # longer than a SKU may be: dropped, the order is not refused
    order["shipping_address"]["country_code"] = "D"
    r = await post_shopify(client, "orders/fulfilled", order)
    assert r.status_code == 200 and r.json()["status"] == "processed", r.text
    items = await _items(services, str(order["id"]))
    assert items["8901234567881"]["brand"] == "Bergwerk" and items["8901234567881"]["sku"] is None
    assert items["8901234600649"]["sku"] == "MST-M"
    assert await _country(services, str(order["id"])) == "DE"  # the billing address's, the shipping one is no code

    woo = completed_woo_order()
    r = await post_woo(client, woo)
    assert r.status_code == 200 and r.json()["status"] == "processed", r.text
    assert (await _items(services, str(woo["id"])))["1902"]["sku"] == "SUG-4"
    assert await _country(services, str(woo["id"])) == "IT"
