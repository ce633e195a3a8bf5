"""The email that tells a review's author the shop replied to their review in public, with the reply
and the author's own review link.

The same wire format and headers as the moderation notice (`mailer.notice`): a text and an HTML part
from one wording (`templates/_reply_copy.html`), RFC 3834 Auto-Submitted, and RFC 8058 one-click
unsubscribe when the caller hands in an unsubscribe link. The caller passes plain data: this module
knows nothing of reviews or replies.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from babel.support import NullTranslations

from mailer.compose import (
    Branding,
    _environment,
    _one_line,
)
from mailer.letter import check_links, context, letter, lines_as_written
from mailer.wire import OutgoingMessage


@dataclass(frozen=True)
class ReplyEmail:
    to_address: str
    to_name: str | None
    locale: str  # a language the caller chose, and `catalog` speaks
    catalog: NullTranslations
    branding: Branding
    message_id: str
    from_address: str
    reply: str  # the shop's words, shown as written (escaped in HTML)
    product_name: str | None = None  # what was reviewed; None: the shop itself
    review_url: str | None = None  # the author's signed review link
    unsubscribe_url: str | None = None  # GET shows a confirmation page, POST unsubscribes (RFC 8058)
    link_valid_days: int = 30


def compose_reply(email: ReplyEmail, *, now: datetime | None = None) -> OutgoingMessage:
    """The email as a multipart/alternative message, ready to sign and send."""
    check_links(email.review_url, email.unsubscribe_url)
    subject, text, html_text = render_reply(email)
    return letter(branding=email.branding, from_address=email.from_address, to_address=email.to_address,
                  to_name=email.to_name, message_id=email.message_id, locale=email.locale, subject=subject,
                  text=text, html_text=html_text, unsubscribe_url=email.unsubscribe_url, now=now)


def render_reply(email: ReplyEmail) -> tuple[str, str, str]:
    """The subject, the text part and the HTML part."""
    env = _environment(email.catalog)
    branding = email.branding
    shop = _one_line(branding.shop_name)
    # (jinja2 sets a template's macros as attributes of its module at run time, unknown to its types)
    subject_macro = env.get_template("_reply_copy.html").module.subject  # type: ignore[attr-defined]
    subject = _one_line(html.unescape(subject_macro(shop)))
    values = {
        **context(branding=branding, locale=email.locale, to_name=email.to_name, product_name=email.product_name,
                  review_url=email.review_url, unsubscribe_url=email.unsubscribe_url,
                  link_valid_days=email.link_valid_days, subject=subject),
        "reply": lines_as_written(email.reply) or "",
    }
    return subject, env.get_template("reply.txt").render(values), env.get_template("reply.html").render(values)
