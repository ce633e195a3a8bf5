"""Google's product review feed, schema 2.4 (developers.google.com/product-review-feeds/schema), written
review by review as the rows stream in. Each review is built with ElementTree, so every value is
escaped, and what XML cannot hold (control characters) is dropped.

Google always takes a feed as the whole truth: a review missing from it is deleted on their side.
So the feed is every published product review, never capped; held, rejected and withdrawn reviews
are never in it, which is why each says `is_spam` false.

What each review says of itself:

- `is_verified_purchase`: true only for a review written from Attest's invitation after a real
  order; an imported review is not, whatever its source claimed.
- `is_incentivized_review`: false; Attest has no way to reward a review.
- `review_timestamp`: when its author wrote it (an imported review's source date).
- `review_language` from the review, `review_country` from the order it was written for.
- `collection_method`: `post_fulfillment` for an invited review (the invitation goes after
  fulfilment). An import's source does not say how it asked, so an imported review has none rather
  than a claim Attest cannot stand behind (`unsolicited` would be one).
- `transaction_id`: the shop's order id, only for a verified review.
- the product's identifiers (GTINs, MPNs, SKUs, brands), name and address as its orders gave them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asyncpg import Record

from widgets import links
from widgets.public import is_verified, iso, photo_path, written_at, xml_text

VERSION = "2.4"
SCHEMA = f"http://www.google.com/shopping/reviews/schema/product/{VERSION}/product_reviews.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
AGGREGATOR = "Attest"


@dataclass(frozen=True)
class Shop:
    name: str
    slug: str
    base_url: str


def reviewer_images(row: Record, base_url: str) -> list[str]:
    """The addresses of the photos the review's author took that shoppers may see (approved, of a
    published review: `published_photos`), for `<reviewer_images>`."""
    return [base_url + photo_path(key) for key in row["photo_keys"] or []]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = xml_text(text)
    return el


def _language(locale: str | None) -> str | None:
    primary = (locale or "").replace("_", "-").split("-")[0].lower()
    return primary if primary.isascii() and primary.isalpha() and 2 <= len(primary) <= 3 else None


def _identifiers(parent: ET.Element, row: Record) -> None:
    ids = ET.Element("product_ids")
    skus = list(row["skus"] or []) or [row["product_id"]]  # the shop's own id, when no order gave a SKU
    for group, tag, values in (("gtins", "gtin", row["gtins"]), ("mpns", "mpn", row["mpns"]),
                               ("skus", "sku", skus), ("brands", "brand", row["brands"])):
        kept = [v for v in values or [] if xml_text(v).strip()]
        if kept:
            box = _sub(ids, group)
            for value in kept:
                _sub(box, tag, value)
    if len(ids):
        parent.append(ids)


def review(row: Record, shop: Shop) -> ET.Element | None:
    """One `<review>`, its elements in the schema's order; None for a review without words (the
    schema's `<content>` is required)."""
    content = xml_text(row["body"] or row["title"] or "")
    if not content.strip():
        return None
    verified = is_verified(row)
    page = links.product_page(shop.base_url, shop.slug, row["product_id"])
    el = ET.Element("review")
    _sub(el, "review_id", str(row["id"]))
    reviewer = _sub(el, "reviewer")
    name = xml_text(row["display_name"] or "").strip()
    _sub(reviewer, "name", name or "Anonymous", is_anonymous="false" if name else "true")
    _sub(el, "is_verified_purchase", "true" if verified else "false")
    _sub(el, "is_incentivized_review", "false")
    _sub(el, "review_timestamp", iso(written_at(row)))
    if xml_text(row["title"] or "").strip() and row["body"]:
        _sub(el, "title", row["title"])
    _sub(el, "content", content)
    if language := _language(row["locale"]):
        _sub(el, "review_language", language)
    if row["country"]:
        _sub(el, "review_country", row["country"])
    # No page per review: the product's public page lists it among the others.
    _sub(el, "review_url", page, type="group")
    if images := reviewer_images(row, shop.base_url):
        box = _sub(el, "reviewer_images")
        for url in images:
            _sub(_sub(box, "reviewer_image"), "url", url)
    _sub(_sub(el, "ratings"), "overall", str(row["rating"]), min="1", max="5")
    product = _sub(_sub(el, "products"), "product")
    _identifiers(product, row)
    product_name = xml_text(row["ordered_name"] or row["product_name"] or "").strip()
    if product_name:
        _sub(product, "product_name", product_name)
    _sub(product, "product_url", row["product_url"] or page)
    _sub(el, "is_spam", "false")
    if verified:
        _sub(el, "collection_method", "post_fulfillment")
        if row["order_external_id"]:
            _sub(el, "transaction_id", row["order_external_id"])
    return el


def _head(shop: Shop) -> str:
    feed = ET.Element("feed", {"xmlns:xsi": XSI, "xsi:noNamespaceSchemaLocation": SCHEMA})
    _sub(feed, "version", VERSION)
    _sub(_sub(feed, "aggregator"), "name", AGGREGATOR)
    _sub(_sub(feed, "publisher"), "name", shop.name)
    text = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text.removesuffix("</feed>")


async def document(rows: AsyncIterator[Record], shop: Shop) -> AsyncIterator[str]:
    """The feed, piece by piece. `<reviews>` opens with the first review: the schema wants none
    rather than an empty one."""
    yield _head(shop)
    opened = False
    async for row in rows:
        el = review(row, shop)
        if el is None:
            continue
        if not opened:
            yield "<reviews>"
            opened = True
        yield ET.tostring(el, encoding="unicode")
    yield "</reviews></feed>\n" if opened else "</feed>\n"
