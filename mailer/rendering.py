"""The emails' templates and their "mailer" catalog: one Jinja environment per language, the
filters the templates share, and the subject each template's copy macros word.

HTML templates are autoescaped; the text parts read the same copy macros through `plain`, which
undoes the escaping and wraps the lines.
"""

from __future__ import annotations

import html
import re
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mailer.headers import one_line

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "mailer"
FONT_STACK = "-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif"

_WEB_URL = re.compile(r"https?:", re.IGNORECASE)  # the scheme urlsplit would find


@cache
def environment(catalog: NullTranslations) -> Environment:
    # One environment per language: gettext is installed environment-wide, and templates compile once.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.globals["font"] = FONT_STACK
    env.filters["plain"] = _plain
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    return env


def subject(catalog: NullTranslations, copy: str, *args: Any) -> str:
    """The subject worded by the `subject` macro of the copy template `copy`, as a header wants it:
    plain text on one line."""
    # (jinja2 sets a template's macros as attributes of its module at run time, unknown to its types)
    macro = environment(catalog).get_template(copy).module.subject  # type: ignore[attr-defined]
    return one_line(html.unescape(str(macro(*args))))


def safe_image_url(url: str | None) -> str | None:
    # Only web images: data:, javascript: or file: sources from shop data are dropped, not rendered,
    # and so is a URL with a line break or another control character in it.
    url = url.strip() if url else None
    if url and url.isprintable() and _WEB_URL.match(url):
        return url
    return None


def _plain(value: str, wrap: int = 72) -> str:
    """The copy macros' escaped output as plain text, wrapped for the text part (wrap=0: one line)."""
    text = html.unescape(str(value))
    if not wrap:
        return text
    # Long words (URLs) stay whole so that they remain clickable.
    return textwrap.fill(text, width=wrap, break_long_words=False, break_on_hyphens=False)
