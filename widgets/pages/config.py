"""What the application hands the public pages: their catalog, the shop's branding rules and the
reject reasons' labels (widgets never import the application)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from widgets.config import LOCALES_DIR, Catalog

# The pages' own gettext domain beside the widgets' (widgets/locales/<lang>/LC_MESSAGES/shop.po).
DOMAIN = "shop"
__all__ = ["DOMAIN", "LOCALES_DIR", "PagesConfig"]


@dataclass(frozen=True)
class PagesConfig:
    catalog: Catalog  # of the "shop" domain
    # A merchant's accent setting → a hex colour safe to put into CSS.
    accent: Callable[[Any], str]
    # A merchant's logo setting → an http(s) address safe to show, or None.
    logo: Callable[[Any], str | None] = lambda setting: None
    # Reject reason code → its English label, translated through the catalog (the codes are the
    # application's: `reviews.collection.reasons`).
    reasons: Mapping[str, str] = field(default_factory=dict)
