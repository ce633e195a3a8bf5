"""schema.org JSON-LD, within Google's review-snippet rules
(developers.google.com/search/docs/appearance/structured-data/review-snippet).

- A product's `Product`: its name, image, address and identifiers as its orders gave them; its
  `AggregateRating` and latest `Review`s only when it has published reviews (a rating of nothing is
  no rating).
- The shop's `Organization`: its name and website, and never a rating nor reviews. Reviews a
  business collects about itself and shows on its own site are "self-serving", which Google does
  not show as stars; a product's reviews are not the shop's either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from asyncpg import Record

from widgets import links
from widgets.public import photo_path, written_at

CONTEXT = "https://schema.org"


def images(row: Record, base_url: str) -> list[str]:
    """The addresses of the photos shoppers see with a listed review (`widgets.listing`): its `image`."""
    return [base_url + photo_path(p["key"]) for p in row["photos"] or []]


def _review(row: Record, base_url: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@type": "Review",
        "author": {"@type": "Person", "name": row["display_name"] or "Anonymous"},
        "datePublished": written_at(row).date().isoformat(),  # when it was written, an import's too
        "reviewBody": row["body"],
        "reviewRating": {"@type": "Rating", "ratingValue": row["rating"], "bestRating": 5, "worstRating": 1},
        "image": images(row, base_url),
    }
    if row["title"]:
        item["name"] = row["title"]
    if row["edited_at"] is not None:
        item["dateModified"] = row["edited_at"].date().isoformat()
    return {k: v for k, v in item.items() if v}


def product(*, product_id: str, facts: Record, summary: dict[str, Any], rows: list[Record],
            base_url: str) -> dict[str, Any]:
    """A product known to the shop (`queries.product`), with its published reviews if it has any (rows
    of `widgets.listing`; their photos' addresses start with `base_url`)."""
    doc: dict[str, Any] = {"@context": CONTEXT, "@type": "Product",
                           "name": facts["ordered_name"] or facts["reviewed_name"] or product_id,
                           "productID": product_id}
    if facts["image_url"]:
        doc["image"] = facts["image_url"]
    if facts["url"]:
        doc["url"] = facts["url"]
    for key, values in (("sku", facts["skus"]), ("gtin", facts["gtins"]), ("mpn", facts["mpns"])):
        if values:
            doc[key] = values[0]  # the one its newest order gave
    if facts["brands"]:
        doc["brand"] = {"@type": "Brand", "name": facts["brands"][0]}
    if summary["count"]:
        doc["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": summary["average"],
                                  "reviewCount": summary["count"], "bestRating": 5, "worstRating": 1}
        doc["review"] = [_review(r, base_url) for r in rows]
    return doc


def organization(*, name: str, domains: Sequence[str]) -> dict[str, Any]:
    """The shop, without stars: see the module's note on self-serving reviews."""
    doc: dict[str, Any] = {"@context": CONTEXT, "@type": "Organization", "name": name}
    if website := links.website(domains):
        doc["url"] = website
    return doc


def dumps(doc: dict[str, Any]) -> str:
    # Shops paste this into <script type="application/ld+json">: "</script>" in a review must not end it.
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
