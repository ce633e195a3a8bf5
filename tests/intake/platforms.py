"""What the shop-platform webhook tests share: the platforms' fixtures, signing, posting."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_SECRET = "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"
WOO_SECRET = "wc-8Hq2&Lz!r6Tn"
BUYER = "lena.hoffmann@example.de"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(fixture("shopify_order"))
    order.update(changes)
    return order


def fulfilled_order(**changes: Any) -> dict[str, Any]:
    order = shopify_order(fulfillment_status="fulfilled", updated_at="2026-01-04T16:03:27+01:00")
    order["fulfillments"] = [{
        "id": 5290384756041, "order_id": order["id"], "status": "success", "service": "manual",
        "created_at": "2026-01-04T16:03:25+01:00", "updated_at": "2026-01-04T16:03:25+01:00",
        "tracking_company": "DHL", "tracking_number": "00340434161094042557",
        "line_items": order["line_items"][:2], "name": "#1042.1", "shipment_status": None,
    }]
    order.update(changes)
    return order


def woo_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(fixture("woocommerce_order"))
    order.update(changes)
    return order


def completed_woo_order(**changes: Any) -> dict[str, Any]:
    return woo_order(**{"status": "completed", "date_completed": "2026-01-04T10:15:02",
                        "date_completed_gmt": "2026-01-04T09:15:02", "date_modified_gmt": "2026-01-04T09:15:02",
                        **changes})


async def post_shopify(client: httpx.AsyncClient, topic: str, payload: Any = None, *, raw: bytes | None = None,
                       secret: str = SHOPIFY_SECRET, signature: str | None = None, webhook_id: str | None = None,
                       slug: str = "demo-shop") -> httpx.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature if signature is not None else sign(secret, body),
        "X-Shopify-Shop-Domain": "bergwerk-outdoor.myshopify.com",
        "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-01-05T09:59:58.123456Z",
    }
    return await client.post(f"/hooks/shopify/{slug}", content=body, headers=headers)


async def post_woo(client: httpx.AsyncClient, payload: Any = None, *, topic: str = "order.updated",
                   raw: bytes | None = None, secret: str = WOO_SECRET, signature: str | None = None,
                   delivery_id: str | None = None, slug: str = "demo-shop") -> httpx.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    resource, _, event = topic.partition(".")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
        "X-WC-Webhook-Source": "https://ceramiche-esempio.it/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": signature if signature is not None else sign(secret, body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }
    return await client.post(f"/hooks/woocommerce/{slug}", content=body, headers=headers)


async def connect_shop(services: Services, merchant: Merchant) -> Merchant:
    """The merchant with both platforms' webhook secrets set."""
    async with services.pool.acquire() as conn:
        return await merchants.update_settings(conn, merchant, {"shopify_secret": SHOPIFY_SECRET,
                                                                "woocommerce_secret": WOO_SECRET})


async def count(services: Services, table: str) -> int:
    return await services.pool.fetchval(f"SELECT count(*) FROM {table}")


async def invitation(services: Services, external_id: str) -> dict[str, Any] | None:
    row = await services.pool.fetchrow(
        "SELECT i.* FROM invitations i JOIN orders o ON o.id = i.order_id WHERE o.external_id = $1", external_id)
    return dict(row) if row else None
