"""The public addresses the widgets name: the shop's page and its products' pages (`/shops/...`), and
the shop's own website (its first registered domain)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote


def shop_page(base_url: str, slug: str) -> str:
    return f"{base_url}/shops/{quote(slug, safe='')}"


def product_page(base_url: str, slug: str, product_id: str) -> str:
    # A product id may hold "/" or "?" (SKUs do): encoded, it stays one path segment's worth of text.
    return f"{shop_page(base_url, slug)}/products/{quote(product_id, safe='')}"


def website(domains: Sequence[str]) -> str | None:
    """The shop's website, from the host names it registered (the first is its main one)."""
    return f"https://{domains[0]}/" if domains else None


def domains_of(settings: object) -> list[str]:
    """The registered host names in a merchant's settings (a dict, as the widgets' queries read it)."""
    found = settings.get("domains") if isinstance(settings, dict) else None
    return [d for d in found if isinstance(d, str)] if isinstance(found, list) else []
