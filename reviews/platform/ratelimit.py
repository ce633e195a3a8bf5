"""Fixed-window rate limits kept in PostgreSQL, so every web process counts against the same limit.

One row per (keyed hash of the limited value, window); a hit is one upsert. Expired windows are
deleted whenever a new window starts, so the table stays as small as the traffic of one window.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reviews.platform.db import Executor

_HIT_SQL = """
INSERT INTO rate_limits (key_hash, window_start, expires_at, hits) VALUES ($1, $2, $3, 1)
ON CONFLICT (key_hash, window_start) DO UPDATE SET hits = rate_limits.hits + 1
RETURNING hits"""
_CLEANUP_SQL = "DELETE FROM rate_limits WHERE expires_at <= $1"


@dataclass(frozen=True)
class Limit:
    scope: str  # what is counted: "review-link", "ip", ...
    hits: int  # allowed per window
    window_seconds: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until every exceeded window has ended; 0 when allowed


class RateLimiter:
    def __init__(self, secret_key: str) -> None:
        # A key of its own: the values limited (IPs) must not be matchable with other stored hashes.
        self._key = hashlib.sha256(b"attest.ratelimit.v1:" + secret_key.encode()).digest()

    def key(self, limit: Limit, value: str) -> str:
        message = f"{limit.scope}:{limit.window_seconds}:{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def hit(self, conn: Executor, checks: list[tuple[Limit, str]],
                  now: datetime) -> Decision:
        """Count one request against every (limit, value) and say whether all are still within limits.

        Every limit counts the request even when another one already refuses it, so a client that
        keeps trying stays refused.
        """
        retry_after = 0
        for limit, value in checks:
            start = window_start(now, limit.window_seconds)
            end = start + timedelta(seconds=limit.window_seconds)
            hits = await conn.fetchval(_HIT_SQL, self.key(limit, value), start, end)
            if hits == 1:
                await conn.execute(_CLEANUP_SQL, now)
            if hits > limit.hits:
                retry_after = max(retry_after, math.ceil((end - now).total_seconds()))
        return Decision(retry_after == 0, retry_after)


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=UTC)


async def cleanup(conn: Executor, now: datetime) -> int:
    """Delete every ended window (also done on the fly; here for operators and tests)."""
    result = await conn.execute(_CLEANUP_SQL, now)
    return int(result.split()[-1])
