"""What a shop's slug and a product's id may be, checked before either reaches SQL.

PostgreSQL stores no NUL, and no slug or product id holds a control character or a lone surrogate:
such a value in a URL is a client's mistake (a 404 or a 4xx), never a query that fails. A slug is
checked against the merchants' own rule (migrations/0001_init.sql), so an address that cannot be a
shop costs no query at all.
"""

from __future__ import annotations

import re

MAX_PRODUCT_ID = 200
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def valid_slug(slug: str) -> bool:
    return _SLUG.fullmatch(slug) is not None


def storable(text: str) -> bool:
    """Whether the text holds nothing PostgreSQL or an id cannot (control characters, lone surrogates)."""
    return not _UNSTORABLE.search(text)


def valid_product_id(product_id: str) -> bool:
    return 0 < len(product_id) <= MAX_PRODUCT_ID and storable(product_id)
