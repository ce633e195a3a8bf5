from datetime import UTC, datetime

import pytest

from reviews.platform.hashing import Hasher


def test_keyed_hashes_normalise_and_depend_on_the_key() -> None:
    a, b = Hasher("one"), Hasher("two")
    assert a.address(" Anna@Example.com ") == a.address("anna@example.com")
    assert a.address("anna@example.com") != b.address("anna@example.com")
    assert "anna" not in a.address("anna@example.com")


def test_signed_links_are_itsdangerous_tokens_and_expire() -> None:
    """The signer makes exactly the tokens of itsdangerous' URLSafeTimedSerializer (so links sent
    earlier stay valid), one salt per purpose, bounded in age by our clock."""
    from datetime import timedelta

    from itsdangerous import URLSafeTimedSerializer

    from reviews.platform import tokens
    from reviews.platform.clock import FrozenClock

    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    signer = tokens.Signer("secret", clock)
    for purpose, payload in ((tokens.REVIEW, {"i": 42}), (tokens.UNSUBSCRIBE, {"m": 1, "h": "ab" * 32})):
        token = signer.sign(purpose, payload)
        reference = URLSafeTimedSerializer("secret", salt=purpose)
        assert reference.loads(token) == payload
        assert token == URLSafeTimedSerializer("secret", salt=purpose, signer=signer._signer_class).dumps(payload)
        assert signer.load(purpose, token, max_age_seconds=60) == payload
    with pytest.raises(tokens.TokenInvalid):
        signer.load(tokens.UNSUBSCRIBE, signer.sign(tokens.REVIEW, {"i": 42}), max_age_seconds=60)
    token = signer.sign(tokens.REVIEW, {"i": 42})
    clock.advance(timedelta(seconds=61))
    with pytest.raises(tokens.TokenExpired):
        signer.load(tokens.REVIEW, token, max_age_seconds=60)
