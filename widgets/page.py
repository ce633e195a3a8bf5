"""The iframe page: summary, distribution and every review, a page at a time with links to the others,
server-rendered, no script."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from asyncpg import Record
from babel.dates import format_date
from babel.numbers import format_decimal
from markupsafe import Markup
from starlette.datastructures import QueryParams

from widgets.config import Config
from widgets.public import is_verified, photos, written_at

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def average_text(config: Config, average: float | None, locale: str) -> str:
    return "" if average is None else format_decimal(average, "0.0", locale=config.catalog.babel_locale(locale))


def stars(rating: float) -> str:
    full = round(rating)
    return "★" * full + "☆" * (5 - full)


@dataclass(frozen=True)
class Paging:
    """Where this page is among the others, and the links to the previous and next."""

    page: int
    pages: int
    previous: str | None
    next: str | None

    @classmethod
    def of(cls, path: str, query: QueryParams, page: int, pages: int) -> Paging:
        kept = [(k, v) for k, v in query.multi_items() if k != "page"]

        def link(n: int) -> str | None:
            if not 1 <= n <= pages:
                return None
            return path + "?" + urlencode(kept + ([("page", str(n))] if n > 1 else [])) if kept or n > 1 else path

        return cls(page, pages, link(page - 1), link(page + 1))


def _review(config: Config, row: Record, locale: str, shop_name: str) -> dict[str, Any]:
    written, edited = written_at(row), row["edited_at"]
    babel_locale = config.catalog.babel_locale(locale)
    return {
        "rating": row["rating"], "stars": stars(row["rating"]), "title": row["title"], "body": row["body"],
        "name": row["display_name"], "product_name": row["product_name"],
        "date": format_date(written, "medium", locale=babel_locale), "date_iso": written.date().isoformat(),
        "verified": is_verified(row), "imported": row["method"] == "imported", "edited": edited is not None,
        "edited_date": format_date(edited, "medium", locale=babel_locale) if edited else None,
        "edited_iso": edited.date().isoformat() if edited else None,
        "reply": row["reply"] or None,
        # Served by Attest itself, as this page is: their addresses are paths.
        "photos": photos(row, base_url="", gettext=config.catalog.translations(locale).gettext, shop_name=shop_name),
    }


def render(config: Config, *, locale: str, shop_name: str, product_name: str | None, summary: dict[str, Any],
           rows: list[Record], verification_url: str, accent: str, paging: Paging) -> tuple[str, str]:
    """The page and the hash of its only style block, for a Content-Security-Policy without 'unsafe-inline'."""
    env = config.catalog.environment(TEMPLATES_DIR, locale)
    css = env.get_template("widget.css").render(accent=accent)
    count = summary["count"]
    distribution = [(n, summary["distribution"][str(n)]) for n in range(5, 0, -1)]
    html = env.get_template("widget.html").render(
        locale=locale, css=Markup(css), shop_name=shop_name, product_name=product_name, count=count,  # noqa: S704
        average=average_text(config, summary["average"], locale), average_stars=stars(summary["average"] or 0),
        distribution=distribution, bar_max=max(count, 1), reviews=[_review(config, r, locale, shop_name) for r in rows],
        verification_url=verification_url, paging=paging,
    )
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return html, f"'sha256-{digest}'"
