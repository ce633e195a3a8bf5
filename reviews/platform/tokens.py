"""Signed links: one itsdangerous salt per purpose, every token bounded in age.

The timestamp comes from our clock, so tests age a link by moving the clock.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from reviews.platform.clock import Clock

REVIEW = "attest.review.v1"
UNSUBSCRIBE = "attest.unsubscribe.v1"
CSRF = "attest.csrf.v1"


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


class Signer:
    def __init__(self, secret_key: str, clock: Clock) -> None:
        self._secret_key = secret_key
        clock_ = clock

        class _ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock_.now().timestamp())

        self._signer_class = _ClockSigner
        self._serializers: dict[str, URLSafeTimedSerializer] = {}

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        serializer = self._serializers.get(purpose)
        if serializer is None:  # one per purpose: the worker signs two links for every email
            serializer = self._serializers[purpose] = URLSafeTimedSerializer(
                self._secret_key, salt=purpose, signer=self._signer_class)
        return serializer

    def sign(self, purpose: str, payload: Any) -> str:
        return self._serializer(purpose).dumps(payload)

    def load(self, purpose: str, token: str, max_age_seconds: int) -> Any:
        try:
            return self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired:
            raise TokenExpired("This link has expired.") from None
        except BadSignature:
            raise TokenInvalid("This link is not valid.") from None
