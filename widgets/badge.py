"""A flat rating badge in the manner of shields.io badge-maker. Every interpolated value is XML-escaped."""

from __future__ import annotations

from xml.sax.saxutils import escape as _escape

from widgets.public import xml_text

# Approximate advance widths of Verdana at 11px; anything else counts as a wide glyph.
_NARROW = {" ": 3.9, ".": 3.9, ",": 3.9, ":": 3.9, "·": 3.9, "/": 4.9, "i": 3.1, "l": 3.1, "j": 3.4,
           "f": 3.9, "t": 4.3, "r": 4.7, "(": 4.5, ")": 4.5}
_DEFAULT_WIDTH = 7.0
_PADDING = 10


def _x(value: object) -> str:
    return _escape(xml_text(value), {'"': "&quot;", "'": "&apos;"})


def text_width(text: str) -> float:
    return sum(_NARROW.get(ch, 6.2 if ch.islower() else _DEFAULT_WIDTH) for ch in text)


def colour(average: float | None) -> str:
    if average is None:
        return "#9f9f9f"
    for floor, hex_colour in ((4.5, "#44cc11"), (4.0, "#97ca00"), (3.5, "#a4a61d"), (3.0, "#dfb317"),
                              (2.0, "#fe7d37")):
        if average >= floor:
            return hex_colour
    return "#e05d44"


def render(label: str, value: str, title: str, fill: str) -> str:
    """The badge: `label` on grey on the left, `value` on `fill` on the right, `title` for screen readers."""
    lw = round(text_width(label) + _PADDING)
    rw = round(text_width(value) + _PADDING)
    w = lw + rw
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{_x(title)}">'
        f"<title>{_x(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="{_x(fill)}"/>'
        f'<rect width="{w}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"'
        ' aria-hidden="true">'
        f'<text x="{lw / 2}" y="15" fill="#010101" fill-opacity=".3">{_x(label)}</text>'
        f'<text x="{lw / 2}" y="14">{_x(label)}</text>'
        f'<text x="{lw + rw / 2}" y="15" fill="#010101" fill-opacity=".3">{_x(value)}</text>'
        f'<text x="{lw + rw / 2}" y="14">{_x(value)}</text>'
        "</g></svg>"
    )
