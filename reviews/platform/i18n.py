"""Translations shared by emails, buyer pages and widgets.

Each package keeps its own gettext domain as plain `.po` files
(`<package>/locales/<lang>/LC_MESSAGES/<domain>.po`); they are compiled in memory on
first use, so there is no build step and no binary file in the repository.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from reviews.platform.settings import SUPPORTED_LOCALES

DEFAULT_LOCALE = "en"


def negotiate(*candidates: str | None) -> str:
    """The first supported language among the candidates ("de-AT", "pl_PL", "fr"), else English."""
    for candidate in candidates:
        if not candidate:
            continue
        lang = candidate.replace("_", "-").split("-")[0].strip().lower()
        if lang in SUPPORTED_LOCALES:
            return lang
    return DEFAULT_LOCALE


def negotiate_accept_language(header: str | None) -> str | None:
    """The best supported language of an Accept-Language header, or None."""
    if not header:
        return None
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip().split(";")
        q = 1.0
        for param in piece[1:]:
            if param.strip().startswith("q="):
                try:
                    q = float(param.strip()[2:])
                except ValueError:
                    q = 0.0
        weighted.append((q, piece[0]))
    for _, tag in sorted(weighted, key=lambda item: -item[0]):
        lang = tag.replace("_", "-").split("-")[0].lower()
        if lang in SUPPORTED_LOCALES:
            return lang
    return None


@cache
def translations(locales_dir: Path, domain: str, locale: str) -> NullTranslations:
    po_path = locales_dir / locale / "LC_MESSAGES" / f"{domain}.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


def babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


@cache
def jinja_environment(templates_dir: Path, locales_dir: Path, domain: str, locale: str) -> jinja2.Environment:
    """An HTML environment (autoescaped) speaking one language; one per language because
    gettext is installed environment-wide, and each compiles its templates once."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locales_dir, domain, locale), newstyle=True)  # type: ignore[attr-defined]
    return env
