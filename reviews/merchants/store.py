"""Merchants, their settings and their API keys (stored as sha256 hashes)."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

import asyncpg

from reviews.platform.errors import ValidationError
from reviews.platform.settings import SUPPORTED_LOCALES

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})$")

# Every setting a merchant may change, its default and its parser. The defaults are the
# product's opinions: a week after fulfilment, one reminder, ask only with consent.
DEFAULT_SETTINGS: dict[str, Any] = {
    "invite_delay_days": 7,
    "wait_for_delivery": False,
    "send_window": "off",
    "reminder_days": 5,
    "invite_cap_days": 30,
    "require_consent": True,
    "sender_name": None,
    "reply_to": None,
    "logo_url": None,
    "accent_color": "#1f6feb",
    "timezone": "Europe/Berlin",
    "shopify_secret": None,
    "woocommerce_secret": None,
}
SECRET_SETTINGS = {"shopify_secret", "woocommerce_secret"}


@dataclass(frozen=True)
class Merchant:
    id: int
    slug: str
    name: str
    locale: str
    settings: dict[str, Any]

    def setting(self, key: str) -> Any:
        return self.settings.get(key, DEFAULT_SETTINGS.get(key))

    def public_settings(self) -> dict[str, Any]:
        merged = {**DEFAULT_SETTINGS, **self.settings}
        return {k: ("set" if v else None) if k in SECRET_SETTINGS else v for k, v in merged.items()}


def _from_row(row: asyncpg.Record) -> Merchant:
    return Merchant(id=row["id"], slug=row["slug"], name=row["name"], locale=row["locale"], settings=row["settings"])


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    return slug or "shop"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "atk_" + secrets.token_urlsafe(32)


def parse_setting(key: str, raw: Any) -> Any:
    """Validate one setting from the CLI (strings) or the API (JSON values)."""
    if key not in DEFAULT_SETTINGS:
        raise ValidationError({key: "unknown setting"})
    text = str(raw).strip() if raw is not None else ""
    if key in ("invite_delay_days", "reminder_days", "invite_cap_days"):
        try:
            value = int(text)
        except ValueError:
            raise ValidationError({key: "must be a whole number of days"}) from None
        if not 0 <= value <= 30:
            raise ValidationError({key: "must be between 0 and 30"})
        return value
    if key in ("wait_for_delivery", "require_consent"):
        if isinstance(raw, bool):
            return raw
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValidationError({key: "must be true or false"})
    if key == "send_window":
        if text.lower() in ("off", "", "none"):
            return "off"
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)", text)
        if not match or text[:5] >= text[6:]:
            raise ValidationError({key: "must look like 09:00-20:00, or off"})
        return text
    if key == "accent_color":
        if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", text):
            raise ValidationError({key: "must be a colour like #1f6feb"})
        return text
    if key == "timezone":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({key: "unknown time zone"}) from None
        return text
    if key in ("logo_url",) and text and not re.match(r"^https?://", text):
        raise ValidationError({key: "must be an http(s) URL"})
    if key == "reply_to" and text and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ValidationError({key: "must be an email address"})
    if len(text) > 500:
        raise ValidationError({key: "too long"})
    return text or None


async def create(
    conn: asyncpg.Connection, *, name: str, slug: str | None = None, locale: str = "en",
    settings: dict[str, Any] | None = None,
) -> tuple[Merchant, str]:
    """Create a merchant and its first API key. The key is returned once and only its hash is kept."""
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
    parsed = {k: parse_setting(k, v) for k, v in (settings or {}).items()}
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                "INSERT INTO merchants (slug, name, locale, settings) VALUES ($1, $2, $3, $4) RETURNING *",
                slug, name, locale, parsed,
            )
        except asyncpg.UniqueViolationError:
            raise ValidationError({"slug": "is already taken"}) from None
        key = await add_api_key(conn, row["id"])
    return _from_row(row), key


async def add_api_key(conn: asyncpg.Connection, merchant_id: int) -> str:
    key = new_api_key()
    await conn.execute(
        "INSERT INTO api_keys (merchant_id, key_hash, prefix) VALUES ($1, $2, $3)",
        merchant_id, hash_key(key), key[:10],
    )
    return key


async def by_api_key(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> Merchant | None:
    row = await conn.fetchrow(
        """SELECT m.* FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
           WHERE k.key_hash = $1 AND k.revoked_at IS NULL""",
        hash_key(key),
    )
    return _from_row(row) if row else None


async def by_slug(conn: asyncpg.Connection | asyncpg.Pool, slug: str) -> Merchant | None:
    row = await conn.fetchrow("SELECT * FROM merchants WHERE slug = $1", slug)
    return _from_row(row) if row else None


async def by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: int) -> Merchant | None:
    row = await conn.fetchrow("SELECT * FROM merchants WHERE id = $1", merchant_id)
    return _from_row(row) if row else None


async def update_settings(conn: asyncpg.Connection, merchant: Merchant, changes: dict[str, Any]) -> Merchant:
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for key, raw in changes.items():
        try:
            parsed[key] = parse_setting(key, raw)
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    row = await conn.fetchrow(
        "UPDATE merchants SET settings = settings || $2 WHERE id = $1 RETURNING *", merchant.id, parsed
    )
    return _from_row(row)
