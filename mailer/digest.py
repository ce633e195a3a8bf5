"""The weekly digest of a shop for one of its owners who asked for it: the week's new published
reviews and their average, and the topics whose share of 1-2★ mentions rose in the last 90 days
against the 90 before, each with its counted figures and its link in the console. Text only, from
Attest itself, worded by `templates/_digest_copy.html`.

The caller passes plain data: this module knows nothing of reviews or topics. Every topic's label
is a buyer's phrase, shown as written; every figure a count the caller made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal
from babel.support import NullTranslations

from mailer import message
from mailer.headers import one_line
from mailer.rendering import environment, subject
from mailer.wire import OutgoingMessage


@dataclass(frozen=True)
class DigestTopic:
    label: str  # a buyer's words
    product: str | None  # None: the shop's own reviews
    low: int  # 1-2★ mentions in the last 90 days ...
    total: int  # ... of all its mentions then
    before_low: int  # the same in the 90 days before
    before_total: int
    url: str  # its page in the console


@dataclass(frozen=True)
class DigestEmail:
    to_address: str
    locale: str  # a language the caller chose, and `catalog` speaks
    catalog: NullTranslations
    from_address: str
    message_id: str  # stable for the shop, the owner and the week
    shop_name: str
    week_start: str  # the week's first day, already formatted
    new_reviews: int
    average: float | None  # of the new reviews' ratings; None without any
    rising: list[DigestTopic]
    insights_url: str  # the console's Insights page, where the digest is also turned off
    stop_url: str | None = None  # GET shows a confirmation page, POST stops the digest (RFC 8058)


def compose_digest(email: DigestEmail, *, now: datetime | None = None) -> OutgoingMessage:
    """The digest, ready to sign and send."""
    def ratio(t: DigestTopic) -> str | None:
        if not (t.total and t.before_total and t.before_low):
            return None
        return format_decimal((t.low / t.total) / (t.before_low / t.before_total), "#,##0.#",
                              locale=email.locale)

    text = environment(email.catalog).get_template("digest.txt").render(
        shop=one_line(email.shop_name), week=email.week_start, new_reviews=email.new_reviews,
        average=format_decimal(email.average, "0.0", locale=email.locale) if email.average is not None else None,
        rising=[(t, one_line(t.label), one_line(t.product) if t.product else None, ratio(t)) for t in email.rising],
        insights_url=email.insights_url, stop_url=email.stop_url)
    return message.build(from_address=email.from_address, from_name="Attest", to_address=email.to_address,
                         subject=subject(email.catalog, "_digest_copy.html", one_line(email.shop_name),
                                         email.week_start),
                         message_id=email.message_id, locale=email.locale, text=text,
                         unsubscribe_url=email.stop_url, now=now)
