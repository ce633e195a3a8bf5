"""The evidence laid out for a human: shared passages marked in two texts, a sentence on what a
figure means, and a small server-rendered SVG chart of a burst. Pure: no database, no request.
"""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass
from datetime import date

from embedding import text as T

# A run of this many words in common is a shared passage; fewer is ordinary language.
MIN_SHARED_WORDS = 4


@dataclass(frozen=True)
class Segment:
    text: str
    shared: bool


def _words(text: str) -> list[str]:
    return text.split()


def shared_passages(text: str, other: str) -> list[Segment]:
    """`text` cut into segments, those it shares with `other` (as runs of normalised words) marked."""
    words = _words(text)
    keys = [T.normalize(w) for w in words]
    other_keys = [T.normalize(w) for w in _words(other)]
    marked = [False] * len(words)
    matcher = difflib.SequenceMatcher(None, keys, other_keys, autojunk=False)
    for block in matcher.get_matching_blocks():
        if block.size >= MIN_SHARED_WORDS:
            for i in range(block.a, block.a + block.size):
                marked[i] = True
    segments: list[Segment] = []
    for word, flag in zip(words, marked, strict=True):
        if segments and segments[-1].shared == flag:
            segments[-1] = Segment(segments[-1].text + " " + word, flag)
        else:
            segments.append(Segment(word, flag))
    return segments


def shared_share(text: str, other: str) -> float:
    """The share of `text`'s words inside passages it shares with `other`."""
    segments = shared_passages(text, other)
    total = sum(len(s.text.split()) for s in segments)
    return sum(len(s.text.split()) for s in segments if s.shared) / total if total else 0.0


def burst_svg(days: list[date], counts: dict[date, tuple[int, int]], window: tuple[date, date], usual: float,
              label: str) -> str:
    """Bars: reviews of the star value per day; the dashed line: the shop's usual pace for it;
    the shaded band: the burst's window. `label` (already translated) is the chart's accessible name."""
    width, height, pad = 640, 160, 24
    peak = max([c[0] for c in counts.values()] + [usual, 1.0])
    step = (width - 2 * pad) / max(len(days), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{html.escape(label)}" class="chart"><title>{html.escape(label)}</title>']
    start, end = window
    for i, day in enumerate(days):
        x = pad + i * step
        if start <= day <= end:
            parts.append(f'<rect x="{x:.1f}" y="{pad / 2:.1f}" width="{step:.1f}" height="{height - 1.5 * pad:.1f}" '
                         'fill="#fde68a"/>')
        same = counts.get(day, (0, 0))[0]
        if same:
            h = (height - 2 * pad) * same / peak
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{height - pad - h:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="#1f6feb"><title>{day.isoformat()}: {same}</title></rect>')
    y = height - pad - (height - 2 * pad) * usual / peak
    parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b42318" '
                 'stroke-width="2" stroke-dasharray="6 4"/>')
    parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad}" y2="{height - pad}" stroke="#57606a"/>')
    if days:
        parts.append(f'<text x="{pad}" y="{height - 6}" font-size="11" fill="#57606a">{days[0].isoformat()}</text>')
        parts.append(f'<text x="{width - pad}" y="{height - 6}" font-size="11" fill="#57606a" '
                     f'text-anchor="end">{days[-1].isoformat()}</text>')
    parts.append(f'<text x="{pad}" y="{pad - 8}" font-size="11" fill="#57606a">{int(peak)}</text>')
    parts.append("</svg>")
    return "".join(parts)
