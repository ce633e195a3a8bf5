"""Signing as Standard Webhooks ask: an endpoint's secret in the spec's `whsec_<base64>` form, and
the headers of each attempt (`webhook-id`, `webhook-timestamp`, `webhook-signature`).

The secret is stored as it is: it has to sign every message, so it cannot be hashed. While a
rotation overlaps (`endpoints.ROTATION_OVERLAP`) two secrets sign, and each message carries both
`v1,` signatures, so the receiver can switch over without losing a message.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_BYTES = 32


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: `whsec_` and base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secrets_: Sequence[str], msg_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(msg_id, at.astimezone(UTC), body) for secret in secrets_)


def headers(secrets_: Sequence[str], msg_id: str, at: datetime, body: str) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(secrets_, msg_id, at, body)}
