"""Shopify and WooCommerce webhooks: signatures, dedupe, topic mapping, consent, privacy topics."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from reviews.intake import shopify, woocommerce
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.privacy import buyer_data
from tests.intake.platforms import (
    BUYER,
    SHOPIFY_SECRET,
    WOO_SECRET,
    completed_woo_order,
    connect_shop,
    count,
    fixture,
    fulfilled_order,
    invitation,
    post_shopify,
    post_woo,
    shopify_order,
    sign,
    woo_order,
)


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    return await connect_shop(services, merchant[0])


# --- Shopify ------------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_shopify_order_then_fulfilment_stores_the_order_and_schedules_an_invitation(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    r = await post_shopify(client, "orders/create", shopify_order())
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "placed"
    assert r.json()["order"]["invitation"] is None

    r = await post_shopify(client, "orders/fulfilled", fulfilled_order())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processed"
    assert r.json()["order"]["invitation"]["state"] == "scheduled"
    order = await services.pool.fetchrow("SELECT * FROM orders WHERE external_id = '5820398174281'")
    assert order["buyer_email"] == BUYER
    assert order["buyer_name"] == "Lena Hoffmann"
    assert order["locale"] == "de"
    assert order["consent"] is True
    assert order["placed_at"].isoformat() == "2026-01-02T13:12:09+00:00"
    assert order["fulfilled_at"].isoformat() == "2026-01-04T15:03:27+00:00"
    items = await services.pool.fetch("SELECT product_id, name FROM order_items ORDER BY position")
    # The tip has neither product id nor SKU and is not reviewable.
    assert [(i["product_id"], i["name"]) for i in items] == [
        ("8901234567881", "Trail-Laufschuh Alpin"), ("8901234600649", "Merino-Socken Trail")]
    assert await services.pool.fetchval("SELECT source FROM order_events WHERE status = 'fulfilled'") == "shopify"
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'send_invitation'") == 1


@pytest.mark.parametrize(("accepts", "state", "reason"), [
    (False, "not_subscribed", "consent_unknown"),  # an unticked box is not a "no"
    (None, None, "consent_unknown"),
    (False, "unsubscribed", "no_consent"),
])
async def test_shopify_consent_follows_the_rules(client: httpx.AsyncClient, shop: Merchant, services: Services,
                                                 accepts: bool | None, state: str | None, reason: str) -> None:
    order = fulfilled_order()
    if accepts is None:
        del order["buyer_accepts_marketing"]
    else:
        order["buyer_accepts_marketing"] = accepts
    if state is None:
        del order["customer"]["email_marketing_consent"]
    else:
        order["customer"]["email_marketing_consent"]["state"] = state
    r = await post_shopify(client, "orders/fulfilled", order)
    assert r.json()["order"]["invitation"] == {"state": "skipped", "reason": reason, "send_at": None}


async def test_shopify_unknown_consent_is_invited_when_the_merchant_does_not_require_it(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, shop, {"require_consent": False})
    order = fulfilled_order(buyer_accepts_marketing=False)
    order["customer"]["email_marketing_consent"]["state"] = "not_subscribed"
    r = await post_shopify(client, "orders/fulfilled", order)
    assert r.json()["order"]["invitation"]["state"] == "scheduled"


async def test_shopify_wrong_or_missing_signature_is_401_and_stores_nothing(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    body = json.dumps(fulfilled_order()).encode()
    for signature in (sign("another-secret", body), sign(SHOPIFY_SECRET, body + b" "), "", "not base64!"):
        r = await post_shopify(client, "orders/fulfilled", raw=body, signature=signature)
        assert r.status_code == 401, signature
        assert r.json()["error"]["code"] == "unauthorized"
    # The signature covers the raw bytes: the same JSON re-serialised does not verify.
    r = await post_shopify(client, "orders/fulfilled", raw=json.dumps(fulfilled_order(), indent=1).encode(),
                           signature=sign(SHOPIFY_SECRET, body))
    assert r.status_code == 401
    assert await count(services, "orders") == 0
    assert await count(services, "webhook_receipts") == 0


async def test_shopify_without_a_secret_is_401(client: httpx.AsyncClient, merchant: tuple[Merchant, str],
                                               services: Services) -> None:
    r = await post_shopify(client, "orders/fulfilled", fulfilled_order())
    assert r.status_code == 401
    assert "shopify_secret" in r.json()["error"]["message"]
    assert await count(services, "orders") == 0


async def test_shopify_unknown_shop_is_404(client: httpx.AsyncClient, shop: Merchant) -> None:
    r = await post_shopify(client, "orders/fulfilled", fulfilled_order(), slug="no-such-shop")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_shopify_repeated_delivery_does_nothing(client: httpx.AsyncClient, shop: Merchant,
                                                      services: Services) -> None:
    first = await post_shopify(client, "orders/fulfilled", fulfilled_order(), webhook_id="b54557e4-8a5f-4f7d")
    tables = ("orders", "order_events", "order_items", "invitations", "jobs", "webhook_receipts")
    snapshot = [await count(services, t) for t in tables]
    services.clock.advance(minutes=5)
    again = await post_shopify(client, "orders/fulfilled", fulfilled_order(), webhook_id="b54557e4-8a5f-4f7d")
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert [await count(services, t) for t in tables] == snapshot
    assert first.json()["status"] == "processed"


async def test_shopify_cancellation_cancels_the_scheduled_invitation(client: httpx.AsyncClient, shop: Merchant,
                                                                     services: Services) -> None:
    await post_shopify(client, "orders/fulfilled", fulfilled_order())
    cancelled = fulfilled_order(cancelled_at="2026-01-05T08:30:00+01:00", cancel_reason="customer")
    r = await post_shopify(client, "orders/cancelled", cancelled)
    assert r.status_code == 200
    assert r.json()["order"]["order_status"] == "cancelled"
    assert r.json()["order"]["invitation"]["state"] == "cancelled"
    assert r.json()["order"]["invitation"]["reason"] == "order_cancelled"
    stamp = await services.pool.fetchval("SELECT cancelled_at FROM orders")
    assert stamp.isoformat() == "2026-01-05T07:30:00+00:00"


async def test_shopify_full_refund_cancels_the_scheduled_invitation(client: httpx.AsyncClient, shop: Merchant,
                                                                    services: Services) -> None:
    await post_shopify(client, "orders/fulfilled", fulfilled_order())
    r = await post_shopify(client, "refunds/create", fixture("shopify_refund"))
    assert r.status_code == 200, r.text
    assert r.json()["order"]["order_status"] == "refunded"
    inv = await invitation(services, "5820398174281")
    assert inv is not None
    assert (inv["state"], inv["reason"]) == ("cancelled", "order_refunded")


async def test_shopify_partial_refund_keeps_the_invitation(client: httpx.AsyncClient, shop: Merchant,
                                                           services: Services) -> None:
    await post_shopify(client, "orders/fulfilled", fulfilled_order())
    refund = fixture("shopify_refund")
    one_sock = copy.deepcopy(refund)
    one_sock["refund_line_items"] = [refund["refund_line_items"][1]]
    one_sock["refund_line_items"][0]["quantity"] = 1
    shipping_only = copy.deepcopy(refund)
    shipping_only["refund_line_items"] = []
    for partial in (one_sock, shipping_only):
        r = await post_shopify(client, "refunds/create", partial)
        assert r.json() == {"status": "ignored", "topic": "refunds/create", "reason": "partial_refund"}
    inv = await invitation(services, "5820398174281")
    assert inv is not None and inv["state"] == "scheduled"


async def test_shopify_unknown_topic_is_ignored_with_200(client: httpx.AsyncClient, shop: Merchant,
                                                         services: Services) -> None:
    r = await post_shopify(client, "products/update", {"id": 8901234567881, "title": "Trail-Laufschuh Alpin"})
    assert r.status_code == 200
    assert r.json()["status"] == "ignored"
    assert await count(services, "webhook_receipts") == 0


async def test_shopify_bad_json_with_a_valid_signature_is_400(client: httpx.AsyncClient, shop: Merchant,
                                                              services: Services) -> None:
    r = await post_shopify(client, "orders/create", raw=b'{"id": 5820398174281, "email": ')
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_json"
    assert set(r.json()["error"]) == {"code", "message", "fields"}


async def test_shopify_order_of_tips_and_gift_cards_only_is_ignored(client: httpx.AsyncClient, shop: Merchant,
                                                                    services: Services) -> None:
    order = fulfilled_order()
    order["line_items"] = [order["line_items"][2], {**order["line_items"][0], "gift_card": True}]
    r = await post_shopify(client, "orders/fulfilled", order)
    assert r.json()["status"] == "ignored"
    assert r.json()["reason"] == "no_reviewable_products"
    assert await count(services, "orders") == 0


async def test_shopify_body_over_one_megabyte_is_413(client: httpx.AsyncClient, shop: Merchant,
                                                     services: Services) -> None:
    order = fulfilled_order(note="x" * (1024 * 1024))
    r = await post_shopify(client, "orders/fulfilled", order)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert await count(services, "orders") == 0


def test_shopify_mapping_falls_back_for_email_name_and_sku() -> None:
    order = shopify_order(email="", contact_email=None)
    order["customer"] = {"id": 1, "email": "ana@example.es", "first_name": None, "last_name": None}
    order["billing_address"] = None
    order["line_items"][0]["product_id"] = None  # a product deleted since: its SKU stands in
    body = shopify.order_body("orders/create", order)
    assert body["customer"]["email"] == "ana@example.es"
    assert body["customer"]["name"] == "Lena Hoffmann"  # from the shipping address
    assert [p["id"] for p in body["products"]] == ["TLA-39-PET", "8901234600649"]
    assert body["occurred_at"] == "2026-01-02T14:12:09+01:00"

    order = shopify_order(email=None, customer=None)
    assert shopify.order_body("orders/create", order)["customer"]["email"] == "lena.hoffmann@example.de"


async def test_shopify_malformed_optional_fields_are_dropped_not_refused(client: httpx.AsyncClient, shop: Merchant,
                                                                         services: Services) -> None:
    order = fulfilled_order(email="not an address", contact_email=None, customer_locale="xx_!!")
    order["customer"]["email"] = None
    r = await post_shopify(client, "orders/fulfilled", order)
    assert r.status_code == 200, r.text
    assert r.json()["order"]["invitation"]["reason"] == "no_email"
    assert await services.pool.fetchval("SELECT locale FROM orders") is None


async def _review(services: Services, order_external_id: str, *, body: str = "Passt perfekt, super Grip.") -> int:
    order = await services.pool.fetchrow("SELECT * FROM orders WHERE external_id = $1", order_external_id)
    inv = await invitation(services, order_external_id)
    return await services.pool.fetchval(
        """INSERT INTO reviews (merchant_id, product_id, product_name, order_id, invitation_id, method, rating, title,
                                body, display_name, author_hash, locale, state, ip_hash, submitted_at, published_at)
           VALUES ($1, '8901234567881', 'Trail-Laufschuh Alpin', $2, $3, 'invited', 5, 'Top Schuh', $4, 'Lena H.',
                   $5, 'de', 'published', 'iphash', $6, $6) RETURNING id""",
        order["merchant_id"], order["id"], inv["id"] if inv else None, body, order["buyer_hash"],
        services.clock.now())


async def test_shopify_data_request_keeps_the_export_for_the_merchant_and_audits_the_request(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    await post_shopify(client, "orders/fulfilled", fulfilled_order())
    await _review(services, "5820398174281")
    r = await post_shopify(client, "customers/data_request", fixture("shopify_customers_data_request"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "exported"
    entry = await services.pool.fetchrow("SELECT * FROM audit_log WHERE action = 'data_request'")
    assert (entry["table_name"], entry["row_id"]) == ("merchants", shop.id)
    assert entry["after"] == {"export_id": r.json()["export_id"], "request_id": "9012345",
                              "order_ids": ["5820398174281"]}
    stored = await services.pool.fetchrow("SELECT * FROM data_exports WHERE id = $1", r.json()["export_id"])
    assert (stored["merchant_id"], stored["request_id"], stored["delivered_at"]) == (shop.id, "9012345", None)
    export = stored["export"]
    assert export["orders"][0]["email"] == BUYER
    assert export["orders"][0]["order_id"] == "5820398174281"
    assert export["orders"][0]["invitation"]["state"] == "scheduled"
    assert [p["name"] for p in export["orders"][0]["products"]] == ["Trail-Laufschuh Alpin", "Merino-Socken Trail"]
    assert export["reviews"][0]["body"] == "Passt perfekt, super Grip."


async def test_buyer_data_export_finds_the_buyer_by_address(shop: Merchant, services: Services,
                                                            client: httpx.AsyncClient) -> None:
    await post_shopify(client, "orders/create", shopify_order())
    async with services.pool.acquire() as conn:
        data = await buyer_data.export(conn, shop.id, "  Lena.Hoffmann@Example.de ")
        nobody = await buyer_data.export(conn, shop.id, "someone.else@example.de")
    assert [o["order_id"] for o in data["orders"]] == ["5820398174281"]
    assert nobody["orders"] == [] and nobody["reviews"] == []


async def test_shopify_customer_redact_erases_the_buyer_but_keeps_the_hash(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    await post_shopify(client, "orders/fulfilled", fulfilled_order())
    other = fulfilled_order(id=5820398174999, email="jan@example.pl", contact_email="jan@example.pl")
    other["customer"] = None
    await post_shopify(client, "orders/fulfilled", other)
    review_id = await _review(services, "5820398174281")
    await services.pool.execute(
        """INSERT INTO review_versions (review_id, rating, title, body, display_name)
           VALUES ($1, 4, 'Gut', 'Erste Fassung', 'Lena H.')""", review_id)
    await post_shopify(client, "customers/data_request", fixture("shopify_customers_data_request"))
    buyer_hash = await services.pool.fetchval("SELECT buyer_hash FROM orders WHERE external_id = '5820398174281'")

    r = await post_shopify(client, "customers/redact", fixture("shopify_customers_redact"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "erased"
    order = await services.pool.fetchrow("SELECT * FROM orders WHERE external_id = '5820398174281'")
    assert (order["buyer_email"], order["buyer_name"]) == (None, None)
    assert order["buyer_hash"] == buyer_hash  # suppressions and fraud detection still match
    inv = await invitation(services, "5820398174281")
    assert inv is not None and (inv["state"], inv["reason"]) == ("cancelled", "erased")
    review = await services.pool.fetchrow("SELECT * FROM reviews WHERE id = $1", review_id)
    assert (review["state"], review["title"], review["body"], review["display_name"], review["ip_hash"]) == (
        "withdrawn", "", "", "", None)
    assert review["author_hash"] == buyer_hash
    assert await count(services, "review_versions") == 0
    export = await services.pool.fetchrow("SELECT export, erased_at FROM data_exports")
    assert export["export"] is None and export["erased_at"] is not None
    assert BUYER not in json.dumps(await services.pool.fetchval(
        "SELECT json_agg(after) FROM audit_log"))
    # Another buyer of the same shop is untouched.
    other_row = await services.pool.fetchrow("SELECT * FROM orders WHERE external_id = '5820398174999'")
    assert other_row["buyer_email"] == "jan@example.pl"
    assert (await invitation(services, "5820398174999") or {})["state"] == "scheduled"


@pytest.mark.parametrize(("topic", "where"), [
    ("customers/redact", "email"), ("customers/redact", "order"), ("customers/data_request", "email"),
    ("customers/data_request", "order")])
async def test_a_signed_privacy_request_with_a_nul_is_a_recorded_422_and_erases_nothing(
        client: httpx.AsyncClient, shop: Merchant, services: Services, topic: str, where: str) -> None:
    await post_shopify(client, "orders/fulfilled", fulfilled_order())
    name = "shopify_customers_redact" if topic == "customers/redact" else "shopify_customers_data_request"
    payload = fixture(name)
    if where == "email":
        payload["customer"]["email"] = "lena.\x00hartmann@example.de"
    else:
        key = "orders_to_redact" if topic == "customers/redact" else "orders_requested"
        payload[key] = ["5820398174\x00281"]
    r = await post_shopify(client, topic, payload)
    assert r.status_code == 422, r.text  # Shopify shows it in its log; a 5xx it would retry for two days
    assert r.json()["error"]["code"] == "unusable_payload"
    assert await services.pool.fetchval("SELECT count(*) FROM orders WHERE buyer_email IS NOT NULL") == 1
    assert await count(services, "data_exports") == 0


async def test_shopify_shop_redact_erases_every_buyer(client: httpx.AsyncClient, shop: Merchant,
                                                      services: Services) -> None:
    await post_shopify(client, "orders/fulfilled", fulfilled_order())
    await post_shopify(client, "orders/fulfilled", fulfilled_order(id=5820398174999, email="jan@example.pl"))
    await _review(services, "5820398174999")
    r = await post_shopify(client, "shop/redact", fixture("shopify_shop_redact"))
    assert r.status_code == 200, r.text
    assert r.json()["orders"] == 2
    assert await services.pool.fetchval(
        "SELECT count(*) FROM orders WHERE buyer_email IS NOT NULL OR buyer_name IS NOT NULL") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM invitations WHERE state = 'scheduled'") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM reviews WHERE state <> 'withdrawn' OR body <> ''") == 0


# --- WooCommerce ---------------------------------------------------------------------------------------------


async def test_woocommerce_order_then_completion_schedules_an_invitation(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    r = await post_woo(client, woo_order(), topic="order.created")
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "placed"
    r = await post_woo(client, completed_woo_order())
    assert r.status_code == 200, r.text
    assert r.json()["order"]["invitation"]["state"] == "scheduled"
    order = await services.pool.fetchrow("SELECT * FROM orders WHERE external_id = '7315'")
    assert (order["buyer_email"], order["buyer_name"], order["locale"], order["consent"]) == (
        "giulia.bianchi@example.it", "Giulia Bianchi", "it", True)
    assert order["placed_at"].isoformat() == "2026-01-02T14:40:18+00:00"
    assert order["fulfilled_at"].isoformat() == "2026-01-04T09:15:02+00:00"
    items = await services.pool.fetch("SELECT product_id, name, image_url FROM order_items ORDER BY position")
    assert [tuple(i) for i in items] == [
        ("1881", "Tazza in ceramica smaltata",
         "https://ceramiche-esempio.it/wp-content/uploads/2025/09/tazza-blu.jpg"),
        ("1902", "Sottobicchieri in sughero (set da 4)",
         "https://ceramiche-esempio.it/wp-content/uploads/2025/09/sughero.jpg"),
        ("PIA-FON", "Piatto fondo (fuori catalogo)", None),  # deleted product: its SKU stands in
    ]


async def test_woocommerce_every_later_update_of_a_completed_order_changes_nothing(
        client: httpx.AsyncClient, shop: Merchant, services: Services) -> None:
    await post_woo(client, completed_woo_order())
    snapshot = [await count(services, t) for t in ("order_events", "invitations", "jobs")]
    r = await post_woo(client, completed_woo_order(customer_note="Grazie!"))
    assert r.json()["status"] == "replayed"
    assert [await count(services, t) for t in ("order_events", "invitations", "jobs")] == snapshot


@pytest.mark.parametrize("signed", [False, True])
async def test_woocommerce_ping_is_answered_and_changes_nothing(client: httpx.AsyncClient,
                                                                merchant: tuple[Merchant, str],
                                                                services: Services, signed: bool) -> None:
    # The ping comes when the webhook is saved, possibly before the secret is set in Attest.
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"}
    if signed:
        headers["X-WC-Webhook-Signature"] = sign(WOO_SECRET, b"webhook_id=12")
    r = await client.post("/hooks/woocommerce/demo-shop", content=b"webhook_id=12", headers=headers)
    assert r.status_code == 200
    assert r.json() == {"status": "ping"}
    assert await count(services, "orders") == 0
    assert await count(services, "webhook_receipts") == 0


async def test_woocommerce_wrong_signature_or_missing_secret_is_401(client: httpx.AsyncClient,
                                                                   merchant: tuple[Merchant, str],
                                                                   services: Services) -> None:
    r = await post_woo(client, completed_woo_order())
    assert r.status_code == 401  # no woocommerce_secret set yet
    assert "woocommerce_secret" in r.json()["error"]["message"]
    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, merchant[0], {"woocommerce_secret": WOO_SECRET})
    r = await post_woo(client, completed_woo_order(), secret="wrong")
    assert r.status_code == 401
    r = await post_woo(client, completed_woo_order(), signature="")
    assert r.status_code == 401
    assert await count(services, "orders") == 0


async def test_woocommerce_repeated_delivery_does_nothing(client: httpx.AsyncClient, shop: Merchant,
                                                          services: Services) -> None:
    delivery = "36e520ebabc2fa725092ff4a47acedf2"
    await post_woo(client, completed_woo_order(), delivery_id=delivery)
    receipts = await count(services, "webhook_receipts")
    r = await post_woo(client, completed_woo_order(), delivery_id=delivery)
    assert r.json()["status"] == "duplicate"
    assert await count(services, "webhook_receipts") == receipts
    # WooCommerce derives delivery ids from the webhook and the second: another order may share one.
    other = completed_woo_order(id=7316, number="7316")
    r = await post_woo(client, other, delivery_id=delivery)
    assert r.json()["status"] == "processed"
    assert await count(services, "orders") == 2


@pytest.mark.parametrize(("status", "reason"), [("cancelled", "order_cancelled"), ("refunded", "order_refunded")])
async def test_woocommerce_cancel_and_refund_cancel_the_invitation(client: httpx.AsyncClient, shop: Merchant,
                                                                   services: Services, status: str,
                                                                   reason: str) -> None:
    await post_woo(client, completed_woo_order())
    r = await post_woo(client, completed_woo_order(status=status, date_modified_gmt="2026-01-05T08:00:00"))
    assert r.status_code == 200, r.text
    assert r.json()["order"]["invitation"]["state"] == "cancelled"
    assert r.json()["order"]["invitation"]["reason"] == reason


@pytest.mark.parametrize(("status", "expected"), [("pending", "placed"), ("on-hold", "placed"),
                                                  ("processing", "placed"), ("completed", "fulfilled")])
async def test_woocommerce_status_mapping(client: httpx.AsyncClient, shop: Merchant, status: str,
                                          expected: str) -> None:
    r = await post_woo(client, completed_woo_order(status=status), topic="order.created")
    assert r.json()["order"]["status"] == expected


async def test_woocommerce_failed_orders_and_other_topics_are_ignored(client: httpx.AsyncClient, shop: Merchant,
                                                                      services: Services) -> None:
    r = await post_woo(client, woo_order(status="failed"))
    assert r.json() == {"status": "ignored", "topic": "order.updated", "reason": "status_failed"}
    r = await post_woo(client, {"id": 1881, "name": "Tazza"}, topic="product.updated")
    assert r.json()["status"] == "ignored"
    assert await count(services, "orders") == 0


@pytest.mark.parametrize(("meta", "reason"), [(None, "consent_unknown"), ("no", "no_consent"),
                                              ("0", "no_consent")])
async def test_woocommerce_consent_comes_from_order_meta(client: httpx.AsyncClient, shop: Merchant,
                                                         meta: str | None, reason: str) -> None:
    order = completed_woo_order()
    order["meta_data"] = [m for m in order["meta_data"] if m["key"] != "_attest_review_consent"]
    if meta is not None:
        order["meta_data"].append({"id": 1, "key": "review_consent", "value": meta})
    r = await post_woo(client, order)
    assert r.json()["order"]["invitation"]["reason"] == reason


@pytest.mark.parametrize(("country", "locale"), [
    ("DE", "de"), ("AT", "de"), ("CH", "de"), ("ES", "es"), ("IT", "it"), ("PL", "pl"), ("RO", "ro"),
    ("MD", "ro"), ("FR", "fr"), ("BE", "fr"), ("LU", "fr"), ("NL", "en"), ("GB", "en"), ("", "en"), (None, "en"),
])
def test_woocommerce_locale_from_billing_country(country: str | None, locale: str) -> None:
    assert woocommerce.locale_for(country) == locale


async def test_woocommerce_locale_reaches_the_order(client: httpx.AsyncClient, shop: Merchant,
                                                    services: Services) -> None:
    order = completed_woo_order()
    order["billing"]["country"] = "ch"
    await post_woo(client, order)
    assert await services.pool.fetchval("SELECT locale FROM orders") == "de"


async def test_woocommerce_body_over_one_megabyte_is_413(client: httpx.AsyncClient, shop: Merchant,
                                                         services: Services) -> None:
    r = await post_woo(client, completed_woo_order(customer_note="x" * (1024 * 1024)))
    assert r.status_code == 413
    assert await count(services, "orders") == 0


async def test_shopify_refused_payload_leaves_no_receipt_so_its_retry_counts(client: httpx.AsyncClient,
                                                                             shop: Merchant,
                                                                             services: Services) -> None:
    broken = shopify_order(created_at=None, processed_at=None)
    r = await post_shopify(client, "orders/create", broken, webhook_id="retry-me")
    assert r.status_code == 422
    assert "occurred_at" in r.json()["error"]["fields"]
    assert await count(services, "webhook_receipts") == 0
    refund = fixture("shopify_refund")
    del refund["order_id"]
    r = await post_shopify(client, "refunds/create", refund, webhook_id="retry-me-too")
    assert r.status_code == 422
    assert await count(services, "webhook_receipts") == 0
    r = await post_shopify(client, "orders/create", shopify_order(), webhook_id="retry-me")
    assert r.json()["status"] == "processed"


# --- signed deliveries that cannot be used (issue 14, item 7) ---------------------------------


@pytest.mark.parametrize(("platform", "topic", "change"), [
    ("shopify", "orders/fulfilled", {"customer": "str"}),
    ("shopify", "orders/fulfilled", {"billing_address": "str", "customer": None}),
    ("woocommerce", "order.updated", {"billing": "str"}),
])
async def test_a_signed_delivery_that_cannot_be_used_is_a_4xx_and_recorded(
        client: httpx.AsyncClient, shop: Merchant, services: Services, caplog: pytest.LogCaptureFixture,
        platform: str, topic: str, change: dict[str, Any]) -> None:
    if platform == "shopify":
        r = await post_shopify(client, topic, {**fulfilled_order(), **change})
    else:
        r = await post_woo(client, {**completed_woo_order(), **change}, topic=topic)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "unusable_payload"
    assert (await count(services, "orders"), await count(services, "webhook_receipts")) == (0, 0)
    refused = [rec for rec in caplog.records if rec.getMessage() == "webhook refused"]
    assert refused and refused[0].reason and refused[0].platform == platform  # type: ignore[attr-defined]
    assert (await client.get("/healthz")).status_code == 200  # and the app serves on


async def test_a_refund_with_a_quantity_that_is_no_number_is_refused(client: httpx.AsyncClient, shop: Merchant,
                                                                     services: Services) -> None:
    assert (await post_shopify(client, "orders/fulfilled", fulfilled_order())).status_code == 200
    refund = fixture("shopify_refund")
    refund["refund_line_items"][0]["quantity"] = "abc"
    r = await post_shopify(client, "refunds/create", refund)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unusable_payload", r.text
    row = await services.pool.fetchrow("SELECT state FROM invitations")
    assert row["state"] == "scheduled"
