"""The console speaks every supported language: each catalog translates every message of the console's
templates and modules (and the reject reasons' labels the templates translate), with the same
placeholders, and a page rendered in each language says so."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import reviews.console
from reviews.collection.reasons import REASONS
from reviews.console.web import LOCALES_DIR
from reviews.media import reasons as photo_reasons
from reviews.platform.settings import SUPPORTED_LOCALES

CONSOLE_DIR = Path(reviews.console.__file__).resolve().parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")

Message = str | tuple[str, str]


def console_messages() -> set[Message]:
    """Every message the console uses: `_()` in the templates (newstyle gettext), `_(locale, ...)` and
    `_n(locale, singular, plural, n)` in the modules, and the reject reasons' labels (`_(r.label)`)."""
    found: set[Message] = set()
    for path in sorted(CONSOLE_DIR.rglob("*.html")):
        found |= {m for _, m, _, _ in extract_from_file(
            "jinja2", str(path), keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
            options={"extensions": "jinja2.ext.i18n"})}
    for path in sorted(CONSOLE_DIR.rglob("*.py")):
        found |= {m for _, m, _, _ in extract_from_file(
            "python", str(path), keywords={"_": (2,), "_n": (2, 3)})}
    found |= {r.label for r in REASONS} | {r.label for r in photo_reasons.REASONS}
    return found


def _catalog(lang: str) -> Catalog:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "console.po").open("rb") as f:
        return read_po(f, locale=lang, domain="console")


# Words that are the same in English and the language (not left untranslated).
SAME_AS_ENGLISH = {("de", "Moderation"), ("fr", "Console"), ("it", "Console"), ("it", "Password"),
                   ("fr", "%(num)d minute"), ("ro", "agent"), ("fr", "agent"), ("pl", "moderator"),
                   ("ro", "moderator"), ("pl", "operator"), ("ro", "operator"), ("fr", "Photos")}


def test_the_extraction_finds_the_console_messages() -> None:
    messages = console_messages()
    assert len(messages) > 100
    assert "Sign in" in messages and "Copied or bought review" in messages
    assert ("%(num)d minute", "%(num)d minutes") in messages


@pytest.mark.parametrize("lang", SUPPORTED_LOCALES)
def test_every_catalog_translates_every_console_message(lang: str) -> None:
    catalog = _catalog(lang)
    assert str(catalog.locale) == lang
    for msgid in sorted(console_messages(), key=str):
        message = catalog.get(msgid)
        assert message is not None and not message.fuzzy, (lang, msgid)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if isinstance(msgid, tuple) else 1), (lang, msgid)
        original = msgid[0] if isinstance(msgid, tuple) else msgid
        english = msgid if isinstance(msgid, tuple) else (msgid,)
        for text in strings:
            assert text, (lang, msgid)
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(original)), (lang, text)
            assert "%" not in PLACEHOLDER.sub("", text), (lang, text)  # a stray % breaks the formatting
        if lang == "en":
            assert strings == english, msgid
        elif (lang, original) not in SAME_AS_ENGLISH:
            assert strings != english, f"{lang}: {original!r} is not translated"


def test_plural_forms_follow_each_language() -> None:
    plurals = {lang: _catalog(lang).num_plurals for lang in SUPPORTED_LOCALES}
    assert plurals == {lang: 3 if lang in ("pl", "ro") else 2 for lang in SUPPORTED_LOCALES}
    from reviews.console.web import _n
    assert _n("pl", "%(num)d minute", "%(num)d minutes", 1) % {"num": 1} == "1 minuta"
    assert _n("pl", "%(num)d minute", "%(num)d minutes", 3) % {"num": 3} == "3 minuty"
    assert _n("pl", "%(num)d minute", "%(num)d minutes", 5) % {"num": 5} == "5 minut"
    assert _n("ro", "%(num)d day", "%(num)d days", 25) % {"num": 25} == "25 de zile"
    assert _n("fr", "%(num)d hour", "%(num)d hours", 0) % {"num": 0} == "0 heure"


SIGN_IN = {"en": "Sign in", "de": "Anmelden", "es": "Iniciar sesión", "fr": "Se connecter", "it": "Accedi",
           "pl": "Zaloguj się", "ro": "Autentificare"}


@pytest.mark.parametrize("lang", SUPPORTED_LOCALES)
async def test_the_sign_in_page_speaks_the_language(client: httpx.AsyncClient, lang: str) -> None:
    r = await client.get(f"/console/sign-in?lang={lang}")
    assert r.status_code == 200
    assert r.headers["content-language"] == lang
    assert f'<html lang="{lang}">' in r.text
    catalog = _catalog(lang)
    title = catalog.get("Sign in").string
    assert title == SIGN_IN[lang]
    assert f"<title>{title} · {catalog.get('Attest console').string}</title>" in r.text
    assert f"<h1>{title}</h1>" in r.text
    if lang != "en":
        assert "Email me a sign-in link" not in r.text and "No password, or forgot it?" not in r.text


async def test_the_language_comes_from_the_browser_without_a_choice(client: httpx.AsyncClient) -> None:
    r = await client.get("/console/sign-in", headers={"Accept-Language": "ro-RO,ro;q=0.9,en;q=0.5"})
    assert r.headers["content-language"] == "ro"
    assert "<h1>Autentificare</h1>" in r.text
