"""Merchants: creating them, finding them, changing their settings. The only writer of `merchants`."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import asyncpg

from reviews.merchants.keys import add_api_key
from reviews.merchants.model import Merchant, from_row
from reviews.merchants.settings import parse_setting
from reviews.platform.db import Connection, Executor
from reviews.platform.errors import ValidationError
from reviews.platform.settings import SUPPORTED_LOCALES

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})$")


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    return slug or "shop"


async def create(
    conn: Connection, *, name: str, slug: str | None = None, locale: str = "en",
    settings: dict[str, Any] | None = None,
) -> tuple[Merchant, str]:
    """Create a merchant and its first API key. The key is returned once and only its hash is kept."""
    async with conn.transaction():
        merchant = await create_keyless(conn, name=name, slug=slug, locale=locale, settings=settings)
        key = await add_api_key(conn, merchant.id)
    return merchant, key


async def create_keyless(
    conn: Connection, *, name: str, slug: str | None = None, locale: str = "en",
    settings: dict[str, Any] | None = None,
) -> Merchant:
    """Create a merchant with no API key: an import's shop, whose key is issued when someone will read it."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = "must be 1 to 200 characters"
    slug = slug.strip().lower() if slug else slugify(name)
    if not SLUG_RE.match(slug):
        errors["slug"] = "must be lowercase letters, digits and dashes"
    if locale not in SUPPORTED_LOCALES:
        errors["locale"] = f"must be one of {', '.join(SUPPORTED_LOCALES)}"
    if errors:
        raise ValidationError(errors)
    parsed = {k: parse_setting(k, v) for k, v in (settings or {}).items() if k != "name"}
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                "INSERT INTO merchants (slug, name, locale, settings) VALUES ($1, $2, $3, $4) RETURNING *",
                slug, name, locale, parsed,
            )
        except asyncpg.UniqueViolationError:
            raise ValidationError({"slug": "is already taken"}) from None
    assert row is not None  # an INSERT ... RETURNING yields its row
    return from_row(row)


async def by_slug(conn: Executor, slug: str) -> Merchant | None:
    row = await conn.fetchrow("SELECT * FROM merchants WHERE slug = $1", slug)
    return from_row(row) if row else None


async def by_id(conn: Executor, merchant_id: int) -> Merchant | None:
    row = await conn.fetchrow("SELECT * FROM merchants WHERE id = $1", merchant_id)
    return from_row(row) if row else None


async def update_settings(conn: Connection, merchant: Merchant, changes: dict[str, Any]) -> Merchant:
    """Change settings, and the shop's `name` and `domains` (`settings.IDENTITY`), each checked by its
    rule; nothing is stored unless every change is valid."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for key, raw in changes.items():
        try:
            parsed[key] = parse_setting(key, raw)
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    name = parsed.pop("name", None)  # the row's own column; everything else is a setting
    row = await conn.fetchrow(
        "UPDATE merchants SET name = coalesce($3, name), settings = settings || $2 WHERE id = $1 RETURNING *",
        merchant.id, parsed, name,
    )
    assert row is not None  # the caller's merchant exists
    return from_row(row)
