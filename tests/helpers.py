"""Small builders shared by tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx

from reviews.intake import events, orders
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import tokens
from reviews.platform.services import Services

# Markup and quotes a review text may carry: every page and widget must show them escaped.
HOSTILE = "<script>alert(1)</script> & \"quotes\" 'single'"
# When add_review's reviews are published: one minute apart from here.
REVIEWS_FROM = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_seq = 0


def order_event(order_id: str = "A-1001", status: str = "fulfilled", *, occurred_at: str = "2026-01-05T09:00:00Z",
                email: str = "anna.kowalska@example.com", name: str = "Anna Kowalska", locale: str = "en",
                consent: bool | None = True, products: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "status": status,
        "occurred_at": occurred_at,
        "customer": {"email": email, "name": name, "locale": locale},
        "products": products if products is not None else [
            {"id": "SKU-1", "name": "Trail running shoes", "url": "https://shop.example/p/1",
             "image_url": "https://shop.example/i/1.jpg", "gtin": "4006381333931"},
            {"id": "SKU-2", "name": "Merino socks"},
        ],
    }
    if consent is not None:
        body["consent"] = consent
    return body


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def make_merchant(svc: Services, slug: str = "shop", **settings: Any) -> Merchant:
    async with svc.pool.acquire() as conn:
        merchant, _ = await merchants.create(conn, name=f"Shop {slug}", slug=slug,
                                             settings={"invite_delay_days": 0, **settings})
    return merchant


async def ingest(svc: Services, merchant: Merchant, order_id: str = "A-1", **kwargs: Any) -> dict[str, Any]:
    """One order event (tests.helpers.order_event's fields) at the clock's now; returns the API's answer."""
    kwargs.setdefault("occurred_at", svc.clock.now().isoformat())
    timezone = kwargs.pop("timezone", None)
    body = order_event(order_id, **kwargs)
    if timezone:
        body["customer"]["timezone"] = timezone
    async with svc.pool.acquire() as conn:
        answer, _ = await orders.ingest(conn, merchant, events.parse_event(body), now=svc.clock.now(),
                                        hasher=svc.hasher)
    return answer


async def add_review(svc: Services, merchant_id: int, rating: int, *, state: str = "published",
                     method: str = "invited", product_id: str | None = None, product_name: str | None = None,
                     title: str = "Nice", body: str = "Good product.", display_name: str = "Anna K.",
                     edited: bool = False, locale: str = "en") -> int:
    global _seq
    _seq += 1
    at = REVIEWS_FROM + timedelta(minutes=_seq)
    return await svc.pool.fetchval(
        """INSERT INTO reviews (merchant_id, product_id, product_name, method, rating, title, body, display_name,
                                author_hash, ip_hash, locale, state, submitted_at, published_at, edited_at,
                                external_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'secret-author-hash', 'secret-ip-hash', $9, $10, $11, $12, $13,
                   $14)
           RETURNING id""",
        merchant_id, product_id, product_name, method, rating, title, body, display_name, locale, state,
        at - timedelta(hours=1), at if state == "published" else None, at if edited else None,
        f"ext-{_seq}" if method == "imported" else None,
    )


class FormParser(HTMLParser):
    """The fields of the first form on a page, as a browser would submit them untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "radio":
            self.radios.setdefault(a["name"], []).append(a["value"])
            if "checked" in a:
                self.fields[a["name"]] = a["value"]
        elif tag == "input" and "name" in a:
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


async def invite(client: httpx.AsyncClient, services: Services, key: str, **kwargs: object) -> str:
    r = await client.post("/api/v1/orders", json=order_event(**kwargs), headers=auth(key))  # type: ignore[arg-type]
    assert r.status_code == 200
    inv_id = await services.pool.fetchval("SELECT max(id) FROM invitations")
    return "/r/" + services.signer.sign(tokens.REVIEW, {"i": inv_id})


async def form_of(client: httpx.AsyncClient, path: str) -> FormParser:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    form = FormParser()
    form.feed(page.text)
    return form
