"""Flags raised by detection: storing them (a flag holds its review until a moderator decides),
their decisions, and how moderators and `attest flags` read them. The only writer of `flags`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from embedding.detect import Flag, merge_flags
from reviews.collection import store as reviews
from reviews.platform.db import Connection, Executor
from reviews.screening import score

# A photo of the review is a photo of another review (`reviews.screening.photo_copies`); its score is 0-1.
PHOTO_COPY = "photo_copy"

async def flagged_reviews(conn: Executor, merchant_slug: str | None = None,
                          states: tuple[str, ...] = ("open",)) -> list[dict[str, Any]]:
    """One entry per flagged review: its reasons, the reviews it relates to (by the id the console shows,
    like the review's own), a score."""
    rows = await conn.fetch(
        """SELECT f.review_id, f.kind, f.score, f.evidence, r.external_id, m.slug
           FROM flags f JOIN reviews r ON r.id = f.review_id JOIN merchants m ON m.id = r.merchant_id
           WHERE f.state = ANY($1) AND ($2::text IS NULL OR m.slug = $2)
           ORDER BY f.review_id, f.kind""",
        list(states), merchant_slug,
    )
    out: dict[int, dict[str, Any]] = {}
    graded: dict[int, list[tuple[str, float, dict[str, Any] | None]]] = {}
    for r in rows:
        entry = out.setdefault(r["review_id"], {
            "review_id": r["review_id"], "external_id": r["external_id"], "merchant": r["slug"],
            "reasons": [], "related": [], "score": 0.0,
        })
        entry["reasons"].append(r["kind"])
        graded.setdefault(r["review_id"], []).append((r["kind"], r["score"], r["evidence"]))
        entry["score"] = score.of_flags(graded[r["review_id"]]).value
        for rid in (r["evidence"] or {}).get("related", []):
            if rid != r["review_id"] and rid not in entry["related"]:
                entry["related"].append(rid)
    return list(out.values())


async def save(conn: Connection, flags: list[Flag], now: datetime) -> None:
    """Store a scan's flags and hold their reviews, an earlier one too, until a moderator decides;
    a few statements however many reviews a campaign holds. A moderator's earlier "dismissed"
    stands: the upsert does not reopen it, and returns only the flags left open."""
    # In (review, kind) order, as every scan inserts: two scans flagging the same reviews queue up.
    merged = sorted(merge_flags(flags), key=lambda f: (f.review_id, f.kind))
    if not merged:
        return
    rows = await conn.fetch(
        """INSERT INTO flags (review_id, kind, score, evidence, created_at)
           SELECT f.review_id, f.kind, f.score, f.evidence::jsonb, $5
           FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[]) AS f(review_id, kind, score, evidence)
           ON CONFLICT (review_id, kind) DO UPDATE SET score = GREATEST(flags.score, EXCLUDED.score),
               evidence = EXCLUDED.evidence
           WHERE flags.state = 'open'
           RETURNING review_id""",
        [f.review_id for f in merged], [f.kind for f in merged], [float(f.score) for f in merged],
        [json.dumps(f.evidence) for f in merged], now,
    )
    await reviews.hold_many(conn, [r["review_id"] for r in rows], now)


async def clear_stale(conn: Connection, review_id: int, edited_at: datetime | None) -> None:
    """Drop the open flags raised before the review's last edit: they judged a text it no longer has.
    A photo's flag stays: it judged a photo the author sent, whatever the text says now."""
    if edited_at is not None:
        await conn.execute("""DELETE FROM flags WHERE review_id = $1 AND state = 'open' AND created_at <= $2
                                AND kind <> $3""", review_id, edited_at, PHOTO_COPY)


async def decide(conn: Connection, review_ids: Sequence[int], state: str, by: str, now: datetime) -> int:
    """Close the open flags of these reviews as `upheld` or `dismissed`."""
    result = await conn.execute(
        """UPDATE flags SET state = $2, decided_by = $3, decided_at = $4
           WHERE review_id = ANY($1::bigint[]) AND state = 'open'""",
        list(review_ids), state, by, now)
    return int(result.split()[-1])


async def reopen(conn: Connection, review_id: int, by: str, decided_at: datetime) -> int:
    """Open again the flags one decision closed (that decision was undone)."""
    result = await conn.execute(
        """UPDATE flags SET state = 'open', decided_by = NULL, decided_at = NULL
           WHERE review_id = $1 AND decided_by = $2 AND decided_at = $3 AND state IN ('upheld', 'dismissed')""",
        review_id, by, decided_at)
    return int(result.split()[-1])


async def count_open(conn: Executor) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM flags WHERE state = 'open'"))


async def flagged_count(conn: Executor, merchant_slug: str | None) -> int:
    """How many reviews (of one merchant, or all) have an open flag."""
    return int(await conn.fetchval(
        """SELECT count(DISTINCT f.review_id) FROM flags f JOIN reviews r ON r.id = f.review_id
           JOIN merchants m ON m.id = r.merchant_id WHERE f.state = 'open' AND ($1::text IS NULL OR m.slug = $1)""",
        merchant_slug))
