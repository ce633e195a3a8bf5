"""One author-facing letter on the wire: the headers and the two parts every short message of a shop
to one buyer shares (a moderator's notice, a shop's reply), the same as the invitations'
(`mailer.compose`): RFC 3834 Auto-Submitted, RFC 8058 one-click unsubscribe when a link is given.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any

from mailer.compose import (
    _HEADER_URL,
    _MESSAGE_ID,
    Branding,
    _address,
    _date_header,
    _fold,
    _html_wire,
    _mailbox,
    _multipart,
    _one_line,
    _part,
    _safe_image_url,
    _shop_header,
    _shop_mailbox,
    _subject_header,
)
from mailer.wire import OutgoingMessage


def check_links(*urls: str | None) -> None:
    for url in urls:
        if url is not None and (not _HEADER_URL.fullmatch(url) or "<" in url or ">" in url):
            raise ValueError("links must be http(s) URLs without spaces or angle brackets")


def letter(*, branding: Branding, from_address: str, to_address: str, to_name: str | None, message_id: str,
           locale: str, subject: str, text: str, html_text: str, unsubscribe_url: str | None,
           now: datetime | None) -> OutgoingMessage:
    """The message, multipart/alternative, ready to sign and send."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("message_id must be printable ASCII without spaces")
    sender = _shop_mailbox(branding.sender_name or branding.shop_name, from_address)
    to = _mailbox(to_name or "", to_address)
    reply_to = _shop_mailbox(branding.shop_name, branding.reply_to) if branding.reply_to else None
    addresses: dict[str, tuple[Address, ...]] = {"from": (sender,), "to": (to,)}
    if reply_to:
        addresses["reply-to"] = (reply_to,)
    utf8 = not all(a.addr_spec.isascii() for (a,) in addresses.values())

    text_part = _part(b"plain", _crlf(text).encode("utf-8"))
    html_part = _part(b"html", _html_wire(html_text if html_text.endswith("\n") else html_text + "\n"))

    boundary = "=_" + secrets.token_hex(16)
    head = [
        _shop_header("From", sender.display_name, sender.addr_spec, utf8),
        _fold("To", _address(to, utf8)),
        *([_shop_header("Reply-To", reply_to.display_name, reply_to.addr_spec, utf8)] if reply_to else []),
        _subject_header(subject, utf8),
        _date_header((now or datetime.now(UTC)).replace(microsecond=0)),
        "Message-ID: " + message_id,
        "Auto-Submitted: auto-generated",
        *([f"List-Unsubscribe: <{unsubscribe_url}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
          if unsubscribe_url else []),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
        "Content-Language: " + locale,
    ]
    raw = _multipart(head, boundary, text_part, html_part, utf8)
    return OutgoingMessage(message_id=message_id, raw=raw, addresses=addresses, smtputf8=utf8)


def context(*, branding: Branding, locale: str, to_name: str | None, product_name: str | None,
            review_url: str | None, unsubscribe_url: str | None, link_valid_days: int, subject: str) -> dict[str, Any]:
    """What every letter's template reads besides its own words: the greeting, the shop's look, the
    links and the footer's facts."""
    return {
        "locale": locale,
        "shop": _one_line(branding.shop_name),
        "name": _one_line(to_name or "") or None,
        "product": _one_line(product_name or "") or None,
        "review_url": review_url,
        "unsubscribe_url": unsubscribe_url,
        "valid_days": link_valid_days,
        "has_reply_to": bool(branding.reply_to),
        "logo_url": _safe_image_url(branding.logo_url),
        "accent": branding.accent_color,
        "on_accent": branding.on_accent,
        "subject": subject,
    }


def lines_as_written(text: str | None) -> str | None:
    """Someone's own words (a moderator's note, a shop's reply) line by line, without control
    characters or trailing spaces."""
    if not text:
        return None
    lines = ["".join(c for c in line if c.isprintable()).rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip("\n") or None


def _crlf(text: str) -> str:
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\r\n", "\n").replace("\n", "\r\n")
