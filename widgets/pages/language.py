"""The page's language (?lang=, then the browser's Accept-Language, then the shop's own), the
reviews' languages and the names of languages in the visitor's words."""

from __future__ import annotations

import math
import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from widgets.config import Catalog

_CODE = re.compile(r"[a-z]{2,3}")
MAX_RANGES = 32  # an Accept-Language header is a few ranges; a longer one is cut, never an error


def primary(tag: str | None) -> str | None:
    """The primary language subtag of a tag ("pl" for "pl-PL", "pl_PL", " PL "), or None if it is none."""
    if not tag:
        return None
    code = tag.replace("_", "-").split("-")[0].strip().lower()
    return code if _CODE.fullmatch(code) else None


def accepted(header: str | None) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first ("q=0" ones left out)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:MAX_RANGES]):
        tag, *params = part.strip().split(";")
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if math.isfinite(q) and q > 0 and tag.strip():
            weighted.append((-q, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def page_language(catalog: Catalog, asked: str | None, header: str | None,
                  shop_locale: str | None) -> tuple[str, str | None]:
    """(the page's language, the ?lang= it was explicitly asked in, if that is a supported one).

    Links carry `lang` only when the address had it: a page reached without it negotiates afresh."""
    explicit = primary(asked)
    if explicit not in catalog.supported:
        explicit = None
    return catalog.negotiate(explicit, *accepted(header), shop_locale), explicit


@lru_cache(maxsize=64)
def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return None


def name_in(locale: Locale, code: str) -> str | None:
    """The name of language `code` in the visitor's language ("polaco" for "pl" in Spanish), or None."""
    name = locale.languages.get(code)
    return str(name) if name else None


def own_name(code: str) -> str:
    """A language's name in itself, capitalised as a menu shows it ("Polski", "Français")."""
    locale = _locale(code)
    name = locale.get_language_name(code) if locale is not None else None
    return (name[:1].upper() + name[1:]) if name else code
