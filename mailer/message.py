"""The one builder of Attest's emails: every message (an invitation or reminder, a notice to a
review's author, the shop's reply, an email from Attest itself) gets its header block and MIME
structure here, so they cannot drift apart.

The headers: From (with a display name), To, Reply-To when given, Subject, Date, Message-ID,
RFC 3834 `Auto-Submitted: auto-generated` (auto-responders must not answer; no "Precedence: bulk",
which some providers penalise), RFC 8058 one-click `List-Unsubscribe` when an unsubscribe link is
given, then the MIME headers and Content-Language. The body is a text part, or a text and an HTML
part as multipart/alternative. DKIM signs the bytes built here, in the transport (`mailer.dkim`).
"""

from __future__ import annotations

import binascii
import re
import secrets
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import make_msgid

from mailer.headers import address, date_field, fold, mailbox, one_line, shop_field, shop_mailbox, subject_field
from mailer.wire import OutgoingMessage

LINK = re.compile(r"https?://[!-~]+")  # printable ASCII, no spaces: a link that survives headers and wrapping
_MESSAGE_ID = re.compile(r"[!-~]+")

# Both parts are 7-bit, so relays never re-encode them and break DKIM body hashes. The HTML part
# writes each non-ASCII character as a character reference (ł as &#322;), which keeps it plain 7-bit
# text: smaller than quoted-printable, which turns every "=" of the markup into "=3D", and cheaper to
# produce. Text has no such references: unless it is ASCII, the text part is quoted-printable.
_PART_HEAD = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: %s\r\n\r\n'
_MAX_LINE = 998  # RFC 5322, without the CRLF


def check_links(*urls: str | None) -> None:
    """Links that go into a header (List-Unsubscribe) or stand alone on a line of the text part."""
    for url in urls:
        if url is not None and (not LINK.fullmatch(url) or "<" in url or ">" in url):
            raise ValueError("links must be http(s) URLs without spaces or angle brackets")


def build(*, from_address: str, from_name: str = "", reply_to: str | None = None, reply_to_name: str = "",
          to_address: str, to_name: str | None = None, subject: str, message_id: str, locale: str, text: str,
          html: str | bytes | None = None, unsubscribe_url: str | None = None,
          now: datetime | None = None) -> OutgoingMessage:
    """The message, ready to sign and send: the text part alone, or with `html` (markup, or bytes
    already as `html_wire` makes them) as multipart/alternative. `now` comes from the caller's clock
    so that the Date header is testable."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("message_id must be printable ASCII without spaces")
    check_links(unsubscribe_url)
    sender = shop_mailbox(from_name, from_address)
    to = mailbox(to_name or "", to_address)
    replies = shop_mailbox(reply_to_name, reply_to) if reply_to else None
    addresses: dict[str, tuple[Address, ...]] = {"from": (sender,), "to": (to,)}
    if replies:
        addresses["reply-to"] = (replies,)
    # RFC 6531: a non-ASCII domain needs SMTPUTF8, and then the headers are UTF-8 (RFC 6532).
    utf8 = not all(a.addr_spec.isascii() for (a,) in addresses.values())
    head = [
        shop_field("From", sender.display_name, sender.addr_spec, utf8),
        fold("To", address(to, utf8)),
        *([shop_field("Reply-To", replies.display_name, replies.addr_spec, utf8)] if replies else []),
        subject_field(subject, utf8),
        date_field((now or datetime.now(UTC)).replace(microsecond=0)),
        "Message-ID: " + message_id,
        "Auto-Submitted: auto-generated",
        # Never folded: folding would split a long signed URL, which mail clients then cannot use.
        *([f"List-Unsubscribe: <{unsubscribe_url}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
          if unsubscribe_url else []),
        "MIME-Version: 1.0",
    ]
    text_part = _part(b"plain", _crlf(text).encode("utf-8"))
    if html is None:
        raw = _head([*head, "Content-Language: " + locale], utf8) + text_part
    else:
        if isinstance(html, str):
            html = html_wire(html if html.endswith("\n") else html + "\n")
        html_part = _part(b"html", html)
        # 128 random bits: no part can contain the boundary by chance, nor by design of a buyer or shop name.
        boundary = "=_" + secrets.token_hex(16)
        head += [f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"', "Content-Language: " + locale]
        raw = _multipart(_head(head, utf8), boundary, text_part, html_part)
    return OutgoingMessage(message_id=message_id, raw=raw, addresses=addresses, smtputf8=utf8)


def service_email(*, from_address: str, to_address: str, subject: str, text: str, locale: str,
                  html: str | None = None, now: datetime | None = None) -> OutgoingMessage:
    """An email from Attest itself to one person (an account's sign-in link, a shop owner's notice),
    with a new Message-ID in the sender's domain."""
    message_id = make_msgid(domain=from_address.rpartition("@")[2] or None)
    return build(from_address=from_address, to_address=to_address, subject=one_line(subject),
                 message_id=message_id, locale=locale, text=text, html=html, now=now)


def html_wire(html_text: str) -> bytes:
    """HTML as it goes out: CRLF line ends, ASCII with character references."""
    html_text = html_text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return html_text.encode("ascii", "xmlcharrefreplace")


def _crlf(text: str) -> str:
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _head(fields: list[str], utf8: bool) -> bytes:
    return "\r\n".join(fields).encode("utf-8" if utf8 else "ascii") + b"\r\n"


def _multipart(head: bytes, boundary: str, text_part: bytes, html_part: bytes) -> bytes:
    """The headers, then the text and the HTML alternatives between the boundary's delimiters."""
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    return b"".join((head, delimiter, text_part, delimiter, html_part, delimiter[:-2], b"--\r\n"))


def _part(subtype: bytes, data: bytes) -> bytes:
    """A part with its head; `data` has CRLF line ends and ends with one."""
    if data.isascii() and max(map(len, data.split(b"\r\n"))) <= _MAX_LINE:
        return _PART_HEAD % (subtype, b"7bit") + data
    return _PART_HEAD % (subtype, b"quoted-printable") + binascii.b2a_qp(data, istext=True)  # lines of at most 76
