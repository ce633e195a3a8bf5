"""Flags raised by detection, as moderators and `attest flags` read them."""

from __future__ import annotations

from typing import Any

import asyncpg

# Each kind's raw score on a common 0-1 scale, so one number can rank a review's flags.
_SCALES = {"campaign": 6.0, "burst": 10.0}


def confidence(kind: str, score: float) -> float:
    scale = _SCALES.get(kind, 1.0)
    return round(min(1.0, max(0.0, score / scale)), 4)


async def flagged_reviews(conn: asyncpg.Connection | asyncpg.Pool, merchant_slug: str | None = None,
                          states: tuple[str, ...] = ("open",)) -> list[dict[str, Any]]:
    """One entry per flagged review: its reasons, the reviews it relates to, a score."""
    rows = await conn.fetch(
        """SELECT f.review_id, f.kind, f.score, f.evidence, r.external_id, m.slug
           FROM flags f JOIN reviews r ON r.id = f.review_id JOIN merchants m ON m.id = r.merchant_id
           WHERE f.state = ANY($1) AND ($2::text IS NULL OR m.slug = $2)
           ORDER BY f.review_id, f.kind""",
        list(states), merchant_slug,
    )
    related_ids = {int(i) for r in rows for i in (r["evidence"] or {}).get("related", []) if isinstance(i, int)}
    externals = {
        r["id"]: r["external_id"]
        for r in await conn.fetch("SELECT id, external_id FROM reviews WHERE id = ANY($1)", list(related_ids))
    }
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        entry = out.setdefault(r["review_id"], {
            "review_id": r["review_id"], "external_id": r["external_id"], "merchant": r["slug"],
            "reasons": [], "related": [], "score": 0.0,
        })
        entry["reasons"].append(r["kind"])
        entry["score"] = max(entry["score"], confidence(r["kind"], r["score"]))
        for rid in (r["evidence"] or {}).get("related", []):
            ref = externals.get(rid) or rid
            if rid != r["review_id"] and ref not in entry["related"]:
                entry["related"].append(ref)
    return list(out.values())
