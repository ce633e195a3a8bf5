"""Where processed photo bytes live: content-addressed (named by the sha256 of their bytes), behind
the small `BlobStore` interface. The only writer of `photo_blobs`.

`PostgresBlobs`, the store Attest ships, keeps the bytes in the database: every web process serves
them, a database backup holds them, and a blob is written and deleted in the same transaction as
the photo rows that use it, so nothing is ever half-stored. docs/architecture.md says how an
S3-compatible store would slot in for large installs.

A blob is shared by every photo whose processed bytes are the same (the same file sent twice) and
deleted once no photo uses it. A blob's bytes never change, so a process may keep what it made of
recently served ones in memory (`Recent`): the photo route has already checked, in the database,
that the photo may be shown before it looks there.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from reviews.media.processing import Encoded
from reviews.platform.db import Connection, Executor


class BlobStore(Protocol):
    async def put(self, conn: Connection, blob: Encoded) -> None:
        """Keep these bytes under their digest (again: nothing changes)."""

    async def get(self, conn: Executor, digest: str) -> bytes | None: ...

    async def delete_unused(self, conn: Connection, digests: Sequence[str]) -> int:
        """Delete those of these blobs no photo uses any more; returns how many went."""


class PostgresBlobs:
    async def put(self, conn: Connection, blob: Encoded) -> None:
        # DO UPDATE rather than DO NOTHING: it locks the row, so a `delete_unused` of the same blob
        # running at the same moment either waits for this photo or is waited for and then re-inserted.
        await conn.execute(
            """INSERT INTO photo_blobs (digest, media_type, bytes) VALUES ($1, $2, $3)
               ON CONFLICT (digest) DO UPDATE SET media_type = EXCLUDED.media_type""",
            blob.digest, blob.media_type, blob.data)

    async def get(self, conn: Executor, digest: str) -> bytes | None:
        found: bytes | None = await conn.fetchval("SELECT bytes FROM photo_blobs WHERE digest = $1", digest)
        return found

    async def delete_unused(self, conn: Connection, digests: Sequence[str]) -> int:
        async with conn.transaction():
            # Locked first, then counted in a statement of its own: a photo committed while we
            # waited for the lock is seen, and keeps its blob.
            locked = [r["digest"] for r in await conn.fetch(
                "SELECT digest FROM photo_blobs WHERE digest = ANY($1::text[]) ORDER BY digest FOR UPDATE",
                sorted(set(digests)))]
            return int(await conn.fetchval(
                """WITH d AS (DELETE FROM photo_blobs b WHERE b.digest = ANY($1::text[])
                                AND NOT EXISTS (SELECT 1 FROM photos p
                                                WHERE p.image_digest = b.digest OR p.thumb_digest = b.digest)
                              RETURNING 1) SELECT count(*) FROM d""", locked))


T = TypeVar("T")


class Recent(Generic[T]):
    """What was made of recently served blobs (their bytes, a ready answer), up to `max_bytes` of
    blobs, least recently used out first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, tuple[T, int]] = OrderedDict()

    def get(self, key: str) -> T | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: str, value: T, size: int) -> None:
        if size > self.max_bytes or key in self._items:
            return
        self._items[key] = (value, size)
        self.size += size
        while self.size > self.max_bytes:
            _, (_, old) = self._items.popitem(last=False)
            self.size -= old


STORE: BlobStore = PostgresBlobs()
