"""The iframe page: summary, distribution and latest reviews, server-rendered, no script."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import jinja2
from asyncpg import Record
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations
from markupsafe import Markup

from reviews.platform.i18n import babel_locale, jinja_environment, translations
from widgets.public import is_verified

_HERE = Path(__file__).resolve().parent
LOCALES_DIR = _HERE / "locales"
DEFAULT_ACCENT = "#1f6feb"
_HEX = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")


def gettext(locale: str) -> NullTranslations:
    return translations(LOCALES_DIR, "widgets", locale)


def _environment(locale: str) -> jinja2.Environment:
    return jinja_environment(_HERE / "templates", LOCALES_DIR, "widgets", locale)


def average_text(average: float | None, locale: str) -> str:
    return "" if average is None else format_decimal(average, "0.0", locale=babel_locale(locale))


def stars(rating: float) -> str:
    full = round(rating)
    return "★" * full + "☆" * (5 - full)


def _review(row: Record, locale: str) -> dict[str, Any]:
    published = row["published_at"] or row["submitted_at"]
    return {
        "rating": row["rating"], "stars": stars(row["rating"]), "title": row["title"], "body": row["body"],
        "name": row["display_name"], "product_name": row["product_name"],
        "date": format_date(published, "medium", locale=babel_locale(locale)), "date_iso": published.date().isoformat(),
        "verified": is_verified(row), "imported": row["method"] == "imported", "edited": row["edited_at"] is not None,
    }


def render(*, locale: str, shop_name: str, product_name: str | None, summary: dict[str, Any], rows: list[Record],
           verification_url: str, accent: str | None) -> tuple[str, str]:
    """The page and the hash of its only style block, for a Content-Security-Policy without 'unsafe-inline'."""
    env = _environment(locale)
    css = env.get_template("widget.css").render(accent=accent if accent and _HEX.match(accent) else DEFAULT_ACCENT)
    count = summary["count"]
    distribution = [(n, summary["distribution"][str(n)]) for n in range(5, 0, -1)]
    html = env.get_template("widget.html").render(
        locale=locale, css=Markup(css), shop_name=shop_name, product_name=product_name, count=count,  # noqa: S704
        average=average_text(summary["average"], locale), average_stars=stars(summary["average"] or 0),
        distribution=distribution, bar_max=max(count, 1), reviews=[_review(r, locale) for r in rows],
        verification_url=verification_url,
    )
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return html, f"'sha256-{digest}'"
