"""What search engines read of the public pages: the canonical address and its language versions,
whether a variant is indexed, the product's JSON-LD, and the shop's sitemap.

- Canonical: the page without filters or sort, with its page number past the first, and with `lang`
  only when the address asked for a language (a page without it is the x-default, negotiated).
- Filtered or re-sorted variants are `noindex, follow`: one indexed address per page of reviews.
- JSON-LD only on product pages, as Google's review snippets allow: a `Product` with its
  `AggregateRating` and the `Review`s the page shows. The shop page carries none: stars of a
  business on its own reviews (`Organization`, `LocalBusiness`) are "self-serving" to Google.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from widgets.dates import written_at
from widgets.jsonld import images
from widgets.public import xml_text
from widgets.queries import Product

INDEX = "index, follow"
NOINDEX = "noindex, follow"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def with_query(url: str, *params: tuple[str, str]) -> str:
    pairs = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
    return url + ("?" + pairs if pairs else "")


def canonical(base: str, path: str, lang: str | None, page: int) -> str:
    params = ([("lang", lang)] if lang else []) + ([("page", str(page))] if page > 1 else [])
    return with_query(base + path, *params)


def alternates(base: str, path: str, languages: Iterable[str], page: int) -> list[tuple[str, str]]:
    """(hreflang, address) of each language version of the page, and the negotiated x-default."""
    found = [(code, canonical(base, path, code, page)) for code in languages]
    return [*found, ("x-default", canonical(base, path, None, page))]


def _http_url(value: str | None) -> str | None:
    return value if value and value.startswith(("https://", "http://")) else None


def _review(row: Any, base: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@type": "Review",
        "author": {"@type": "Person", "name": row["display_name"] or "Anonymous"},
        "datePublished": written_at(row).date().isoformat(),
        "reviewRating": {"@type": "Rating", "ratingValue": row["rating"], "bestRating": 5, "worstRating": 1},
    }
    if row["title"]:
        item["name"] = row["title"]
    if row["body"]:
        item["reviewBody"] = row["body"]
    if row["language"]:
        item["inLanguage"] = row["language"]
    if found := images(row, base):
        item["image"] = found
    return item


def product_jsonld(product: Product, base: str, page_url: str, summary: dict[str, Any],
                   rows: list[Any]) -> str | None:
    """The product's JSON-LD, or None when it has no published review (a rating of nothing, or a
    `Product` with neither rating nor offer, is invalid for Google). `base` is Attest's address, where
    the reviews' photos are."""
    if not summary["count"]:
        return None
    doc: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Product", "@id": page_url + "#product", "name": product.name,
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": summary["average"],
                            "reviewCount": summary["count"], "bestRating": 5, "worstRating": 1},
    }
    if image := _http_url(product.image_url):
        doc["image"] = image
    if url := _http_url(product.url):
        doc["url"] = url
    if product.gtin and product.gtin.isdigit() and len(product.gtin) in (8, 12, 13, 14):
        doc["gtin"] = product.gtin
    if rows:
        doc["review"] = [_review(r, base) for r in rows]
    return script_json(doc)


def script_json(doc: dict[str, Any]) -> str:
    """JSON for a <script type="application/ld+json"> block: "</script>" in a review cannot end it."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _url(loc: str, lastmod: datetime | None, languages: Iterable[str]) -> str:
    links = "".join(f'<xhtml:link rel="alternate" hreflang="{code}" href={quoteattr(with_query(loc, ("lang", code)))}/>'
                    for code in languages)
    links += f'<xhtml:link rel="alternate" hreflang="x-default" href={quoteattr(loc)}/>'
    when = f"<lastmod>{lastmod.date().isoformat()}</lastmod>" if lastmod else ""
    return f"<url><loc>{escape(xml_text(loc))}</loc>{when}{links}</url>"


def sitemap(base: str, shop_path: str, shop_lastmod: datetime | None,
            products: Iterable[tuple[str, datetime | None]], languages: Iterable[str]) -> str:
    """The shop's page and each of its product pages with published reviews, with their language versions."""
    codes = list(languages)
    urls = [_url(base + shop_path, shop_lastmod, codes)]
    urls += [_url(base + path, lastmod, codes) for path, lastmod in products]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">'
            + "".join(urls) + "</urlset>\n")
