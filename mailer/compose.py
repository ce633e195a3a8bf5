"""Invitation and reminder emails: a text and an HTML part from the same wording, with the headers
mailbox providers expect from automated mail (RFC 3834 Auto-Submitted, RFC 8058 one-click unsubscribe)."""

from __future__ import annotations

import binascii
import html
import re
import secrets
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from mailer.addresses import parse as parse_address
from mailer.wire import OutgoingMessage

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "mailer"
KINDS = ("invitation", "reminder")
FONT_STACK = "-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif"

_HEADER_URL = re.compile(r"https?://[!-~]+")  # printable ASCII, no spaces
_WEB_URL = re.compile(r"https?:", re.IGNORECASE)  # the scheme urlsplit would find
_MESSAGE_ID = re.compile(r"[!-~]+")
_PRINTABLE_ASCII = re.compile(r"[ -~]*")
_SPECIALS = re.compile(r'[()<>@,:;.\\"\[\]]')  # RFC 5322: a display name with one of these is quoted
_LONGEST_WORD = 900  # a longer word in a header would need a line over SMTP's 998: encoded, it can be folded
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_SIMPLE_ADDRESS = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@({_LABEL}(?:\.{_LABEL})*)")


@dataclass(frozen=True)
class Branding:
    shop_name: str
    # Both go into inline CSS: the caller hands in checked hex colours (Attest's merchants.branding).
    accent_color: str
    on_accent: str
    sender_name: str | None = None  # display name in From; default shop_name
    reply_to: str | None = None  # the merchant's own address, so buyers' replies reach the shop
    logo_url: str | None = None


@dataclass(frozen=True)
class EmailProduct:
    name: str
    image_url: str | None
    star_urls: list[str]  # exactly 5 links, index 0 = 1 star ... index 4 = 5 stars


@dataclass(frozen=True)
class InvitationEmail:
    kind: str  # "invitation" or "reminder"
    to_address: str
    to_name: str | None
    locale: str  # a language the caller chose, and `catalog` speaks
    catalog: NullTranslations
    branding: Branding
    products: list[EmailProduct]
    review_url: str
    unsubscribe_url: str  # GET shows a confirmation page, POST unsubscribes (RFC 8058)
    message_id: str
    from_address: str
    link_valid_days: int = 30


def compose_invitation(email: InvitationEmail, *, now: datetime | None = None) -> OutgoingMessage:
    """The invitation (or reminder) as a multipart/alternative message, ready to sign and send.

    `now` comes from the caller's clock so that the Date header is testable.
    """
    if email.kind not in KINDS:
        raise ValueError(f"unknown email kind {email.kind!r}")
    for product in email.products:
        if len(product.star_urls) != 5:
            raise ValueError(f"product {product.name!r} needs exactly 5 star links")
        if not all(_HEADER_URL.fullmatch(url) for url in product.star_urls):
            raise ValueError("star links must be http(s) URLs without spaces")
    if not _HEADER_URL.fullmatch(email.review_url):
        raise ValueError("review_url must be an http(s) URL without spaces")
    if not _HEADER_URL.fullmatch(email.unsubscribe_url) or "<" in email.unsubscribe_url or ">" in email.unsubscribe_url:
        raise ValueError("unsubscribe_url must be an http(s) URL without spaces or angle brackets")
    if not _MESSAGE_ID.fullmatch(email.message_id):
        raise ValueError("message_id must be printable ASCII without spaces")
    locale = email.locale
    branding = email.branding
    sender = _shop_mailbox(branding.sender_name or branding.shop_name, email.from_address)
    to = _mailbox(email.to_name or "", email.to_address)
    reply_to = _shop_mailbox(branding.shop_name, branding.reply_to) if branding.reply_to else None
    addresses: dict[str, tuple[Address, ...]] = {"from": (sender,), "to": (to,)}
    if reply_to:
        addresses["reply-to"] = (reply_to,)
    # RFC 6531: a non-ASCII domain needs SMTPUTF8, and then the headers are UTF-8 (RFC 6532).
    utf8 = not all(a.addr_spec.isascii() for (a,) in addresses.values())

    layout = _Layout(
        locale=locale, kind=email.kind, shop=branding.shop_name, named=bool(_one_line(email.to_name or "")),
        catalog=email.catalog, logo_url=_safe_image_url(branding.logo_url), accent=branding.accent_color,
        on_accent=branding.on_accent,
        valid_days=email.link_valid_days, has_reply_to=bool(branding.reply_to),
        images=tuple(_safe_image_url(p.image_url) is not None for p in email.products),
    )
    frame = _frame(layout)
    values = _slot_values(email)
    text_part = _part(b"plain", frame.fill_text(values).replace("\n", "\r\n").encode("utf-8"))
    html_part = _part(b"html", frame.fill_html(values))

    # 128 random bits: no part can contain the boundary by chance, nor by design of a buyer or shop name.
    boundary = "=_" + secrets.token_hex(16)
    head = [
        _shop_header("From", sender.display_name, sender.addr_spec, utf8),
        _fold("To", _address(to, utf8)),
        *([_shop_header("Reply-To", reply_to.display_name, reply_to.addr_spec, utf8)] if reply_to else []),
        _subject_header(frame.subject, utf8),
        _date_header((now or datetime.now(UTC)).replace(microsecond=0)),
        "Message-ID: " + email.message_id,
        # RFC 3834: auto-responders must not answer; no "Precedence: bulk", which some providers penalise.
        "Auto-Submitted: auto-generated",
        # Never folded: folding would split a long signed URL, which mail clients then cannot use.
        f"List-Unsubscribe: <{email.unsubscribe_url}>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
        "Content-Language: " + locale,
    ]
    raw = _multipart(head, boundary, text_part, html_part, utf8)
    return OutgoingMessage(message_id=email.message_id, raw=raw, addresses=addresses, smtputf8=utf8)


# --- rendering: the templates once per layout, then per message only the values -------------
#
# Rendering both templates costs about half a millisecond, as much as the whole SMTP exchange of
# the message, while everything but a few values (the buyer's name, the links, the products) is the
# same for every email of a shop, language and kind. So the templates are rendered once per layout
# with a marker in place of each such value, and each email fills the markers in: HTML-escaped in
# the HTML part, as they are in the text part. That is what rendering them would have done, because
# the templates only interpolate these values, testing them for nothing but being present (which is
# part of the layout), and the text part never wraps a line that holds one. No value holds a line
# break, so the frames' line ends are already those of the wire.
# (`tests/test_mailer.py` checks that filling a frame equals rendering with the values.)


@dataclass(frozen=True)
class _Layout:
    """Everything that shapes an email's wording and markup besides its slot values."""

    locale: str
    catalog: NullTranslations
    kind: str
    shop: str
    named: bool  # a greeting with the buyer's name
    logo_url: str | None
    accent: str
    on_accent: str
    valid_days: int
    has_reply_to: bool
    images: tuple[bool, ...]  # per product: whether it has an image


# A marker: a private-use character, this process's nonce (so that no shop name or translation can
# forge one), the slot number and a closing private-use character.
_MARK = "\ue001" + secrets.token_hex(6)
_MARKER = re.compile(re.escape(_MARK) + r"(\d+)\ue002")
_PER_PRODUCT = 7  # name, image, five star links
_FIRST_PRODUCT_SLOT = 3  # after the name, the review link and the unsubscribe link
_FRAME_CACHE_SIZE = 1024


def _slot_values(email: InvitationEmail) -> list[str]:
    """The per-email values, in slot order (see `_frame`); none holds a line break."""
    values = [_one_line(email.to_name or ""), email.review_url, email.unsubscribe_url]
    for product in email.products:
        values += [_one_line(product.name), _safe_image_url(product.image_url) or "", *product.star_urls]
    return values


@dataclass(frozen=True)
class _Frame:
    """The rendered templates split at their markers: literal, slot, literal, ..., literal. The HTML
    literals are already as they go out (`_html_wire`)."""

    subject: str
    text: tuple[str, ...]
    text_slots: tuple[int, ...]
    html: tuple[bytes, ...]
    html_slots: tuple[int, ...]

    def fill_text(self, values: list[str]) -> str:
        return "".join(_interleave(self.text, self.text_slots, values))

    def fill_html(self, values: list[str]) -> bytes:
        # The values hold no line break: escaped and encoded as `_html_wire` would, without its replacing.
        escaped = [str(escape(v)).encode("ascii", "xmlcharrefreplace") for v in values]
        return b"".join(_interleave(self.html, self.html_slots, escaped))


def _interleave(literals: tuple[Any, ...], slots: tuple[int, ...], values: list[Any]) -> list[Any]:
    out = [literals[0]]
    for slot, literal in zip(slots, literals[1:], strict=True):
        out += (values[slot], literal)
    return out


def _split(rendered: str) -> tuple[list[str], tuple[int, ...]]:
    if not rendered.endswith("\n"):
        rendered += "\n"
    pieces = _MARKER.split(rendered)
    return pieces[0::2], tuple(int(n) for n in pieces[1::2])


_frames: dict[_Layout, _Frame] = {}


def _frame(layout: _Layout) -> _Frame:
    frame = _frames.get(layout)
    if frame is None:
        if len(_frames) >= _FRAME_CACHE_SIZE:
            _frames.clear()
        markers = [f"{_MARK}{n}\ue002" for n in range(_FIRST_PRODUCT_SLOT + _PER_PRODUCT * len(layout.images))]
        subject, text, html_text = render_parts(layout, markers)
        text_literals, text_slots = _split(text)
        html_literals, html_slots = _split(html_text)
        frame = _frames[layout] = _Frame(subject, tuple(text_literals), text_slots,
                                         tuple(_html_wire(literal) for literal in html_literals), html_slots)
    return frame


def render_parts(layout: _Layout, values: list[str]) -> tuple[str, str, str]:
    """The subject, the text part and the HTML part, rendered by the templates with these slot values."""
    env = _environment(layout.catalog)
    # Called from Python the macro returns HTML-escaped text; a header wants it plain.
    # (jinja2 sets a template's macros as attributes of its module at run time, unknown to its types)
    subject_macro = env.get_template("_copy.html").module.subject  # type: ignore[attr-defined]
    subject = _one_line(html.unescape(subject_macro(layout.kind, layout.shop)))
    products = []
    for n, has_image in enumerate(layout.images):
        first = _FIRST_PRODUCT_SLOT + _PER_PRODUCT * n
        products.append({"name": values[first], "image_url": values[first + 1] if has_image else None,
                         "star_urls": values[first + 2 : first + _PER_PRODUCT]})
    context = {
        "kind": layout.kind,
        "locale": layout.locale,
        "shop": layout.shop,
        "name": values[0] if layout.named else None,
        "logo_url": layout.logo_url,
        "products": products,
        "review_url": values[1],
        "unsubscribe_url": values[2],
        "valid_days": layout.valid_days,
        "has_reply_to": layout.has_reply_to,
        "accent": layout.accent,
        "on_accent": layout.on_accent,
        "subject": subject,
    }
    text = env.get_template("invitation.txt").render(context)
    return subject, text, env.get_template("invitation.html").render(context)


# Both parts are 7-bit, so relays never re-encode them and break DKIM body hashes. The HTML part
# writes each non-ASCII character as a character reference (ł as &#322;), which keeps it plain 7-bit
# text: smaller than quoted-printable, which turns every "=" of the markup into "=3D", and cheaper to
# produce. Text has no such references: unless it is ASCII, the text part is quoted-printable.
_PART_HEAD = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: %s\r\n\r\n'
_MAX_LINE = 998  # RFC 5322, without the CRLF


def _multipart(head: list[str], boundary: str, text_part: bytes, html_part: bytes, utf8: bool) -> bytes:
    """The headers, then the text and the HTML alternatives between the boundary's delimiters."""
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    return b"".join((
        "\r\n".join(head).encode("utf-8" if utf8 else "ascii"),
        b"\r\n",
        delimiter,
        text_part,
        delimiter,
        html_part,
        delimiter[:-2],
        b"--\r\n",
    ))


def _html_wire(html_text: str) -> bytes:
    """HTML as it goes out: CRLF line ends, ASCII with character references."""
    html_text = html_text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return html_text.encode("ascii", "xmlcharrefreplace")


def _part(subtype: bytes, data: bytes) -> bytes:
    """A part with its head; `data` has CRLF line ends and ends with one."""
    if data.isascii() and max(map(len, data.split(b"\r\n"))) <= _MAX_LINE:
        return _PART_HEAD % (subtype, b"7bit") + data
    return _PART_HEAD % (subtype, b"quoted-printable") + binascii.b2a_qp(data, istext=True)  # lines of at most 76


def _mailbox(display_name: str, addr_spec: str) -> Address:
    """A mailbox, its address checked by the parser that checked it on the way in (AddressError, a
    ValueError, when it cannot be mailed), with an IDNA domain in its ASCII form."""
    display_name = _one_line(display_name)
    simple = _SIMPLE_ADDRESS.fullmatch(addr_spec)
    if simple:  # the common case: a strict subset of what the parser accepts, matched in a microsecond
        return Address(display_name, simple[1], simple[2])
    local, _, domain = parse_address(addr_spec).wire.rpartition("@")
    return Address(display_name, local, domain)


# The shop's side of the headers is the same for every email of a shop: formatted once.
_shop_mailbox = lru_cache(maxsize=1024)(_mailbox)


@lru_cache(maxsize=1024)
def _shop_header(name: str, display_name: str, addr_spec: str, utf8: bool) -> str:
    return _fold(name, _address(Address(display_name, addr_spec=addr_spec), utf8))


@lru_cache(maxsize=1024)
def _subject_header(subject: str, utf8: bool) -> str:
    return _fold("Subject", _unstructured(subject, utf8))


@lru_cache(maxsize=8)
def _date_header(now: datetime) -> str:
    return "Date: " + format_datetime(now)  # whole seconds: a batch's emails share a few


def _address(mailbox: Address, utf8: bool) -> str:
    if not mailbox.display_name:
        return mailbox.addr_spec
    return f"{_phrase(mailbox.display_name, utf8)} <{mailbox.addr_spec}>"


def _phrase(text: str, utf8: bool) -> str:
    """A display name: as it is, quoted when it has specials, RFC 2047 encoded words when not ASCII."""
    if _is_plain(text, utf8):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if _SPECIALS.search(text) else text
    # Encoded words cannot be quoted: the words with specials are encoded along with the non-ASCII ones.
    return _encode_runs(text, lambda word: _is_plain(word, utf8) and not _SPECIALS.search(word))


def _unstructured(text: str, utf8: bool) -> str:
    """Subject text: the words that are not plain printable ASCII become encoded words (RFC 2047)."""
    return text if _is_plain(text, utf8) else _encode_runs(text, lambda word: _is_plain(word, utf8))


def _is_plain(text: str, utf8: bool) -> bool:
    """Printable (and ASCII unless SMTPUTF8), no word too long to fold, nothing a reader would decode."""
    if not (text.isprintable() if utf8 else _PRINTABLE_ASCII.fullmatch(text)) or "=?" in text:
        return False
    return len(text) <= _LONGEST_WORD or all(len(word) <= _LONGEST_WORD for word in text.split(" "))


def _encode_runs(text: str, plain: Callable[[str], bool]) -> str:
    """Each run of words that are not `plain` as encoded words, the spaces within a run encoded too:
    the space between two encoded words is dropped when decoding (RFC 2047 6.2)."""
    out: list[str] = []
    run: list[str] = []
    for word in text.split(" "):
        if not plain(word):
            run.append(word)
            continue
        if run:
            out += _encoded_words(" ".join(run))
            run = []
        out.append(word)
    if run:
        out += _encoded_words(" ".join(run))
    return " ".join(out)


def _encoded_words(text: str) -> list[str]:
    """`=?utf-8?b?...?=` words of at most 72 characters, never splitting a character between two, and
    splitting after a space where there is one."""
    data = text.encode("utf-8")
    words = []
    start = 0
    while start < len(data):
        end = start + 45  # 45 bytes: 60 base64 characters
        if end < len(data):
            space = data.rfind(b" ", start + 1, end)
            if space > start:
                end = space + 1
            else:
                while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back to the character's start
                    end -= 1
        words.append("=?utf-8?b?" + binascii.b2a_base64(data[start:end], newline=False).decode("ascii") + "?=")
        start = end
    return words


def _fold(name: str, value: str) -> str:
    """`Name: value`, folded at spaces into lines of at most 78 characters where the words allow."""
    line = f"{name}: {value}"
    if len(line) <= 78:
        return line
    lines = []
    line = name + ":"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and len(line) > len(name) + 1:
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return "\r\n".join(lines)


@cache
def _environment(catalog: NullTranslations) -> Environment:
    # One environment per language: gettext is installed environment-wide, and templates compile once.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.globals["font"] = FONT_STACK
    env.filters["plain"] = _plain
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    return env


def _plain(value: str, wrap: int = 72) -> str:
    """The copy macros' escaped output as plain text, wrapped for the text part (wrap=0: one line)."""
    text = html.unescape(str(value))
    if not wrap:
        return text
    # Long words (URLs) stay whole so that they remain clickable.
    return textwrap.fill(text, width=wrap, break_long_words=False, break_on_hyphens=False)


def _one_line(value: str) -> str:
    """Collapses whitespace: a newline in a shop or buyer name must never reach a header."""
    return " ".join(value.split())


def _safe_image_url(url: str | None) -> str | None:
    # Only web images: data:, javascript: or file: sources from shop data are dropped, not rendered,
    # and so is a URL with a line break or another control character in it.
    url = url.strip() if url else None
    if url and url.isprintable() and _WEB_URL.match(url):
        return url
    return None
