"""The notice that tells a review's author what a moderator decided: not published and why (with the
link to mend and resend it when that is allowed), or the outcome of their appeal.

The same wire format and headers as the invitations (`mailer.compose`): a text and an HTML part from
one wording (`templates/_notice_copy.html`), RFC 3834 Auto-Submitted, and RFC 8058 one-click
unsubscribe when the caller hands in an unsubscribe link. The caller passes plain data: this module
knows nothing of reviews, decisions or reason codes. Notices are few, so they are rendered whole
rather than through `compose`'s cached frames.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from babel.support import NullTranslations

from mailer.compose import (
    _HEADER_URL,
    Branding,
    _environment,
    _one_line,
)
from mailer.letter import check_links, context, letter, lines_as_written
from mailer.wire import OutgoingMessage

# "rejected": a first decision not to publish; on an appeal, "published" or "upheld" (still rejected).
OUTCOMES = ("rejected", "published", "upheld")


@dataclass(frozen=True)
class NoticeEmail:
    outcome: str  # one of OUTCOMES
    to_address: str
    to_name: str | None
    locale: str  # a language the caller chose, and `catalog` speaks
    catalog: NullTranslations
    branding: Branding
    message_id: str
    from_address: str
    product_name: str | None = None  # what was reviewed; None: the shop itself
    # The reason's label in English, as the caller's fixed list has it: translated here through
    # `catalog` (an unknown label is shown as it is).
    reason: str | None = None
    note: str | None = None  # the moderator's own words, shown as written (escaped in HTML)
    review_url: str | None = None  # the signed link to edit and resend; None where that is not allowed
    may_appeal: bool = False  # the author has not appealed yet: say how they can
    unsubscribe_url: str | None = None  # GET shows a confirmation page, POST unsubscribes (RFC 8058)
    link_valid_days: int = 30


def compose_notice(email: NoticeEmail, *, now: datetime | None = None) -> OutgoingMessage:
    """The notice as a multipart/alternative message, ready to sign and send.

    `now` comes from the caller's clock so that the Date header is testable.
    """
    if email.outcome not in OUTCOMES:
        raise ValueError(f"unknown notice outcome {email.outcome!r}")
    if email.review_url is not None and not _HEADER_URL.fullmatch(email.review_url):
        raise ValueError("review_url must be an http(s) URL without spaces")
    check_links(email.unsubscribe_url)
    subject, text, html_text = render_notice(email)
    return letter(branding=email.branding, from_address=email.from_address, to_address=email.to_address,
                  to_name=email.to_name, message_id=email.message_id, locale=email.locale, subject=subject,
                  text=text, html_text=html_text, unsubscribe_url=email.unsubscribe_url, now=now)


def render_notice(email: NoticeEmail) -> tuple[str, str, str]:
    """The subject, the text part and the HTML part."""
    env = _environment(email.catalog)
    branding = email.branding
    shop = _one_line(branding.shop_name)
    # (jinja2 sets a template's macros as attributes of its module at run time, unknown to its types)
    subject_macro = env.get_template("_notice_copy.html").module.subject  # type: ignore[attr-defined]
    subject = _one_line(html.unescape(subject_macro(email.outcome, shop)))
    values = {
        **context(branding=branding, locale=email.locale, to_name=email.to_name, product_name=email.product_name,
                  review_url=email.review_url, unsubscribe_url=email.unsubscribe_url,
                  link_valid_days=email.link_valid_days, subject=subject),
        "outcome": email.outcome,
        "reason": email.catalog.gettext(email.reason) if email.reason else None,
        "note": lines_as_written(email.note),
        "may_appeal": email.may_appeal and email.outcome == "rejected",
    }
    return subject, env.get_template("notice.txt").render(values), env.get_template("notice.html").render(values)

