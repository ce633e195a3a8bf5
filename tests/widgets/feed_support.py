"""What the feed and JSON-LD tests share: orders with product identifiers, reviews tied to them, and
Google's feed schemas as tests/data holds them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema

from reviews.intake import events, orders
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from tests.helpers import order_event

DATA = Path(__file__).resolve().parents[1] / "data"
BASE_URL = "https://reviews.example.org"  # Google's feeds want addresses with a dot in them
MR = "{http://schemas.google.com/merchant_reviews/5.0}"
SHOES = {"id": "SKU-1", "name": "Trail running shoes", "url": "https://shop.example/p/1",
         "image_url": "https://shop.example/i/1.jpg", "gtin": "4006381333931", "mpn": "TR-39",
         "brand": "Bergwerk", "sku": "TLA-39-PET"}


def settings_at(tmp_path: Path, dsn: str, base_url: str = BASE_URL) -> Settings:
    """The test app's settings with Attest's own address at `base_url` (what its links and feeds name)."""
    return Settings(data_dir=tmp_path / "data", database_url=dsn, secret_key="test-secret-key", base_url=base_url,
                    mail_from="reviews@attest.test", dev=True)


@cache
def schema(name: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / name))


def product_feed_schema() -> xmlschema.XMLSchema:
    return schema("google_product_review_feed_2.4.xsd")


def merchant_feed_schema() -> xmlschema.XMLSchema:
    return schema("google_merchant_review_feed_5.0.xsd")


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 (the app's own answer, parsed strictly)


async def order(svc: Services, shop: Merchant, order_id: str, *, country: str | None = "DE",
                products: list[dict[str, Any]] | None = None) -> int:
    """A fulfilled order of this shop; its id in `orders`."""
    body = order_event(order_id, occurred_at=svc.clock.now().isoformat(), products=products or [SHOES])
    if country:
        body["customer"]["country"] = country
    async with svc.pool.acquire() as conn:
        await orders.ingest(conn, shop, events.parse_event(body), now=svc.clock.now(), hasher=svc.hasher)
    order_pk: int = await svc.pool.fetchval("SELECT id FROM orders WHERE merchant_id = $1 AND external_id = $2",
                                            shop.id, order_id)
    return order_pk


async def review(svc: Services, shop: Merchant, rating: int, *, written: datetime, product_id: str | None = "SKU-1",
                 product_name: str | None = "Trail shoes", order_pk: int | None = None, method: str = "invited",
                 state: str = "published", title: str = "Great grip", body: str = "Held on wet rock all weekend.",
                 display_name: str = "Lena H.", locale: str = "de", edited: datetime | None = None,
                 published: datetime | None = None) -> int:
    review_id: int = await svc.pool.fetchval(
        """INSERT INTO reviews (merchant_id, product_id, product_name, order_id, method, rating, title, body,
                                display_name, locale, state, submitted_at, published_at, edited_at, external_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id""",
        shop.id, product_id, product_name, order_pk, method, rating, title, body, display_name, locale, state,
        written, (published or datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) if state == "published" else None, edited,
        f"import-{written.timestamp()}-{rating}" if method == "imported" else None)
    return review_id
