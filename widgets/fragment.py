"""The SEO fragment (`/widgets/v1/{slug}/products/{id}/reviews.html`): a product's reviews as HTML that
a shop's server or theme includes in its own product page, so the review text is in the shop's HTML, with
the product's JSON-LD beside it.

It is the review list of embed.js, server-rendered: the same markup and the same style sheet, in a
declarative shadow root (`<template shadowrootmode="open">`), so the browser draws it styled and
isolated from the page before any script runs, and embed.js takes it over (filters, sort, "show more")
instead of drawing a second copy. Without script the filters and pages are links and a form to the
public page. The style block is the only inline style; its hash is in `style_hash` for a shop whose
Content-Security-Policy lists hashes.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncpg import Record
from babel.dates import format_date
from babel.numbers import format_decimal
from markupsafe import Markup

from widgets import jsonld, scripts
from widgets.config import Catalog
from widgets.public import is_verified, language, photos

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# The star bars' widths as classes: a style attribute would need 'unsafe-inline' in the shop's policy.
_HALF_STARS = "".join(f".s{n} i{{width:{n * 10}%}}" for n in range(11))


@dataclass(frozen=True)
class Fragment:
    html: str
    style_hash: str  # "'sha256-...'", the one inline style block


@dataclass(frozen=True)
class Shop:
    slug: str
    name: str
    accent: str  # a checked hex colour
    page_url: str  # the public page of the product's reviews
    verification_url: str
    base_url: str  # Attest's own address, where the reviews' photos are


# The topic chips are links here (to the public page, filtered), where the widget draws buttons.
_CHIP_LINKS = (".chips a{display:block;border:1px solid #8c959f;border-radius:6px;padding:.3em .6em;"
               "text-decoration:none}")


def css(accent: str) -> str:
    built = scripts.build()
    return f"{built.base_css}{_HALF_STARS}{built.reviews_css}{_CHIP_LINKS}.w{{--s:{accent}}}"


def _review(catalog: Catalog, row: Record, locale: str, shop: Shop) -> dict[str, Any]:
    babel_locale = catalog.babel_locale(locale)
    code = language(row["locale"])
    return {
        "rating": row["rating"], "title": row["title"], "body": row["body"], "name": row["display_name"],
        "written": format_date(row["submitted_at"], "medium", locale=babel_locale),
        "written_iso": row["submitted_at"].date().isoformat(),
        "edited": format_date(row["edited_at"], "medium", locale=babel_locale) if row["edited_at"] else None,
        "verified": is_verified(row), "imported": row["method"] == "imported",
        # Languages pooled: a review in another language than the page's says which.
        "written_in": babel_locale.languages.get(code, code) if code and code != locale else None,
        "reply": row["reply"] or None,
        "photos": photos(row, base_url=shop.base_url, gettext=catalog.translations(locale).gettext,
                         shop_name=shop.name),
    }


def render(catalog: Catalog, *, locale: str, shop: Shop, product_id: str, product_name: str, facts: Record | None,
           summary: dict[str, Any], rows: list[Record], total: int, per_page: int,
           topics: list[dict[str, Any]]) -> Fragment:
    """The fragment; `topics` are the product's, as topics.json has them for `locale` (the chips)."""
    env = catalog.environment(TEMPLATES_DIR, locale)
    style = css(shop.accent)
    count = summary["count"]
    # No JSON-LD for a product the shop never sold nor had reviewed: a theme includes the fragment on
    # every product page, reviewed or not, so such a product gets an empty list, not an error.
    doc = jsonld.product(product_id=product_id, facts=facts, summary=summary, rows=rows,
                         base_url=shop.base_url) if facts else None
    html = env.get_template("fragment.html").render(
        locale=locale, css=Markup(style), shop=shop, product_id=product_id, count=count,  # noqa: S704
        average=format_decimal(summary["average"], "0.0", locale=catalog.babel_locale(locale)) if count else "",
        half_stars=round((summary["average"] or 0) * 2),
        distribution=[(n, summary["distribution"][str(n)]) for n in range(5, 0, -1)],
        reviews=[_review(catalog, r, locale, shop) for r in rows], total=total, per_page=per_page, chips=topics,
        more=total > len(rows),
        # A product without published reviews has no rating to declare: no structured data at all.
        jsonld=Markup(jsonld.dumps(doc)) if count and doc else None,  # noqa: S704 (escaped for a script element)
    )
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return Fragment(html, f"'sha256-{digest}'")
