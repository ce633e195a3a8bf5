"""Small builders shared by tests."""

from __future__ import annotations

from typing import Any


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
