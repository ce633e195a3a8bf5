"""Keyed hashes for personal data we must match on but should not keep readable."""

from __future__ import annotations

import hashlib
import hmac


class Hasher:
    def __init__(self, secret_key: str) -> None:
        # A derived key, so the link-signing secret is never used raw for hashing.
        self._key = hashlib.sha256(b"attest.hash.v1:" + secret_key.encode()).digest()

    def _hash(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def address(self, email: str) -> str:
        return self._hash("email", normalize_email(email))

    def ip(self, address: str) -> str:
        return self._hash("ip", address.strip())

    def domain(self, domain: str) -> str:
        return self._hash("domain", domain.strip().lower())


def normalize_email(email: str) -> str:
    return email.strip().lower()
