
import pytest

from reviews.merchants import settings as merchant_settings
from reviews.merchants import store as merchants
from reviews.platform.errors import ValidationError


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
