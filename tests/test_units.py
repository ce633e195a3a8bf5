from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reviews.buyer.review_page import user_agent_family
from reviews.collection.authors import default_display_name
from reviews.invitations.policy import apply_send_window
from reviews.merchants import settings as merchant_settings
from reviews.merchants import store as merchants
from reviews.platform.errors import ValidationError
from reviews.platform.hashing import Hasher
from reviews.platform.i18n import negotiate, negotiate_accept_language
from reviews.platform.settings import Settings


def test_settings_defaults_work_on_a_laptop(tmp_path: Path) -> None:
    s = Settings.from_env({"ATTEST_DATA_DIR": str(tmp_path / "d")})
    assert (s.host, s.port, s.base_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert s.database_url is None and s.smtp_url is None
    assert s.outbox_dir == tmp_path / "d" / "outbox"
    # The generated secret is kept, so links stay valid across restarts.
    assert Settings.from_env({"ATTEST_DATA_DIR": str(tmp_path / "d")}).secret_key == s.secret_key
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_from_environment(tmp_path: Path) -> None:
    s = Settings.from_env({"ATTEST_DATA_DIR": str(tmp_path), "ATTEST_HOST": "0.0.0.0",  # noqa: S104
                           "ATTEST_PORT": "9000",
                           "ATTEST_BASE_URL": "https://reviews.example/", "ATTEST_SECRET_KEY": "k",
                           "DATABASE_URL": "postgresql://db/attest", "ATTEST_SMTP_URL": "smtp://mail:25"})
    assert (s.port, s.base_url, s.secret_key, s.database_url) == (9000, "https://reviews.example", "k",
                                                                  "postgresql://db/attest")


@pytest.mark.parametrize(("candidates", "expected"), [
    (("de-AT",), "de"), (("pl_PL",), "pl"), (("pt-BR", "fr"), "fr"), ((None, ""), "en"), (("xx",), "en")])
def test_negotiate(candidates: tuple[str | None, ...], expected: str) -> None:
    assert negotiate(*candidates) == expected


def test_accept_language_respects_weights() -> None:
    assert negotiate_accept_language("pt-BR,pt;q=0.9,ro;q=0.8,en;q=0.7") == "ro"
    assert negotiate_accept_language("zh-CN") is None


def test_send_window_moves_into_local_daytime() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    night = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    moved = apply_send_window(night, "09:00-20:00", berlin)
    assert moved.astimezone(berlin).isoformat() == "2026-03-03T09:00:00+01:00"
    morning = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    assert apply_send_window(morning, "09:00-20:00", berlin).astimezone(berlin).hour == 9
    noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert apply_send_window(noon, "09:00-20:00", berlin) == noon
    assert apply_send_window(night, "off", berlin) == night


@pytest.mark.parametrize(("key", "raw", "expected"), [
    ("invite_delay_days", "0", 0), ("reminder_days", 5, 5), ("send_window", "off", "off"),
    ("send_window", "08:30-21:00", "08:30-21:00"), ("wait_for_delivery", "true", True),
    ("accent_color", "#aa0044", "#aa0044"), ("shopify_secret", "s3cr3t", "s3cr3t")])
def test_parse_setting_accepts(key: str, raw: object, expected: object) -> None:
    assert merchant_settings.parse_setting(key, raw) == expected


@pytest.mark.parametrize(("key", "raw"), [
    ("invite_delay_days", "-1"), ("invite_delay_days", "45"), ("send_window", "20:00-09:00"),
    ("accent_color", "red;background:url(x)"), ("nope", "1"), ("reply_to", "not an email"),
    ("logo_url", "javascript:alert(1)")])
def test_parse_setting_refuses(key: str, raw: object) -> None:
    with pytest.raises(ValidationError):
        merchant_settings.parse_setting(key, raw)


def test_slugify() -> None:
    assert merchants.slugify("Bäckerei Lüdtke & Söhne") == "backerei-ludtke-sohne"
    assert merchants.slugify("!!!") == "shop"


def test_display_name_and_user_agent() -> None:
    assert default_display_name("Anna Maria Kowalska") == "Anna K."
    assert default_display_name("Cher") == "Cher"
    assert default_display_name(None) == ""
    assert user_agent_family("Mozilla/5.0 (X11) AppleWebKit Chrome/120 Safari/537") == "Chrome"
    assert user_agent_family("Mozilla/5.0 Firefox/121.0") == "Firefox"


def test_keyed_hashes_normalise_and_depend_on_the_key() -> None:
    a, b = Hasher("one"), Hasher("two")
    assert a.address(" Anna@Example.com ") == a.address("anna@example.com")
    assert a.address("anna@example.com") != b.address("anna@example.com")
    assert "anna" not in a.address("anna@example.com")


@pytest.mark.parametrize(("locale", "days", "expected"), [
    ("en", 1, "for 1 day after"), ("en", 30, "for 30 days after"),
    ("ro", 1, "valabile 1 zi de"), ("ro", 14, "valabile 14 zile de"), ("ro", 30, "valabile 30 de zile de"),
    ("pl", 1, "przez 1 dzień od"), ("pl", 3, "przez 3 dni od"), ("pl", 30, "przez 30 dni od"),
    ("fr", 1, "valables 1 jour après"), ("de", 1, "gelten 1 Tag ab"), ("de", 7, "gelten 7 Tage ab"),
])
def test_link_validity_speaks_each_languages_plurals(locale: str, days: int, expected: str) -> None:
    """ATTEST_REVIEW_LINK_DAYS is configurable: every language says its number of days correctly."""
    from reviews.buyer.pages import PAGES

    message = PAGES.translations(locale).ngettext(
        "Review links are valid for %(days)d day after the email was sent. Thank you for your interest.",
        "Review links are valid for %(days)d days after the email was sent. Thank you for your interest.",
        days) % {"days": days}
    assert expected in message


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
