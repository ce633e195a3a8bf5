
import pytest

from reviews.buyer.review_form import user_agent_family
from reviews.collection.authors import default_display_name


def test_display_name_and_user_agent() -> None:
    assert default_display_name("Anna Maria Kowalska") == "Anna K."
    assert default_display_name("Cher") == "Cher"
    assert default_display_name(None) == ""
    assert user_agent_family("Mozilla/5.0 (X11) AppleWebKit Chrome/120 Safari/537") == "Chrome"
    assert user_agent_family("Mozilla/5.0 Firefox/121.0") == "Firefox"


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
