"""The review state machine: storing submissions, edits and imports with their provenance, and
every change of state. The only writer of `reviews` and `review_versions`.

A review moves `pending` → `published`, or `pending` → `held` (flagged) → `published` or
`rejected`; an edit sends it back to `pending`; its author may withdraw it. Each new or edited
text is queued for a scan (`SCAN_JOB`, run by `reviews.screening`), and each change to what is
published for a recomputation of its product's topics (`TOPICS_JOB`, run by `reviews.insights`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from reviews.collection import hook_events
from reviews.invitations import store as invitations
from reviews.media import imports as photo_imports
from reviews.media import store as photos
from reviews.media.store import Kept
from reviews.platform import audit, jobs
from reviews.platform.db import Connection, Executor

SCAN_JOB = "scan_review"
# What buyers mention (`reviews.insights`) is recomputed per product when its published reviews
# change: one job per product and window of TOPICS_WINDOW, due TOPICS_GRACE after the window
# closes, so a burst of reviews makes one job. The window is part of the dedupe key: a change
# made while one window's job runs goes to the next window's job instead of being lost.
TOPICS_JOB = "insights.recompute"
TOPICS_WINDOW = timedelta(minutes=1)
TOPICS_GRACE = timedelta(seconds=15)
# Rejected and withdrawn reviews are kept, unpublished, at least this long (ISO 20488 asks for a
# year); the retention job's period (ATTEST_RETENTION_DAYS) may only be longer.
RETENTION_FLOOR = timedelta(days=365)


MODERATABLE = ("pending", "held", "published", "rejected")


@dataclass(frozen=True)
class Review:
    """A review as the buyer's page and other packages read it."""

    id: int
    product_id: str | None
    rating: int
    title: str
    body: str
    display_name: str
    state: str
    submitted_at: datetime
    published_at: datetime | None
    edited_at: datetime | None
    reject_reason: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Review:
        return cls(row["id"], row["product_id"], row["rating"], row["title"], row["body"], row["display_name"],
                   row["state"], row["submitted_at"], row["published_at"], row["edited_at"], row["reject_reason"])


@dataclass(frozen=True)
class Imported:
    """A review collected elsewhere, as `importing` hands it over."""

    merchant_id: int
    external_id: str
    product_id: str | None
    order_id: str | None
    locale: str | None
    rating: int
    title: str
    body: str
    display_name: str
    author_hash: str | None
    submitted_at: datetime
    product_name: str | None = None
    # The source's moderation state when it had not approved the review ("curated=spam"):
    # screening holds such a review with a flag saying so (see `reviews.screening.scanning`).
    source_state: str | None = None
    # (The shop's reply in the export is not the review's: `importing` stores it through `replies`.)
    # The photos' addresses in the export: kept on the review, fetched by the worker (`reviews.media.imports`).
    media_urls: list[str] = field(default_factory=list)
    # The platform whose export it came from ("judgeme"), shown as "Imported from Judge.me".
    source: str | None = None
    # The shape of the author's address (`reviews.collection.contacts`), never the address.
    author_contact: str | None = None


async def queue_scan(conn: Connection, review_id: int, now: datetime, *, rescan: bool = False) -> None:
    """Ask screening to check this review's text (once: a scan already waiting wins)."""
    payload: dict[str, object] = {"review_id": review_id, **({"rescan": True} if rescan else {})}
    await jobs.enqueue(conn, SCAN_JOB, payload, now, dedupe_key=f"scan:{review_id}")


async def queue_topics(conn: Executor, review_ids: Sequence[int], now: datetime) -> None:
    """Ask insights to recompute the topics of these reviews' products (debounced, see TOPICS_JOB)."""
    if not review_ids:
        return
    seconds = TOPICS_WINDOW.total_seconds()
    window = int(now.timestamp() // seconds)
    run_at = datetime.fromtimestamp((window + 1) * seconds, UTC) + TOPICS_GRACE
    await conn.execute(jobs.enqueue_select_sql(
        """SELECT DISTINCT $2::text, jsonb_build_object('merchant_id', merchant_id, 'product_id', product_id),
                  $3::timestamptz,
                  'topics:' || $4::text || ':' || merchant_id || ':' || coalesce('p:' || product_id, 'shop')
           FROM reviews WHERE id = ANY($1::bigint[])"""),
        list(review_ids), TOPICS_JOB, run_at, str(window))


async def for_invitation(conn: Executor, invitation_id: int) -> list[Review]:
    return [Review.from_row(r) for r in await conn.fetch("SELECT * FROM reviews WHERE invitation_id = $1",
                                                         invitation_id)]


async def count_by_state(conn: Executor) -> dict[str, int]:
    rows = await conn.fetch("SELECT state, count(*) AS n FROM reviews GROUP BY state")
    return {r["state"]: int(r["n"]) for r in rows}


@dataclass(frozen=True)
class Submission:
    product_id: str | None
    product_name: str | None
    rating: int
    title: str
    body: str
    # The review's photos as the form sends them, in order (`reviews.media.store.sync`); None: the
    # form says nothing about photos, and they stay as they are.
    photos: tuple[Kept, ...] | None = None


async def save_invited(
    conn: Connection, *, merchant_id: int, order_id: int, invitation_id: int, author_hash: str | None,
    display_name: str, locale: str, items: list[Submission], now: datetime, ip_hash: str | None,
    user_agent_family: str | None,
) -> list[int]:
    """Store (or update) the buyer's reviews as `pending` and queue their scan. Returns review ids.

    An edit keeps the previous text in review_versions and sends the review back to pending. The
    photos follow the form (`Submission.photos`): new ones wait for a moderator, whatever becomes of
    the text, and a photo-only change leaves the text where it stands.
    """
    ids: list[int] = []
    async with conn.transaction():
        # The same form sent twice at once (a double click, a retrying browser) must not race to
        # insert the same review: one waits for the other, then finds its review and changes nothing.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"review-form:{invitation_id}")
        for item in items:
            existing = await conn.fetchrow(
                """SELECT * FROM reviews WHERE invitation_id = $1 AND coalesce(product_id, '') = coalesce($2, '')
                   FOR UPDATE""",
                invitation_id, item.product_id,
            )
            if existing is None:
                review_id = await conn.fetchval(
                    """INSERT INTO reviews (merchant_id, product_id, product_name, order_id, invitation_id, method,
                           rating, title, body, display_name, author_hash, locale, state, ip_hash,
                           user_agent_family, submitted_at, created_at, updated_at)
                       VALUES ($1, $2, $3, $4, $5, 'invited', $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $14,
                               $14, $14)
                       RETURNING id""",
                    merchant_id, item.product_id, item.product_name, order_id, invitation_id, item.rating,
                    item.title, item.body, display_name, author_hash, locale, ip_hash, user_agent_family, now,
                )
            else:
                unchanged = (existing["rating"], existing["title"], existing["body"], existing["display_name"]) == (
                    item.rating, item.title, item.body, display_name)
                if unchanged and existing["state"] != "withdrawn":
                    await _sync_photos(conn, existing["id"], invitation_id, item, now)
                    ids.append(existing["id"])
                    continue
                await conn.execute(
                    """INSERT INTO review_versions (review_id, rating, title, body, display_name, saved_at)
                       VALUES ($1, $2, $3, $4, $5, $6)""",
                    existing["id"], existing["rating"], existing["title"], existing["body"],
                    existing["display_name"], now,
                )
                review_id = existing["id"]
                await conn.execute(
                    """UPDATE reviews SET rating = $2, title = $3, body = $4, display_name = $5, locale = $6,
                           state = 'pending', published_at = NULL, edited_at = $7, ip_hash = $8,
                           user_agent_family = $9, updated_at = $7 WHERE id = $1""",
                    review_id, item.rating, item.title, item.body, display_name, locale, now, ip_hash,
                    user_agent_family,
                )
                if existing["state"] == "published":  # the shop's webhooks hear of the new text
                    await hook_events.emit(conn, review_id, hook_events.REVIEW_UPDATED, now)
                    await queue_topics(conn, [review_id], now)  # unpublished until checked again
                # Its open flags judged the old text: the scan of the new one replaces them.
            await _sync_photos(conn, review_id, invitation_id, item, now)
            await queue_scan(conn, review_id, now)
            ids.append(review_id)
        if ids:  # the buyer has answered: no reminder for this invitation
            await invitations.reviewed(conn, invitation_id, now)
    return ids


async def _sync_photos(conn: Connection, review_id: int, invitation_id: int, item: Submission,
                       now: datetime) -> None:
    if item.photos is None:
        return
    synced = await photos.sync(conn, review_id=review_id, invitation_id=invitation_id, product_id=item.product_id,
                               kept=item.photos, now=now)
    if synced.shown_changed:
        await photos_changed(conn, review_id, now)


async def photos_changed(conn: Connection, review_id: int, now: datetime) -> None:
    """What shoppers see of a review's photos changed (one approved, refused, removed): a published
    review is touched, so that whatever caches it by its row sees it, and its shop's webhooks hear."""
    touched = await conn.fetchval(
        "UPDATE reviews SET updated_at = $2 WHERE id = $1 AND state = 'published' RETURNING id", review_id, now)
    if touched is not None:
        await hook_events.emit(conn, review_id, hook_events.REVIEW_UPDATED, now)


PURGE_JOB = "retention.purge"


async def schedule_purge(conn: Executor, review_id: int, at: datetime) -> None:
    """Ask the retention job to look at this unpublished review again at `at` (see
    `reviews.collection.retention`); a later request replaces nothing already waiting."""
    await jobs.enqueue(conn, PURGE_JOB, {"review_id": review_id}, at, dedupe_key=f"purge:{review_id}")


async def withdraw(conn: Connection, review_id: int, now: datetime) -> None:
    before = await hook_events.state_of(conn, review_id)
    await conn.execute(
        "UPDATE reviews SET state = 'withdrawn', published_at = NULL, updated_at = $2 WHERE id = $1", review_id, now
    )
    await schedule_purge(conn, review_id, now + RETENTION_FLOOR)
    if before not in (None, "withdrawn"):
        await hook_events.emit(conn, review_id, hook_events.REVIEW_WITHDRAWN, now)
    if before == "published":
        await queue_topics(conn, [review_id], now)


async def publish(conn: Connection, review_id: int, now: datetime) -> None:
    result = await conn.execute(
        """UPDATE reviews SET state = 'published', published_at = COALESCE(published_at, $2), updated_at = $2
           WHERE id = $1 AND state IN ('pending', 'held')""",
        review_id, now,
    )
    if result.endswith(" 1"):
        await hook_events.emit(conn, review_id, hook_events.REVIEW_PUBLISHED, now)
        await queue_topics(conn, [review_id], now)


async def lock_many(conn: Connection, review_ids: Sequence[int]) -> None:
    """Lock these reviews until the transaction ends, in id order: a scan takes every review it may
    write (its own and those its flags hold) before anything else, so two scans of one campaign's
    members wait for each other instead of each holding what the other needs."""
    await conn.execute("SELECT 1 FROM reviews WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE",
                       sorted(set(review_ids)))


async def hold(conn: Connection, review_id: int, now: datetime) -> None:
    await hold_many(conn, [review_id], now)


async def hold_many(conn: Connection, review_ids: Sequence[int], now: datetime) -> None:
    """Hold these reviews (those pending or published) until a moderator decides, in one statement:
    a scan holds a whole campaign at once. Each row is locked before it is read (in id order, as
    every holder locks), as `hook_events.state_of` does, so the event follows the state it changed.
    FOR NO KEY UPDATE, the lock an UPDATE of these columns takes anyway: FOR UPDATE would also wait for
    the key-share locks that rows referring to the review take (another scan's new flag on it), and two
    scans of one campaign would deadlock."""
    if not review_ids:
        return
    rows = await conn.fetch(
        """WITH before AS (SELECT id, state FROM reviews WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE)
           UPDATE reviews r SET state = 'held', published_at = NULL, updated_at = $2
           FROM before b WHERE r.id = b.id AND b.state IN ('pending', 'published')
           RETURNING r.id, b.state AS before""",
        sorted(set(review_ids)), now,
    )
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["before"] == "published":  # taken down until a moderator decides
            await hook_events.emit(conn, row["id"], hook_events.REVIEW_UPDATED, now)
    await queue_topics(conn, [r["id"] for r in rows if r["before"] == "published"], now)


async def withdraw_by_buyer(conn: Connection, *, invitation_id: int, product_id: str | None,
                            now: datetime) -> int | None:
    """The buyer withdraws their own review (product_id None: the shop review) from their link.

    Returns the review's id, or None when there was nothing left to withdraw. The text stays stored
    (the audit trail and a later re-submission need it); widgets show only published reviews.
    """
    async with conn.transaction():
        before = await conn.fetchrow(
            """SELECT id, state FROM reviews WHERE invitation_id = $1 AND coalesce(product_id, '') = coalesce($2, '')
                 AND state <> 'withdrawn' FOR UPDATE""",
            invitation_id, product_id,
        )
        if before is None:
            return None
        await withdraw(conn, before["id"], now)
        await audit.record(conn, actor="buyer", action="review.withdraw", table="reviews", row_id=before["id"],
                           before={"state": before["state"]}, after={"state": "withdrawn"}, now=now)
    return int(before["id"])


async def add_imported(conn: Connection, review: Imported, now: datetime) -> int | None:
    """Store an imported review as `pending` and queue its scan; None if this merchant already has
    a review with its external id (imports are idempotent)."""
    review_id: int | None = await conn.fetchval(
        """INSERT INTO reviews (merchant_id, product_id, product_name, method, rating, title, body,
               display_name, author_hash, locale, state, external_id, external_order_id,
               submitted_at, created_at, updated_at, source_state, media_urls, import_source, author_contact)
           VALUES ($1, $2, $13, 'imported', $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12, $12, $14, $15,
                   $16, $17)
           ON CONFLICT (merchant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
           RETURNING id""",
        review.merchant_id, review.product_id, review.rating, review.title, review.body, review.display_name,
        review.author_hash, review.locale, review.external_id, review.order_id, review.submitted_at, now,
        review.product_name, review.source_state, review.media_urls, review.source, review.author_contact,
    )
    if review_id is not None:
        await queue_scan(conn, review_id, now)
        if review.media_urls:
            await photo_imports.queue(conn, review_id, now)
    return review_id


@dataclass(frozen=True)
class Standing:
    """Where a review stands, as a moderator's decision and its audit entry see it."""

    id: int
    state: str
    reject_reason: str | None
    # What a moderator saw: the state and the text's time. A decision on another version is refused.
    version: str = ""

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Standing:
        return cls(row["id"], row["state"], row["reject_reason"], version_of(row))


def version_of(row: asyncpg.Record | dict[str, Any]) -> str:
    return f"{row['state']}:{(row['edited_at'] or row['submitted_at']).isoformat()}"


_STANDING = "id, state, reject_reason, edited_at, submitted_at"


async def merchant_of(conn: Executor, review_id: int) -> int | None:
    found = await conn.fetchval("SELECT merchant_id FROM reviews WHERE id = $1", review_id)
    return int(found) if found is not None else None


async def lock_for_decision(conn: Connection, review_id: int) -> Standing | None:
    """The review's state, locked for a moderator's decision until the transaction ends."""
    row = await conn.fetchrow(f"SELECT {_STANDING} FROM reviews WHERE id = $1 FOR UPDATE", review_id)
    return Standing.from_row(row) if row else None


async def publish_decided(conn: Connection, review_id: int, now: datetime, *, announce: bool = True) -> Standing:
    """A moderator found the flags wrong: published, whatever state it was in. Without `announce` the
    webhook waits for the caller (a decision's grace period, `reviews.moderation.undo`)."""
    before = await hook_events.state_of(conn, review_id)
    row = await conn.fetchrow(
        """UPDATE reviews SET state = 'published', reject_reason = NULL,
               published_at = COALESCE(published_at, $2), updated_at = $2 WHERE id = $1
           RETURNING id, state, reject_reason, edited_at, submitted_at""",
        review_id, now)
    assert row is not None  # locked by `lock_for_decision`: it exists
    if before != "published":
        if announce:
            await hook_events.emit(conn, review_id, hook_events.REVIEW_PUBLISHED, now)
        await queue_topics(conn, [review_id], now)
    return Standing.from_row(row)


async def purge(conn: Connection, review_id: int, before: datetime) -> bool:
    """Delete an unpublished (rejected or withdrawn) review not touched since `before`, with what
    hangs on it (versions, vectors, flags, decisions, appeals) and its photos. True when it was deleted."""
    due = await conn.fetchval(
        """SELECT id FROM reviews WHERE id = $1 AND state IN ('rejected', 'withdrawn') AND updated_at <= $2
           FOR UPDATE""", review_id, before)
    if due is None:
        return False
    await photos.delete_for_reviews(conn, [review_id])  # their bytes go with them (no cascade leaves any)
    await conn.execute("DELETE FROM reviews WHERE id = $1", review_id)
    return True


async def purge_state(conn: Executor, review_id: int) -> tuple[str, datetime] | None:
    row = await conn.fetchrow("SELECT state, updated_at FROM reviews WHERE id = $1", review_id)
    return (row["state"], row["updated_at"]) if row else None


async def reject(conn: Connection, review_id: int, reason: str, now: datetime, *, announce: bool = True) -> Standing:
    """Rejected with the reason its author is shown; they may edit and send it again (`announce`:
    as `publish_decided`)."""
    before = await hook_events.state_of(conn, review_id)
    row = await conn.fetchrow(
        """UPDATE reviews SET state = 'rejected', reject_reason = $3, published_at = NULL, updated_at = $2
           WHERE id = $1 RETURNING id, state, reject_reason, edited_at, submitted_at""",
        review_id, now, reason)
    assert row is not None  # locked by `lock_for_decision`: it exists
    await schedule_purge(conn, review_id, now + RETENTION_FLOOR)
    if before == "published":
        if announce:
            await hook_events.emit(conn, review_id, hook_events.REVIEW_UPDATED, now)
        await queue_topics(conn, [review_id], now)
    return Standing.from_row(row)


async def published_at(conn: Executor, review_id: int) -> datetime | None:
    found: datetime | None = await conn.fetchval("SELECT published_at FROM reviews WHERE id = $1", review_id)
    return found


async def restore(conn: Connection, review_id: int, state: str, reason: str | None, published: datetime | None,
                  now: datetime) -> Standing:
    """Put back what a moderator's undone decision changed. Its webhook never left (it waits out the
    grace period), so the shop needs no word of the return."""
    row = await conn.fetchrow(
        """UPDATE reviews SET state = $2, reject_reason = $3, published_at = $4, updated_at = $5 WHERE id = $1
           RETURNING id, state, reject_reason, edited_at, submitted_at""",
        review_id, state, reason, published, now)
    assert row is not None  # locked by `lock_for_decision`: it exists
    await queue_topics(conn, [review_id], now)  # published or taken down again: debounced, so cheap
    return Standing.from_row(row)


async def erase(conn: Connection, review_ids: Sequence[int], now: datetime) -> int:
    """Withdraw and empty these reviews, and drop their earlier texts (a buyer's erasure): the row
    stays as a withdrawn rating so counts and moderation history add up. What hangs on the row is
    not deleted with it (no cascade): `reviews.privacy.buyer_data` has replies, reports and appeals
    erase theirs first, so the `review.withdrawn` sent here carries no reply."""
    announce = [r["id"] for r in await conn.fetch(
        "SELECT id FROM reviews WHERE id = ANY($1::bigint[]) AND state <> 'withdrawn' ORDER BY id", list(review_ids))]
    await queue_topics(conn, review_ids, now)  # its clauses leave the topics at the next recomputation
    await conn.execute("DELETE FROM review_versions WHERE review_id = ANY($1::bigint[])", list(review_ids))
    erased = int(await conn.fetchval(
        """WITH u AS (UPDATE reviews SET state = 'withdrawn', published_at = NULL, title = '', body = '',
                          display_name = '', ip_hash = NULL, user_agent_family = NULL, media_urls = '{}',
                          author_contact = NULL,
                          updated_at = $2
                      WHERE id = ANY($1::bigint[]) RETURNING 1) SELECT count(*) FROM u""",
        list(review_ids), now))
    await hook_events.erased(conn, review_ids, announce, now)  # its webhooks forget it, and say so
    return erased
