"""Review photos: staging an upload, attaching it to its review, edits, moderation states, deletion.
The only writer of `photos`; the bytes go through `reviews.media.blobs`.

A buyer's upload is processed as soon as it arrives and *staged*: stored with the link and the item
it was sent for, in no review yet, so that a form sent back for a mistake keeps every photo already
accepted. Sending the form attaches the photos to the review (`sync`); staged photos nobody sent are
deleted by the `SWEEP_JOB` a day later. Every photo in a review waits for a moderator (`pending`)
before anyone but its author, the moderators and the shop sees it (`published_photos`, migration
0026); its review's text follows its own rules.

Deleting a photo deletes the blobs no other photo uses, in the same transaction: no byte of it stays.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from reviews.media import blobs
from reviews.media.processing import Processed
from reviews.platform import jobs
from reviews.platform.db import Connection, Executor

MAX_PER_REVIEW = 5
CAPTION_MAX = 200
SWEEP_JOB = "photos.sweep"
PURGE_JOB = "photos.purge"
# Screening's check of a review's new photos against every other review's (`reviews.screening.photo_copies`).
CHECK_JOB = "photos.check"
# How long a photo may stay staged: the buyer fixing a mistake in their form, with a night between.
STAGED_FOR = timedelta(days=1)
STATES = ("pending", "approved", "rejected")


@dataclass(frozen=True)
class Photo:
    id: int
    public_key: str
    merchant_id: int
    review_id: int | None  # None: staged on the buyer's form
    invitation_id: int | None
    product_id: str | None
    source: str  # upload | import
    position: int
    caption: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    state: str  # pending | approved | rejected
    reject_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    image_digest: str
    thumb_digest: str

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Photo:
        return cls(row["id"], row["public_key"], row["merchant_id"], row["review_id"], row["invitation_id"],
                   row["product_id"], row["source"], row["position"], row["caption"], row["width"], row["height"],
                   row["thumb_width"], row["thumb_height"], row["state"], row["reject_reason"], row["decided_by"],
                   row["decided_at"], row["created_at"], row["image_digest"], row["thumb_digest"])


_INSERT = """INSERT INTO photos (public_key, merchant_id, review_id, invitation_id, product_id, source, source_url,
                                 position, caption, image_digest, width, height, thumb_digest, thumb_width,
                                 thumb_height, source_format, uploaded_bytes, fingerprint, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)"""


def _values(processed: Processed) -> tuple[object, ...]:
    image, thumb = processed.image, processed.thumb
    return (image.digest, image.width, image.height, thumb.digest, thumb.width, thumb.height,
            processed.source_format, processed.uploaded_bytes, processed.fingerprint.to_bytes())


async def _put(conn: Connection, processed: Processed) -> None:
    await blobs.STORE.put(conn, processed.image)
    await blobs.STORE.put(conn, processed.thumb)


async def stage(conn: Connection, *, merchant_id: int, invitation_id: int, product_id: str | None,
                processed: Processed, now: datetime) -> Photo:
    """Keep an upload for the link's form until it is sent (see the module docstring)."""
    async with conn.transaction():
        await _put(conn, processed)
        row = await conn.fetchrow(
            _INSERT + " RETURNING *", secrets.token_urlsafe(16), merchant_id, None, invitation_id, product_id,
            "upload", None, 0, "", *_values(processed), now)
        await jobs.enqueue(conn, SWEEP_JOB, {"invitation_id": invitation_id}, now + STAGED_FOR,
                           dedupe_key=f"photos-sweep:{invitation_id}")
    assert row is not None
    return Photo.from_row(row)


async def add_imported(conn: Connection, *, review_id: int, merchant_id: int, source_url: str, position: int,
                       processed: Processed, now: datetime) -> Photo | None:
    """An imported review's photo, fetched from where the export said; None if it is there already."""
    async with conn.transaction():
        await _put(conn, processed)
        row = await conn.fetchrow(
            _INSERT + " ON CONFLICT (review_id, source_url) WHERE source = 'import' DO NOTHING RETURNING *",
            secrets.token_urlsafe(16), merchant_id, review_id, None, None, "import", source_url, position, "",
            *_values(processed), now)
        if row is None:  # fetched twice (a retried job): the blobs the first one stored are shared
            return None
    return Photo.from_row(row)


async def queue_check(conn: Executor, review_id: int, now: datetime) -> None:
    """Ask screening to look for the review's photos in other reviews (once: a check waiting wins)."""
    await jobs.enqueue(conn, CHECK_JOB, {"review_id": review_id}, now, dedupe_key=f"photos-check:{review_id}")


async def imported_urls(conn: Executor, review_id: int) -> set[str]:
    rows = await conn.fetch("SELECT source_url FROM photos WHERE review_id = $1 AND source = 'import'", review_id)
    return {r["source_url"] for r in rows}


async def get(conn: Executor, photo_id: int) -> Photo | None:
    row = await conn.fetchrow("SELECT * FROM photos WHERE id = $1", photo_id)
    return Photo.from_row(row) if row else None


async def many(conn: Executor, photo_ids: Sequence[int]) -> list[Photo]:
    rows = await conn.fetch("SELECT * FROM photos WHERE id = ANY($1::bigint[]) ORDER BY id", list(photo_ids))
    return [Photo.from_row(r) for r in rows]


async def of_reviews(conn: Executor, review_ids: Sequence[int]) -> dict[int, list[Photo]]:
    """Each review's photos, in the author's order."""
    rows = await conn.fetch("SELECT * FROM photos WHERE review_id = ANY($1::bigint[]) ORDER BY position, id",
                            list(review_ids))
    found: dict[int, list[Photo]] = {}
    for row in rows:
        found.setdefault(row["review_id"], []).append(Photo.from_row(row))
    return found


async def of_invitation(conn: Executor, invitation_id: int) -> list[Photo]:
    """Every photo sent through this link, staged or in its reviews, in the author's order."""
    rows = await conn.fetch(
        "SELECT * FROM photos WHERE invitation_id = $1 ORDER BY review_id NULLS LAST, position, id", invitation_id)
    return [Photo.from_row(r) for r in rows]


async def staged(conn: Executor, invitation_id: int) -> list[Photo]:
    """The link's uploads not sent with a review yet, oldest first."""
    rows = await conn.fetch("SELECT * FROM photos WHERE invitation_id = $1 AND review_id IS NULL ORDER BY id",
                            invitation_id)
    return [Photo.from_row(r) for r in rows]


@dataclass(frozen=True)
class Kept:
    """A photo the buyer's form keeps, with its caption as it is now."""

    id: int
    caption: str


@dataclass(frozen=True)
class Synced:
    attached: list[int]  # staged photos now in the review, waiting for a moderator
    removed: int
    shown_changed: bool  # a photo shoppers could see was removed or went back to a moderator


async def sync(conn: Connection, *, review_id: int, invitation_id: int, product_id: str | None,
               kept: Sequence[Kept], now: datetime) -> Synced:
    """Make the review's photos exactly `kept`, in that order: staged uploads of this link and item
    join it, a changed caption goes back to a moderator (it is shown as the photo's text), photos
    not kept are deleted. Ids that are not this review's nor staged for this item are ignored."""
    if len(kept) > MAX_PER_REVIEW:
        raise ValueError(f"at most {MAX_PER_REVIEW} photos per review")
    rows = await conn.fetch(
        """SELECT * FROM photos WHERE review_id = $1
              OR (review_id IS NULL AND invitation_id = $2 AND coalesce(product_id, '') = coalesce($3, ''))
           ORDER BY id FOR UPDATE""", review_id, invitation_id, product_id)
    mine = {r["id"]: Photo.from_row(r) for r in rows}
    wanted = [k for k in kept if k.id in mine]
    attached, shown_changed = [], False
    for position, k in enumerate(wanted):
        photo = mine[k.id]
        caption = k.caption.strip()[:CAPTION_MAX]
        state = photo.state
        if caption != photo.caption and state == "approved":
            state, shown_changed = "pending", True
        await conn.execute(
            """UPDATE photos SET review_id = $2, position = $3, caption = $4, state = $5,
                   decided_by = CASE WHEN $5 = state THEN decided_by END,
                   decided_at = CASE WHEN $5 = state THEN decided_at END, updated_at = $6
               WHERE id = $1""", k.id, review_id, position, caption, state, now)
        if photo.review_id is None:
            attached.append(k.id)
    gone = [p for p in mine.values() if p.id not in {k.id for k in wanted}]
    shown_changed |= any(p.state == "approved" and p.review_id is not None for p in gone)
    await delete(conn, [p.id for p in gone])
    return Synced(attached, len(gone), shown_changed)


async def delete(conn: Connection, photo_ids: Sequence[int]) -> int:
    """Delete these photos and the bytes no other photo uses."""
    if not photo_ids:
        return 0
    async with conn.transaction():
        rows = await conn.fetch(
            "DELETE FROM photos WHERE id = ANY($1::bigint[]) RETURNING image_digest, thumb_digest", list(photo_ids))
        await blobs.STORE.delete_unused(conn, [d for r in rows for d in (r["image_digest"], r["thumb_digest"])])
    return len(rows)


async def delete_for_reviews(conn: Connection, review_ids: Sequence[int]) -> int:
    """Every photo of these reviews (a purge, an erasure)."""
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM photos WHERE review_id = ANY($1::bigint[])",
                                             list(review_ids))]
    return await delete(conn, ids)


async def delete_for_invitations(conn: Connection, invitation_ids: Sequence[int]) -> int:
    """Every photo sent through these links, staged or in a review (an erasure)."""
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM photos WHERE invitation_id = ANY($1::bigint[])",
                                             list(invitation_ids))]
    return await delete(conn, ids)


async def sweep_staged(conn: Connection, invitation_id: int, now: datetime) -> datetime | None:
    """Delete the link's uploads staged longer than `STAGED_FOR`; when the next of the others is due."""
    async with conn.transaction():
        old = [r["id"] for r in await conn.fetch(
            "SELECT id FROM photos WHERE invitation_id = $1 AND review_id IS NULL AND created_at <= $2",
            invitation_id, now - STAGED_FOR)]
        await delete(conn, old)
        youngest: datetime | None = await conn.fetchval(
            "SELECT max(created_at) FROM photos WHERE invitation_id = $1 AND review_id IS NULL", invitation_id)
    return youngest + STAGED_FOR if youngest else None


async def schedule_purge(conn: Executor, photo_id: int, at: datetime) -> None:
    """Look at a refused photo again at `at`, to delete it if it is still refused (`sweeping`)."""
    await jobs.enqueue(conn, PURGE_JOB, {"photo_id": photo_id}, at, dedupe_key=f"photo-purge:{photo_id}")


async def purge_refused(conn: Connection, photo_id: int, decided_before: datetime) -> bool:
    """Delete the photo if a moderator refused it before `decided_before` and it is still refused."""
    found = await conn.fetchval("SELECT id FROM photos WHERE id = $1 AND state = 'rejected' AND decided_at <= $2",
                                photo_id, decided_before)
    return found is not None and await delete(conn, [photo_id]) == 1


async def decide(conn: Connection, photo_ids: Sequence[int], state: str, *, reason: str | None, by: str,
                 now: datetime) -> list[tuple[Photo, Photo]]:
    """Set these photos' moderation state; (before, after) for each one that is in a review."""
    if state not in STATES:
        raise ValueError(f"unknown photo state {state!r}")
    before = {r["id"]: Photo.from_row(r) for r in await conn.fetch(
        "SELECT * FROM photos WHERE id = ANY($1::bigint[]) AND review_id IS NOT NULL ORDER BY id FOR UPDATE",
        list(photo_ids))}
    rows = await conn.fetch(
        """UPDATE photos SET state = $2, reject_reason = $3, decided_by = $4, decided_at = $5, updated_at = $5
           WHERE id = ANY($1::bigint[]) RETURNING *""", sorted(before), state, reason, by, now)
    return [(before[r["id"]], Photo.from_row(r)) for r in sorted(rows, key=lambda r: r["id"])]


@dataclass(frozen=True)
class Published:
    """What the public photo route needs of a photo shoppers may see: its blobs."""

    image_digest: str
    thumb_digest: str


async def published(conn: Executor, public_keys: Sequence[str]) -> dict[str, Published]:
    """Of these public names, those of photos shoppers may see (`published_photos`), with their blobs."""
    rows = await conn.fetch(
        "SELECT public_key, image_digest, thumb_digest FROM published_photos WHERE public_key = ANY($1::text[])",
        list(public_keys))
    return {r["public_key"]: Published(r["image_digest"], r["thumb_digest"]) for r in rows}


async def fingerprints_after(conn: Executor, after_id: int, limit: int = 50_000) -> list[tuple[int, bytes]]:
    """Photos' fingerprints by id, for `reviews.screening.photo_copies`' index."""
    rows = await conn.fetch("SELECT id, fingerprint FROM photos WHERE id > $1 ORDER BY id LIMIT $2", after_id, limit)
    return [(r["id"], r["fingerprint"]) for r in rows]


async def blob(conn: Executor, digest: str) -> bytes | None:
    return await blobs.STORE.get(conn, digest)
