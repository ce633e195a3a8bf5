"""The email that tells a shop's owner that one of the shop's webhook endpoints is failing: every
attempt to deliver an event over about a day failed. Text only, from Attest itself (not from the
shop), worded by `templates/_failing_copy.html`. The caller passes plain data: this module knows
nothing of endpoints or deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.support import NullTranslations

from mailer import message
from mailer.rendering import environment, subject
from mailer.wire import OutgoingMessage


@dataclass(frozen=True)
class FailingEndpointEmail:
    to_address: str
    locale: str  # a language the caller chose, and `catalog` speaks
    catalog: NullTranslations
    from_address: str
    shop_name: str
    url: str  # the endpoint's
    last_status: int | None  # the HTTP status of its last answer; None: it did not answer
    last_error: str | None  # what went wrong when it did not answer
    log_url: str  # the endpoint's delivery log, where the failed events can be sent again


def compose_failing(email: FailingEndpointEmail, *, now: datetime | None = None) -> OutgoingMessage:
    """The email, ready to sign and send (a new Message-ID each time)."""
    text = environment(email.catalog).get_template("failing.txt").render(
        shop=email.shop_name, url=email.url, status=email.last_status, error=email.last_error or "—",
        log_url=email.log_url)
    return message.service_email(from_address=email.from_address, to_address=email.to_address,
                                 subject=subject(email.catalog, "_failing_copy.html", email.url), text=text,
                                 locale=email.locale, now=now)
