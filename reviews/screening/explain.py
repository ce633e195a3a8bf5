"""A flagged review's evidence in words, for `attest flags --explain` and for moderators: which
reviews each flag links, by which channel and measure, and whether inside the time window."""

from __future__ import annotations

from typing import Any

from reviews.platform.db import Executor
from reviews.screening import contact_evidence
from reviews.screening.score import grade


def _snippet(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _link_line(link: dict[str, Any]) -> str:
    kind = link.get("kind")
    if kind == "exact":
        measure = "the same text"
    elif kind == "near":
        measure = f"lexical copy, {link.get('lexical', 0):.0%} of character 4-grams shared"
    elif kind == "reworded":
        measure = (f"rewrite: {link.get('lexical', 0):.0%} of character 4-grams shared, and the meaning "
                   f"{link.get('z', 0):.1f} sd above what is ordinary in both models")
    else:
        measure = (f"{link.get('channel', kind)} similarity: cosine {link.get('cosine', 0):.2f}, "
                   f"{link.get('z', 0):.1f} sd above what is ordinary for these texts")
    hours = float(link.get("hours_apart", 0.0))
    when = f"{hours / 24:.0f} days apart" if hours >= 48 else f"{hours:.1f} h apart"
    where = "inside the time window" if link.get("inside_window") else "outside the time window"
    if link.get("thin_history_margin"):
        where += f"; a thin history, {link['thin_history_margin']:.1f} sd more asked"
    return f"  #{link.get('a')} ↔ #{link.get('b')}: {measure} ({when}, {where})"


async def explain(conn: Executor, review_id: int) -> list[str] | None:
    """The lines that explain a review's flags; None when there is no such review."""
    review = await conn.fetchrow(
        """SELECT r.id, r.state, r.rating, r.product_id, r.locale, r.submitted_at, r.title, r.body, m.slug
           FROM reviews r JOIN merchants m ON m.id = r.merchant_id WHERE r.id = $1""", review_id)
    if review is None:
        return None
    flags = await conn.fetch("SELECT kind, score, state, evidence FROM flags WHERE review_id = $1 ORDER BY kind",
                             review_id)
    lines = [f"Review #{review['id']} of {review['slug']}, product {review['product_id'] or '(the shop)'}, "
             f"{review['rating']}★, {review['locale'] or 'language unknown'}, "
             f"submitted {review['submitted_at']:%Y-%m-%d %H:%M} UTC; {review['state']}",
             f"  “{_snippet(((review['title'] or '') + ' ' + (review['body'] or '')).strip())}”"]
    if not flags:
        return [*lines, "No flags."]
    related = {int(i) for f in flags for i in (f["evidence"] or {}).get("related", []) if isinstance(i, int)}
    texts = {r["id"]: r for r in await conn.fetch(
        """SELECT r.id, r.title, r.body, r.rating, r.submitted_at, m.slug FROM reviews r
           JOIN merchants m ON m.id = r.merchant_id WHERE r.id = ANY($1)""", sorted(related - {review_id}))}
    for f in flags:
        ev: dict[str, Any] = f["evidence"] or {}
        lines.append("")
        lines.append(f"{f['kind']} (weight {grade(f['kind'], f['score'], ev).value:.2f}, {f['state']})")
        if f["kind"] == "campaign":
            lines.append(f"  {ev.get('authors')} distinct authors at {', '.join(ev.get('merchants', []))}, "
                         f"from {str(ev.get('window', ['?'])[0])[:10]} to {str(ev.get('window', ['', '?'])[-1])[:10]}")
            if ev.get("products"):
                lines.append("  products: " + ", ".join(f"{product or '(the shop)'} ×{n}"
                                                        for product, n in ev["products"].items()))
            for member, why in (ev.get("joined") or {}).items():
                lines.append(f"  #{member} joined as {why}")
            lines += [f"  {line}" for line in contact_evidence.describe(ev.get("contacts") or {})]
        elif f["kind"] == "burst":
            lines.append(f"  {ev.get('count')} reviews of {ev.get('rating')}★ between "
                         f"{str(ev.get('window', ['?'])[0])[:16]} and {str(ev.get('window', ['', '?'])[-1])[:16]}, "
                         f"where the shop's own history predicts {ev.get('expected')} (p = {ev.get('p_value'):.1e}); "
                         "a burst is evidence about the window, not about each text")
        elif f["kind"] == "import_moderation":
            lines.append(f"  {ev.get('reason')}")
        for link in ev.get("links", []):
            lines.append(_link_line(link))
        for rid in ev.get("related", []):
            other = texts.get(rid)
            if other is not None:
                lines.append(f"    #{rid} {other['slug']} {other['rating']}★ {other['submitted_at']:%Y-%m-%d}: "
                             f"“{_snippet(((other['title'] or '') + ' ' + (other['body'] or '')).strip(), 70)}”")
    return lines
