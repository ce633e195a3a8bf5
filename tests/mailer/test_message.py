"""mailer/: the one message builder for emails from Attest itself (the failing webhook endpoint's
email in every language), and the one reading of a send that every sending loop acts on."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest

from mailer import outcome
from mailer.failing import FailingEndpointEmail, compose_failing
from mailer.message import service_email
from mailer.rendering import DOMAIN, LOCALES_DIR
from mailer.transport import BeforeData, PermanentFailure, TemporaryFailure
from mailer.wire import OutgoingMessage
from reviews.platform.i18n import Catalog

LOCALES = ("en", "es", "it", "pl", "ro", "de", "fr")
NOW = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
MAIL = Catalog(LOCALES_DIR, DOMAIN)


def test_an_email_from_attest_has_the_header_block_of_every_email() -> None:
    msg = service_email(from_address="reviews@attest.example", to_address="owner@example.com",
                        subject="Your sign-in link", text="Open it:\nhttps://attest.example/x", locale="de", now=NOW)
    parsed = email.message_from_bytes(msg.raw, policy=policy.default)
    assert (parsed["From"], parsed["To"], parsed["Subject"]) == ("reviews@attest.example", "owner@example.com",
                                                                 "Your sign-in link")
    assert parsed["Date"] == "Mon, 05 Jan 2026 10:00:00 +0000"
    assert parsed["Message-ID"].endswith("@attest.example>") and parsed["Message-ID"] == msg.message_id
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["Content-Language"] == "de"
    assert parsed["List-Unsubscribe"] is None
    assert parsed.get_content_type() == "text/plain" and parsed.get_content() == "Open it:\r\nhttps://attest.example/x\r\n"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_failing_endpoint_email_speaks_each_language(locale: str) -> None:
    def failing(lang: str, status: int | None) -> OutgoingMessage:
        return compose_failing(FailingEndpointEmail(
            to_address="owner@example.com", locale=lang, catalog=MAIL.translations(lang),
            from_address="reviews@attest.example", shop_name="Demo & Co", url="https://shop.example/h?a=1&b=2",
            last_status=status, last_error=None, log_url="https://attest.example/console/m/demo/developers/webhooks/3",
        ), now=NOW)

    msg, english = failing(locale, 500), failing("en", 500)
    text = msg.get_body().get_content()  # type: ignore[union-attr]
    assert "https://shop.example/h?a=1&b=2" in msg["Subject"] and msg["Content-Language"] == locale
    assert "Demo & Co" in text and "HTTP 500" in text and "https://shop.example/h?a=1&b=2" in text
    assert "\r\n\r\nhttps://attest.example/console/m/demo/developers/webhooks/3\r\n\r\n" in text
    assert "—" in failing(locale, None).get_body().get_content()  # type: ignore[union-attr]
    if locale != "en":
        assert msg["Subject"] != english["Subject"]


def test_every_send_is_read_as_sent_retry_or_never() -> None:
    assert outcome.classify(None) == outcome.Outcome(outcome.SENT)
    assert outcome.classify(TemporaryFailure(451, "4.2.1 busy")) == outcome.Outcome(outcome.RETRY,
                                                                                     "temporary: 451 4.2.1 busy")
    never = outcome.classify(PermanentFailure(550, "5.1.1 User unknown", recipient_unknown=True))
    assert (never.verdict, never.error, never.recipient_unknown) == (outcome.NEVER, "550 5.1.1 User unknown", True)
    bug = KeyError("x")
    assert outcome.classify(bug) == outcome.Outcome(outcome.RETRY, "KeyError: 'x'", unexpected=bug)


class _Refusing:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def send(self, msg: object, before_data: BeforeData | None = None) -> None:
        if self.error is not None:
            raise self.error


async def test_send_reads_what_the_session_raised() -> None:
    msg = service_email(from_address="reviews@attest.example", to_address="owner@example.com", subject="s",
                        text="t", locale="en", now=NOW)
    assert (await outcome.send(_Refusing(None), msg)).verdict == outcome.SENT
    assert (await outcome.send(_Refusing(TemporaryFailure(None, "dropped")), msg)).error == "temporary: dropped"
    assert (await outcome.send(_Refusing(RuntimeError("database gone")), msg)).unexpected is not None
