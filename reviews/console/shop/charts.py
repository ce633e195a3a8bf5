"""Small server-rendered SVG charts for the merchants' console. Pure: no database, no request.

A chart is an image with a name (role="img", <title> and <desc>); the page always shows the same
figures in an HTML table beside it, which is what a screen reader or a narrow screen reads.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

# Colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by hue and by order.
PALETTE = ("#0969da", "#9a6700", "#57606a", "#1a7f37", "#8250df", "#bf3989", "#cf222e", "#0a3069")


@dataclass(frozen=True)
class Series:
    label: str  # already translated
    values: Sequence[int]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def bar_chart(categories: Sequence[str], series: Sequence[Series], *, title: str, description: str,
              chart_id: str) -> str:
    """Grouped bars: one group per category (a week, a language), one bar per series in each.
    `title` and `description` (translated) name the chart; `chart_id` keeps their ids unique on the page."""
    width, top, bottom, left, right = 720, 56, 40, 40, 12
    height = 300
    plot_h = height - top - bottom
    plot_w = width - left - right
    peak = max([v for s in series for v in s.values] + [1])
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    cid = _esc(chart_id)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart" '
             f'aria-labelledby="{cid}-title {cid}-desc" id="{cid}">',
             f'<title id="{cid}-title">{_esc(title)}</title><desc id="{cid}-desc">{_esc(description)}</desc>']
    # The legend, on two rows when it does not fit on one.
    x, y = left, 16
    for n, s in enumerate(series):
        span = 18 + 7 * len(s.label) + 14
        if x + span > width - right and x > left:
            x, y = left, y + 18
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{PALETTE[n % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="{y}" font-size="12" fill="#1b1f24">{_esc(s.label)}</text>')
        x += span
    base = top + plot_h
    # The scale: the peak and the zero line.
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top}" y2="{top}" stroke="#d0d7de" '
                 'stroke-dasharray="4 4"/>')
    parts.append(f'<text x="{left - 4}" y="{top + 4}" font-size="11" fill="#57606a" text-anchor="end">{peak}</text>')
    parts.append(f'<text x="{left - 4}" y="{base + 4}" font-size="11" fill="#57606a" text-anchor="end">0</text>')
    for g, category in enumerate(categories):
        gx = left + g * group_w + group_w * 0.1
        for n, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else 0
            h = plot_h * value / peak
            parts.append(f'<rect x="{gx + n * bar_w:.1f}" y="{base - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[n % len(PALETTE)]}">'
                         f'<title>{_esc(category)} · {_esc(s.label)}: {value}</title></rect>')
        parts.append(f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{base + 16}" font-size="11" fill="#57606a" '
                     f'text-anchor="middle">{_esc(category)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#57606a"/>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Point:
    label: str  # the x axis' word for it (a month), already translated
    value: float  # on the scale's 1..5
    text: str  # what it says on hover, already translated ("4.3 from 12 reviews")


def trend_chart(points: Sequence[Point], *, title: str, description: str, chart_id: str) -> str:
    """A rating's line over time, on a fixed 1-5 scale so that a small change looks small. Only the
    periods with data are points: a gap is not drawn as a fall to zero."""
    width, height, top, bottom, left, right = 720, 200, 16, 32, 32, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points), 1)

    def y(value: float) -> float:
        return top + plot_h * (5 - value) / 4

    cid = _esc(chart_id)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart" '
             f'aria-labelledby="{cid}-title {cid}-desc" id="{cid}">',
             f'<title id="{cid}-title">{_esc(title)}</title><desc id="{cid}-desc">{_esc(description)}</desc>']
    for star in range(1, 6):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(star):.1f}" y2="{y(star):.1f}" '
                     f'stroke="#d0d7de"/><text x="{left - 6}" y="{y(star) + 4:.1f}" font-size="11" fill="#57606a" '
                     f'text-anchor="end">{star}</text>')
    xy = [(left + (n + 0.5) * step, y(p.value)) for n, p in enumerate(points)]
    if len(xy) > 1:
        line = " ".join(f"{x:.1f},{v:.1f}" for x, v in xy)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    for (x, v), p in zip(xy, points, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{v:.1f}" r="4" fill="{PALETTE[0]}"><title>{_esc(p.label)}: '
                     f'{_esc(p.text)}</title></circle>'
                     f'<text x="{x:.1f}" y="{height - 10}" font-size="11" fill="#57606a" '
                     f'text-anchor="middle">{_esc(p.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
