"""Google's merchant review feed (seller ratings), schema 5.0
(developers.google.com/merchant-review-feeds/xmlschema): the shop itself and its own reviews, those
written of the shop rather than of a product, streamed like the product feed.

The shop is named by its slug (stable: a slug never changes), its website by its first registered
domain (so a shop that registered none has no merchant feed), its rating page by its public page.
A review says when it was written and last edited, the country of the order it was written for
when the order said one, and how it was collected: `after_fulfillment` for an invited review. An
imported review's source does not say how it asked, so it has no collection method rather than a
claim Attest cannot stand behind. Reviewers without a public name are left unnamed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from asyncpg import Record

from widgets import links
from widgets.public import is_verified, iso, written_at, xml_text

NAMESPACE = "http://schemas.google.com/merchant_reviews/5.0"
SCHEMA = "http://www.gstatic.com/productsearch/static/reviews/5.0/merchant_reviews.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass(frozen=True)
class Shop:
    slug: str
    name: str
    domains: Sequence[str]
    created_at: datetime
    base_url: str


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = xml_text(text)
    return el


def merchant(shop: Shop) -> ET.Element:
    website = links.website(shop.domains)
    assert website is not None  # the route answers 404 for a shop without a registered domain
    el = ET.Element("merchant", id=shop.slug)
    _sub(el, "name", shop.name)
    _sub(el, "merchant_url", website)
    _sub(el, "rating_url", links.shop_page(shop.base_url, shop.slug))
    _sub(el, "create_timestamp", iso(shop.created_at))
    return el


def review(row: Record, shop: Shop) -> ET.Element:
    el = ET.Element("review", id=str(row["id"]), mid=shop.slug)
    name = xml_text(row["display_name"] or "").strip()
    if name:
        _sub(el, "reviewer_name", name)
    written = written_at(row)
    _sub(el, "create_timestamp", iso(written))
    _sub(el, "last_update_timestamp", iso(row["edited_at"] or written))
    if row["country"]:
        _sub(el, "country_code", row["country"])
    title, body = xml_text(row["title"] or "").strip(), xml_text(row["body"] or "").strip()
    if title and body:
        _sub(el, "title", title)
    _sub(el, "content", body or title)
    _sub(_sub(el, "ratings"), "overall", str(row["rating"]), min="1", max="5")
    if is_verified(row):
        _sub(el, "collection_method", "after_fulfillment")
    return el


def _head(shop: Shop) -> str:
    # The elements are unprefixed: the default namespace declared here is theirs.
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<feed xmlns="{NAMESPACE}" xmlns:xsi="{XSI}" xsi:schemaLocation="{NAMESPACE} {SCHEMA}">'
            f"<merchants>{ET.tostring(merchant(shop), encoding='unicode')}</merchants>")


async def document(rows: AsyncIterator[Record], shop: Shop) -> AsyncIterator[str]:
    yield _head(shop)
    opened = False
    async for row in rows:
        if not opened:
            yield "<reviews>"
            opened = True
        yield ET.tostring(review(row, shop), encoding="unicode")
    yield "</reviews></feed>\n" if opened else "</feed>\n"
