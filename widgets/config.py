"""What the embedding application hands the widgets: its languages and its branding rule.

The widgets package imports nothing of the application; `Catalog` is the shape it needs of a
gettext catalog of its own "widgets" domain (Attest passes `reviews.platform.i18n.Catalog`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jinja2
from babel import Locale
from babel.support import NullTranslations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "widgets"


class Catalog(Protocol):
    supported: tuple[str, ...]

    def translations(self, locale: str) -> NullTranslations: ...

    def environment(self, templates_dir: Path, locale: str) -> jinja2.Environment: ...

    def negotiate(self, *candidates: str | None) -> str: ...

    def babel_locale(self, locale: str) -> Locale: ...


@dataclass(frozen=True)
class Config:
    catalog: Catalog
    # A merchant's accent setting → a hex colour safe to put into CSS.
    accent: Callable[[Any], str]
