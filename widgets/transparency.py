"""A shop's review figures over the last 12 months, computed from its data on every render: what the
public page shows shoppers about how its reviews were handled (EU Omnibus Directive, UK DMCC Act).

Nothing here is typed in or stored: each figure is a count or a median over the rows of `reviews`,
`flags`, `moderation_decisions`, `review_versions` and `review_replies`. Read-only.

The reviews counted are those that reached Attest in the period (`created_at`: collected from an
invitation, or imported), each where it stands today, so that received = published + waiting for
the automatic check + waiting for a moderator + rejected + withdrawn. "Held for a moderator" counts
those a flag held at some point (or that are held now), however the moderator decided since.
Rejected and withdrawn reviews are kept at least a year (`reviews.collection.store.RETENTION_FLOOR`),
so a year's figures still find them.

The times are medians, robust to one review that waited over a holiday (never below zero, whatever an
import's clock said):
- to publication: from the text's submission (its last edit, if edited; an imported review's
  arrival) to its publication;
- to a moderator's decision: from the submission of the text the moderator judged to the decision,
  over the decisions taken in the period (appeals left out: they answer the author, not the flag);
- to the shop's reply: from the date the author wrote the review to the shop's first reply. A reply
  imported without a date of its own (stored at the import's time) is left out of the median, as
  its time is unknown; it still counts as an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

NEGATIVE_AT_MOST = 2  # stars: a negative review, whose answer shoppers look for first


@dataclass(frozen=True)
class Figures:
    start: datetime
    end: datetime
    received: int
    invited: int  # collected from an invitation sent after a real order
    imported: int  # brought from another platform
    published: int
    pending: int  # waiting for the automatic check
    held: int  # held for a moderator at some point in the period
    awaiting_moderator: int  # held now
    rejected: int
    rejected_by_reason: list[tuple[str, int]]  # (reason code, count), the most frequent first
    withdrawn: int  # by their authors
    decisions: int  # moderators' decisions taken in the period (appeals left out)
    to_publication: timedelta | None
    to_decision: timedelta | None
    answerable: int  # published reviews the shop could answer
    answered: int
    negative: int  # published reviews of 1 or 2 stars
    negative_answered: int
    to_reply: timedelta | None


def year_before(now: datetime) -> datetime:
    """The same moment a year earlier (28 February for a 29th)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


_FIGURES = """
WITH received AS (
    SELECT r.id, r.state, r.method, r.rating, r.reject_reason, r.created_at, r.edited_at, r.submitted_at,
           r.published_at
    FROM reviews r WHERE r.merchant_id = $1 AND r.created_at >= $2 AND r.created_at < $3
), counts AS (
    SELECT count(*) AS received,
           count(*) FILTER (WHERE method = 'invited') AS invited,
           count(*) FILTER (WHERE method = 'imported') AS imported,
           count(*) FILTER (WHERE state = 'published') AS published,
           count(*) FILTER (WHERE state = 'pending') AS pending,
           count(*) FILTER (WHERE state = 'held') AS awaiting_moderator,
           count(*) FILTER (WHERE state = 'rejected') AS rejected,
           count(*) FILTER (WHERE state = 'withdrawn') AS withdrawn,
           count(*) FILTER (WHERE state = 'held' OR EXISTS (SELECT 1 FROM flags f WHERE f.review_id = received.id))
             AS held,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM greatest(published_at - coalesce(edited_at, created_at), interval '0')))
             FILTER (WHERE state = 'published') AS to_publication
    FROM received
), reasons AS (
    SELECT coalesce(json_agg(json_build_array(code, n) ORDER BY n DESC, code), '[]'::json) AS rejected_by_reason
    FROM (SELECT coalesce(reject_reason, '') AS code, count(*) AS n FROM received WHERE state = 'rejected'
          GROUP BY 1) x
), decided AS (
    SELECT count(*) AS decisions,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM greatest(d.decided_at - judged.submitted, interval '0'))) AS to_decision
    FROM moderation_decisions d
    JOIN reviews r ON r.id = d.review_id
    -- The text the moderator judged was submitted at the review's arrival or at its last edit before
    -- the decision (each edit saves the text it replaces, at the time of the edit).
    CROSS JOIN LATERAL (SELECT greatest(r.created_at, (SELECT max(v.saved_at) FROM review_versions v
                                                        WHERE v.review_id = r.id AND v.saved_at <= d.decided_at))
                                 AS submitted) judged
    WHERE r.merchant_id = $1 AND d.decided_at >= $2 AND d.decided_at < $3 AND NOT d.on_appeal
), answers AS (
    SELECT count(*) AS answerable,
           count(rr.review_id) AS answered,
           count(*) FILTER (WHERE r.rating <= $4) AS negative,
           count(rr.review_id) FILTER (WHERE r.rating <= $4) AS negative_answered,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM greatest(rr.created_at - r.submitted_at, interval '0')))
             FILTER (WHERE rr.review_id IS NOT NULL AND NOT (r.method = 'imported' AND rr.created_at = r.created_at))
             AS to_reply
    FROM received r LEFT JOIN review_replies rr ON rr.review_id = r.id
    WHERE r.state = 'published'
)
SELECT * FROM counts, reasons, decided, answers
"""


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(seconds))


async def figures(pool: asyncpg.Pool, merchant_id: int, now: datetime) -> Figures:
    """The shop's figures for the year up to `now`."""
    start = year_before(now)
    row = await pool.fetchrow(_FIGURES, merchant_id, start, now, NEGATIVE_AT_MOST)
    assert row is not None  # aggregates without GROUP BY: always one row
    reasons = row["rejected_by_reason"]
    return Figures(
        start=start, end=now, received=row["received"], invited=row["invited"], imported=row["imported"],
        published=row["published"], pending=row["pending"], held=row["held"],
        awaiting_moderator=row["awaiting_moderator"], rejected=row["rejected"],
        rejected_by_reason=[(str(code), int(n)) for code, n in reasons], withdrawn=row["withdrawn"],
        decisions=row["decisions"], to_publication=_duration(row["to_publication"]),
        to_decision=_duration(row["to_decision"]), answerable=row["answerable"], answered=row["answered"],
        negative=row["negative"], negative_answered=row["negative_answered"], to_reply=_duration(row["to_reply"]),
    )
