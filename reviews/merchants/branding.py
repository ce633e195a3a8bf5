"""A shop's look in our pages and emails: its accent colour, checked once, and the colours that
read on it (WCAG 2 contrast)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_ACCENT = "#1f6feb"
DARK_TEXT = "#111111"
WHITE = "#ffffff"
# Stars in a pale brand colour fall back to this amber, which has 3:1 on white.
FALLBACK_STAR = "#9a6700"
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)


def is_hex_colour(value: Any) -> bool:
    return isinstance(value, str) and _HEX_COLOUR.fullmatch(value) is not None


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance (sRGB, the 0.04045 threshold of IEC 61966-2-1)."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class Colours:
    accent: str  # always a hex colour: it goes into CSS
    on_accent: str  # text on the accent: white or dark, whichever contrasts more
    star: str  # the accent, unless too pale on white to be seen (WCAG 1.4.11, 3:1)


def colours(accent: Any) -> Colours:
    """The colours for a merchant's accent setting; anything but a hex colour is the default, as
    it could otherwise rewrite the styles it is put into."""
    return _colours(accent if is_hex_colour(accent) else DEFAULT_ACCENT)


@lru_cache(maxsize=1024)  # per email in the worker: a shop's colours are worked out once
def _colours(accent: str) -> Colours:
    on_accent = WHITE if contrast(accent, WHITE) >= contrast(accent, DARK_TEXT) else DARK_TEXT
    star = accent if contrast(accent, WHITE) >= 3 else FALLBACK_STAR
    return Colours(accent, on_accent, star)


def web_url(url: Any) -> str | None:
    """A shop-supplied link or image address, only if it is http(s) and printable."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    return url if url.isprintable() and _WEB_URL.match(url) else None
