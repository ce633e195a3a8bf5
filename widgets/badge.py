"""The trust badge as an SVG image (`badge.svg`): a seal, the shop's name, its rating in stars and words,
and how many of its reviews are verified, with "Verified by Attest" only when some are. A trust mark,
not a status shield. Every interpolated value is XML-escaped (shields' badge-maker habit); `role="img"`
with a `<title>` that says it all in words.

An image can be copied anywhere, so it carries no claim about the website it is shown on: the seal that
checks the website is the HTML badge of embed.js (`badge.json?host=`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape as _escape

from widgets.public import xml_text

# Approximate advance widths of Verdana at 11px, wider than the system fonts that draw the badge, so
# the text always fits; anything else counts as a wide glyph.
_NARROW = {" ": 3.9, ".": 3.9, ",": 3.9, ":": 3.9, "·": 3.9, "/": 4.9, "i": 3.1, "l": 3.1, "j": 3.4,
           "f": 3.9, "t": 4.3, "r": 4.7, "(": 4.5, ")": 4.5}
_DEFAULT_WIDTH = 7.0
HEIGHT = 64
_TEXT_X = 62
_STAR = 12  # one star's size
_GREEN = "#1a7f37"
_INK = "#1b1f24"
_MUTED = "#57606a"
_GOLD = "#e3a008"
_GREY = "#c8ccd0"
_FONT = "system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


def _x(value: object) -> str:
    return _escape(xml_text(value), {'"': "&quot;", "'": "&apos;"})


def text_width(text: str, size: float = 11, bold: bool = False) -> float:
    base = sum(_NARROW.get(ch, 6.2 if ch.islower() else _DEFAULT_WIDTH) for ch in text)
    return base * size / 11 * (1.08 if bold else 1)


def _star_points(cx: float, cy: float, r: float) -> str:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.45
        angle = math.pi / 2 + k * math.pi / 5
        points.append(f"{cx + radius * math.cos(angle):.1f},{cy - radius * math.sin(angle):.1f}")
    return " ".join(points)


def _stars(x: float, y: float, average: float) -> str:
    """Five stars from (x, y), grey, with gold ones on top cut at the nearest half star."""
    shapes = "".join(f'<polygon points="{_star_points(x + i * (_STAR + 2) + _STAR / 2, y + _STAR / 2, _STAR / 2)}"/>'
                     for i in range(5))
    width = round(average * 2) / 2 * (_STAR + 2)
    return (f'<clipPath id="c"><rect x="{x}" y="{y - 1}" width="{width:.1f}" height="{_STAR + 2}"/></clipPath>'
            f'<g fill="{_GREY}">{shapes}</g><g fill="{_GOLD}" clip-path="url(#c)">{shapes}</g>')


@dataclass(frozen=True)
class Words:
    """The badge's words in one language (the route translates them)."""

    name: str  # the shop's, or "shop – product"
    rating: str  # "4.6/5 · 45 reviews", or "No reviews yet"
    verified: str  # "32 verified reviews · Verified by Attest", or "" when none is verified
    title: str  # all of it in a sentence, for screen readers


def render(words: Words, average: float | None) -> str:
    stars_width = 5 * (_STAR + 2) + 6 if average is not None else 0
    width = round(_TEXT_X + 14 + max(text_width(words.name, 14, bold=True),
                                     stars_width + text_width(words.rating, 13),
                                     text_width(words.verified, 11, bold=True), 120))
    seal = _GREEN if words.verified else _MUTED
    # A tick in the seal when reviews are verified; a star when there are only others.
    mark = ('<path d="M21 32.5l6.5 6.5 13-14" fill="none" stroke="#fff" stroke-width="3.6" '
            'stroke-linecap="round" stroke-linejoin="round"/>' if words.verified else
            f'<polygon fill="#fff" points="{_star_points(31, 32, 11)}"/>')
    rating = (f'{_stars(_TEXT_X, 30, average)}<text x="{_TEXT_X + stars_width}" y="41" font-size="13" '
              f'fill="{_INK}">{_x(words.rating)}</text>' if average is not None else
              f'<text x="{_TEXT_X}" y="41" font-size="13" fill="{_MUTED}">{_x(words.rating)}</text>')
    verified = (f'<text x="{_TEXT_X}" y="57" font-size="11" font-weight="600" fill="{_GREEN}">{_x(words.verified)}'
                "</text>" if words.verified else "")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{_x(words.title)}">'
        f"<title>{_x(words.title)}</title>"
        f'<rect x=".5" y=".5" width="{width - 1}" height="{HEIGHT - 1}" rx="10" fill="#fff" stroke="#d0d7de"/>'
        f'<circle cx="31" cy="32" r="20" fill="{seal}"/>{mark}'
        f'<g font-family="{_FONT}" aria-hidden="true">'
        f'<text x="{_TEXT_X}" y="{22 if words.verified else 24}" font-size="14" font-weight="700" '
        f'fill="{_INK}">{_x(words.name)}</text>'
        f"{rating}{verified}</g></svg>"
    )
