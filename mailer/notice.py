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
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address

from babel.support import NullTranslations

from mailer.compose import (
    _HEADER_URL,
    _MESSAGE_ID,
    Branding,
    _address,
    _date_header,
    _environment,
    _fold,
    _html_wire,
    _mailbox,
    _one_line,
    _part,
    _safe_image_url,
    _shop_header,
    _shop_mailbox,
    _subject_header,
)
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
    if email.unsubscribe_url is not None and (
            not _HEADER_URL.fullmatch(email.unsubscribe_url) or "<" in email.unsubscribe_url
            or ">" in email.unsubscribe_url):
        raise ValueError("unsubscribe_url must be an http(s) URL without spaces or angle brackets")
    if not _MESSAGE_ID.fullmatch(email.message_id):
        raise ValueError("message_id must be printable ASCII without spaces")
    branding = email.branding
    sender = _shop_mailbox(branding.sender_name or branding.shop_name, email.from_address)
    to = _mailbox(email.to_name or "", email.to_address)
    reply_to = _shop_mailbox(branding.shop_name, branding.reply_to) if branding.reply_to else None
    addresses: dict[str, tuple[Address, ...]] = {"from": (sender,), "to": (to,)}
    if reply_to:
        addresses["reply-to"] = (reply_to,)
    utf8 = not all(a.addr_spec.isascii() for (a,) in addresses.values())

    subject, text, html_text = render_notice(email)
    text_part = _part(b"plain", _crlf(text).encode("utf-8"))
    html_part = _part(b"html", _html_wire(html_text if html_text.endswith("\n") else html_text + "\n"))

    boundary = "=_" + secrets.token_hex(16)
    head = [
        _shop_header("From", sender.display_name, sender.addr_spec, utf8),
        _fold("To", _address(to, utf8)),
        *([_shop_header("Reply-To", reply_to.display_name, reply_to.addr_spec, utf8)] if reply_to else []),
        _subject_header(subject, utf8),
        _date_header((now or datetime.now(UTC)).replace(microsecond=0)),
        "Message-ID: " + email.message_id,
        "Auto-Submitted: auto-generated",
        *([f"List-Unsubscribe: <{email.unsubscribe_url}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
          if email.unsubscribe_url else []),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
        "Content-Language: " + email.locale,
    ]
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    raw = b"".join((
        "\r\n".join(head).encode("utf-8" if utf8 else "ascii"),
        b"\r\n",
        delimiter,
        text_part,
        delimiter,
        html_part,
        delimiter[:-2],
        b"--\r\n",
    ))
    return OutgoingMessage(message_id=email.message_id, raw=raw, addresses=addresses, smtputf8=utf8)


def render_notice(email: NoticeEmail) -> tuple[str, str, str]:
    """The subject, the text part and the HTML part."""
    env = _environment(email.catalog)
    branding = email.branding
    shop = _one_line(branding.shop_name)
    # (jinja2 sets a template's macros as attributes of its module at run time, unknown to its types)
    subject_macro = env.get_template("_notice_copy.html").module.subject  # type: ignore[attr-defined]
    subject = _one_line(html.unescape(subject_macro(email.outcome, shop)))
    name = _one_line(email.to_name or "")
    context = {
        "outcome": email.outcome,
        "locale": email.locale,
        "shop": shop,
        "name": name or None,
        "product": _one_line(email.product_name or "") or None,
        "reason": email.catalog.gettext(email.reason) if email.reason else None,
        "note": _note(email.note),
        "review_url": email.review_url,
        "may_appeal": email.may_appeal and email.outcome == "rejected",
        "unsubscribe_url": email.unsubscribe_url,
        "valid_days": email.link_valid_days,
        "has_reply_to": bool(branding.reply_to),
        "logo_url": _safe_image_url(branding.logo_url),
        "accent": branding.accent_color,
        "on_accent": branding.on_accent,
        "subject": subject,
    }
    return subject, env.get_template("notice.txt").render(context), env.get_template("notice.html").render(context)


def _note(note: str | None) -> str | None:
    """The note's lines as written, without control characters or trailing spaces."""
    if not note:
        return None
    lines = ["".join(c for c in line if c.isprintable()).rstrip() for line in note.splitlines()]
    text = "\n".join(lines).strip("\n")
    return text or None


def _crlf(text: str) -> str:
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\r\n", "\n").replace("\n", "\r\n")
