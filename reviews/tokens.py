"""Signed links: one itsdangerous salt per purpose, every token bounded in age.

The timestamp comes from our clock, so tests age a link by moving the clock.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from reviews.clock import Clock

REVIEW = "attest.review.v1"
UNSUBSCRIBE = "attest.unsubscribe.v1"
MODERATION = "attest.moderation.v1"
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

            def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
                if secret_key is not None:
                    return super().derive_key(secret_key)
                if self._derived is None:  # the same key for every signature: derived once
                    self._derived = super().derive_key()
                return self._derived

            _derived: bytes | None = None

        self._signer_class = _ClockSigner
        # One serializer and signer per purpose: the worker signs two links for every email.
        self._serializers: dict[str, tuple[URLSafeTimedSerializer, TimestampSigner]] = {}

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return self._pair(purpose)[0]

    def _pair(self, purpose: str) -> tuple[URLSafeTimedSerializer, TimestampSigner]:
        pair = self._serializers.get(purpose)
        if pair is None:
            serializer = URLSafeTimedSerializer(self._secret_key, salt=purpose, signer=self._signer_class)
            pair = self._serializers[purpose] = (serializer, serializer.make_signer())
        return pair

    def sign(self, purpose: str, payload: Any) -> str:
        # What URLSafeTimedSerializer.dumps does, with the signer made once instead of per token.
        serializer, signer = self._pair(purpose)
        return signer.sign(serializer.dump_payload(payload)).decode("utf-8")

    def load(self, purpose: str, token: str, max_age_seconds: int) -> Any:
        try:
            return self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired:
            raise TokenExpired("This link has expired.") from None
        except BadSignature:
            raise TokenInvalid("This link is not valid.") from None
