"""Translations shared by emails, buyer pages and widgets: the one catalog loader and the one
gettext helper.

Each package keeps its own gettext domain as plain `.po` files
(`<package>/locales/<lang>/LC_MESSAGES/<domain>.po`); they are compiled in memory on first use,
so there is no build step and no binary file in the repository. `mailer/` and `widgets/` never
import this module: the caller hands them a `Catalog` of their own domain.
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
def _translations(locales_dir: Path, domain: str, locale: str) -> NullTranslations:
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
def _environment(templates_dir: Path, locales_dir: Path, domain: str, locale: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(_translations(locales_dir, domain, locale), newstyle=True)  # type: ignore[attr-defined]
    return env


class Catalog:
    """One gettext domain in every supported language (pages, mailer, widgets)."""

    supported: tuple[str, ...] = SUPPORTED_LOCALES

    def __init__(self, locales_dir: Path, domain: str) -> None:
        self.locales_dir = locales_dir
        self.domain = domain

    def translations(self, locale: str) -> NullTranslations:
        return _translations(self.locales_dir, self.domain, locale)

    def gettext(self, locale: str, message: str) -> str:
        return self.translations(locale).gettext(message)

    def ngettext(self, locale: str, singular: str, plural: str, n: int) -> str:
        return self.translations(locale).ngettext(singular, plural, n)

    def environment(self, templates_dir: Path, locale: str) -> jinja2.Environment:
        """An HTML environment (autoescaped) speaking one language; one per language because
        gettext is installed environment-wide, and each compiles its templates once."""
        return _environment(templates_dir, self.locales_dir, self.domain, locale)

    def negotiate(self, *candidates: str | None) -> str:
        return negotiate(*candidates)

    def babel_locale(self, locale: str) -> Locale:
        return babel_locale(locale)
