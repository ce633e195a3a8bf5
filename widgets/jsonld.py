"""schema.org JSON-LD for a product or the shop: aggregate rating and the latest reviews."""

from __future__ import annotations

import json
from typing import Any

from asyncpg import Record

CONTEXT = "https://schema.org"


def _review(row: Record) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@type": "Review",
        "author": {"@type": "Person", "name": row["display_name"] or "Anonymous"},
        "datePublished": row["published_at"].date().isoformat() if row["published_at"] else None,
        "reviewBody": row["body"],
        "reviewRating": {"@type": "Rating", "ratingValue": row["rating"], "bestRating": 5, "worstRating": 1},
    }
    if row["title"]:
        item["name"] = row["title"]
    return {k: v for k, v in item.items() if v is not None}


def document(*, kind: str, name: str, summary: dict[str, Any], rows: list[Record],
             sku: str | None = None) -> dict[str, Any]:
    """`kind` is "Product" or "Organization"; aggregateRating is left out when there is nothing to average."""
    doc: dict[str, Any] = {"@context": CONTEXT, "@type": kind, "name": name}
    if sku is not None:
        doc["sku"] = sku
    if summary["count"]:
        doc["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": summary["average"],
                                  "reviewCount": summary["count"], "bestRating": 5, "worstRating": 1}
        doc["review"] = [_review(r) for r in rows]
    return doc


def dumps(doc: dict[str, Any]) -> str:
    # Shops paste this into <script type="application/ld+json">: "</script>" in a review must not end it.
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
