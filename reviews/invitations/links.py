"""The signed links an invitation carries, and their lifetimes."""

from __future__ import annotations

import hashlib

from reviews.platform import tokens
from reviews.platform.services import Services

# Long enough for a reminder and a buyer who opens the mail late; the review link's own lifetime
# is a setting (`ATTEST_REVIEW_LINK_DAYS`).
UNSUBSCRIBE_MAX_AGE = 400 * 86400


def review_max_age(svc: Services) -> int:
    return svc.settings.review_link_days * 86400


def review_link(svc: Services, invitation_id: int) -> str:
    return svc.url("/r/" + svc.signer.sign(tokens.REVIEW, {"i": invitation_id}))


def unsubscribe_link(svc: Services, merchant_id: int, address_hash: str) -> str:
    return svc.url("/u/" + svc.signer.sign(tokens.UNSUBSCRIBE, {"m": merchant_id, "h": address_hash}))


def message_id(svc: Services, kind: str, invitation_id: int) -> str:
    """Stable per invitation and kind: a resend after a crash carries the same id, so it can be spotted."""
    domain = svc.settings.mail_from.rsplit("@", 1)[-1]
    tag = hashlib.sha256(f"{svc.settings.secret_key}:{kind}:{invitation_id}".encode()).hexdigest()[:12]
    return f"<{kind}-{invitation_id}.{tag}@{domain}>"
