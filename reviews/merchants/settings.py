"""A merchant's settings: every one it may change, its default and how its value is checked
(the same rules for the CLI, the API and the console)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer import addresses
from reviews.merchants.branding import DEFAULT_ACCENT, is_hex_colour
from reviews.platform.errors import ValidationError

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
    "accent_color": DEFAULT_ACCENT,
    "timezone": "Europe/Berlin",
    "shopify_secret": None,
    "woocommerce_secret": None,
}
SECRET_SETTINGS = {"shopify_secret", "woocommerce_secret"}


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
        if not is_hex_colour(text):
            raise ValidationError({key: "must be a colour like #1f6feb"})
        return text
    if key == "timezone":
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({key: "unknown time zone"}) from None
        return text
    if key in ("logo_url",) and text and not re.match(r"^https?://", text):
        raise ValidationError({key: "must be an http(s) URL"})
    if key == "reply_to" and text:
        try:
            text = addresses.parse(text).normalized
        except addresses.AddressError as exc:
            raise ValidationError({key: f"is not an address we can mail: {exc}"}) from None
    if len(text) > 500:
        raise ValidationError({key: "too long"})
    return text or None
