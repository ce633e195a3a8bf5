
import pytest

from reviews.platform.i18n import negotiate, negotiate_accept_language


@pytest.mark.parametrize(("candidates", "expected"), [
    (("de-AT",), "de"), (("pl_PL",), "pl"), (("pt-BR", "fr"), "fr"), ((None, ""), "en"), (("xx",), "en")])
def test_negotiate(candidates: tuple[str | None, ...], expected: str) -> None:
    assert negotiate(*candidates) == expected


def test_accept_language_respects_weights() -> None:
    assert negotiate_accept_language("pt-BR,pt;q=0.9,ro;q=0.8,en;q=0.7") == "ro"
    assert negotiate_accept_language("zh-CN") is None
