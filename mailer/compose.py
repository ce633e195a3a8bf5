"""Invitation and reminder emails: a text and an HTML part from the same wording, with the headers
mailbox providers expect from automated mail (RFC 3834 Auto-Submitted, RFC 8058 one-click unsubscribe)."""

from __future__ import annotations

import binascii
import html
import re
import secrets
import textwrap
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

from mailer.wire import OutgoingMessage
from reviews.i18n import negotiate, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "mailer"
DEFAULT_ACCENT = "#1f6feb"
KINDS = ("invitation", "reminder")
FONT_STACK = "-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif"

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_HEADER_URL = re.compile(r"https?://[!-~]+")  # printable ASCII, no spaces
_MESSAGE_ID = re.compile(r"[!-~]+")
_PRINTABLE_ASCII = re.compile(r"[ -~]*")
_SPECIALS = re.compile(r'[()<>@,:;.\\"\[\]]')  # RFC 5322: a display name with one of these is quoted
_STEP = 0.0001  # seconds of rendering between two steps of compose_steps
_LONGEST_WORD = 900  # a longer word in a header would need a line over SMTP's 998: encoded, it can be folded
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_SIMPLE_ADDRESS = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@({_LABEL}(?:\.{_LABEL})*)")


@dataclass(frozen=True)
class Branding:
    shop_name: str
    sender_name: str | None = None  # display name in From; default shop_name
    reply_to: str | None = None  # the merchant's own address, so buyers' replies reach the shop
    logo_url: str | None = None
    accent_color: str = DEFAULT_ACCENT

    def __post_init__(self) -> None:
        # The colour is interpolated into inline CSS: anything but a hex colour could break out of it.
        if not isinstance(self.accent_color, str) or not _HEX_COLOR.fullmatch(self.accent_color):
            object.__setattr__(self, "accent_color", DEFAULT_ACCENT)


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
    locale: str
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
    return finish(compose_steps(email, now=now))


def finish(steps: Generator[None, None, OutgoingMessage]) -> OutgoingMessage:
    """Runs composition steps (`compose_steps`) to the end, at once."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def compose_steps(email: InvitationEmail, *, now: datetime | None = None) -> Generator[None, None, OutgoingMessage]:
    """`compose_invitation` in a few steps of well under a millisecond each, returning the message: a
    sender on an event loop renders the next message between steps while the server handles this one."""
    if email.kind not in KINDS:
        raise ValueError(f"unknown email kind {email.kind!r}")
    for product in email.products:
        if len(product.star_urls) != 5:
            raise ValueError(f"product {product.name!r} needs exactly 5 star links")
    if not _HEADER_URL.fullmatch(email.unsubscribe_url) or "<" in email.unsubscribe_url or ">" in email.unsubscribe_url:
        raise ValueError("unsubscribe_url must be an http(s) URL without spaces or angle brackets")
    if not _MESSAGE_ID.fullmatch(email.message_id):
        raise ValueError("message_id must be printable ASCII without spaces")
    locale = negotiate(email.locale)
    env = _environment(locale)
    branding = email.branding
    sender = _mailbox(branding.sender_name or branding.shop_name, email.from_address)
    to = _mailbox(email.to_name or "", email.to_address)
    reply_to = _mailbox(branding.shop_name, branding.reply_to) if branding.reply_to else None
    addresses = {"from": (sender,), "to": (to,)} | ({"reply-to": (reply_to,)} if reply_to else {})
    # RFC 6531: a non-ASCII domain needs SMTPUTF8, and then the headers are UTF-8 (RFC 6532).
    utf8 = not all(a.addr_spec.isascii() for (a,) in addresses.values())

    # Called from Python the macro returns HTML-escaped text; a header wants it plain.
    subject = _one_line(html.unescape(env.globals["copy"].subject(email.kind, branding.shop_name)))
    context = {
        "kind": email.kind,
        "locale": locale,
        "shop": branding.shop_name,
        "name": _one_line(email.to_name or "") or None,
        "logo_url": _safe_image_url(branding.logo_url),
        "products": [
            {"name": p.name, "image_url": _safe_image_url(p.image_url), "star_urls": list(p.star_urls)}
            for p in email.products
        ],
        "review_url": email.review_url,
        "unsubscribe_url": email.unsubscribe_url,
        "valid_days": email.link_valid_days,
        "has_reply_to": bool(branding.reply_to),
        "accent": branding.accent_color,
        "on_accent": _text_color_on(branding.accent_color),
        "subject": subject,
    }
    yield
    text = yield from _render(env.get_template("invitation.txt"), context)
    text_body = _quoted_printable(text)
    yield
    html_text = yield from _render(env.get_template("invitation.html"), context)
    yield
    html_body = _quoted_printable(html_text)
    yield

    # "=_" cannot occur in quoted-printable, so the boundary never collides with the parts.
    boundary = "=_" + secrets.token_hex(16)
    head = [
        _fold("From", _address(sender, utf8)),
        _fold("To", _address(to, utf8)),
        *([_fold("Reply-To", _address(reply_to, utf8))] if reply_to else []),
        _fold("Subject", _unstructured(subject, utf8)),
        "Date: " + format_datetime(now or datetime.now(UTC)),
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
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    raw = b"".join((
        "\r\n".join(head).encode("utf-8" if utf8 else "ascii"),
        b"\r\n",
        delimiter,
        _PART_HEAD % b"plain",
        text_body,
        delimiter,
        _PART_HEAD % b"html",
        html_body,
        delimiter[:-2],
        b"--\r\n",
    ))
    return OutgoingMessage(message_id=email.message_id, raw=raw, addresses=addresses, smtputf8=utf8)


def _render(template: Template, context: dict[str, Any]) -> Generator[None, None, str]:
    """The template rendered, in steps of about _STEP seconds."""
    chunks = []
    clock = time.perf_counter
    until = clock() + _STEP
    for chunk in template.generate(context):
        chunks.append(chunk)
        if clock() > until:
            yield
            until = clock() + _STEP
    return "".join(chunks)


# Quoted-printable keeps both parts 7-bit, so relays never re-encode them and break DKIM body hashes.
_PART_HEAD = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'


def _quoted_printable(text: str) -> bytes:
    """A text part's body: CRLF line ends, ending with one, quoted-printable (lines of at most 76)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return binascii.b2a_qp(text.replace("\n", "\r\n").encode("utf-8"), istext=True)


def _mailbox(display_name: str, addr_spec: str) -> Address:
    """A mailbox, its address validated as `email.headerregistry` does (ValueError when malformed)."""
    display_name = _one_line(display_name)
    simple = _SIMPLE_ADDRESS.fullmatch(addr_spec)
    if simple:  # the common case, without the full RFC 5322 parser
        return Address(display_name, simple[1], simple[2])
    return Address(display_name, addr_spec=addr_spec)


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
def _environment(locale: str) -> Environment:
    # One environment per language: gettext is installed environment-wide, and templates compile once.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # compiled once per process: no stat() of every template for every email
    )
    env.policies["ext.i18n.trimmed"] = True
    env.globals["font"] = FONT_STACK
    env.filters["plain"] = _plain
    env.install_gettext_translations(translations(LOCALES_DIR, DOMAIN, locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["copy"] = _Wording(env)
    return env


# Stands in for a buyer's name or a link while a wording is cached; it never occurs in a translation.
_SLOT = "\ue000"
# Macros that only interpolate this argument (position), testing it for nothing but being empty.
_SLOTTED = {"greeting": 0, "write_review_at": 0, "rate_at": 1, "unsubscribe_at": 0}
_WORDING_CACHE_SIZE = 4096


class _Wording:
    """The macros of `_copy.html` in one language (the templates' `copy`), memoised: a sentence is
    rendered once per shop, number and language, not once per email and use.

    A slotted argument (a buyer's name, a link) is rendered as a placeholder, which is then replaced
    by the HTML-escaped value: the same Markup the macro returns, since it escapes and interpolates
    the value and does nothing else with it.
    """

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._cache: dict[tuple[Any, ...], Markup] = {}

    def __getattr__(self, name: str) -> Callable[..., Markup]:
        if name.startswith("_"):
            raise AttributeError(name)
        macro = getattr(self._env.get_template("_copy.html").module, name)
        slot = _SLOTTED.get(name)
        cache = self._cache

        def call(*args: Any) -> Markup:
            value = None
            if slot is not None and args[slot]:
                value = args[slot]
                args = (*args[:slot], _SLOT, *args[slot + 1 :])
            key = (name, *args)
            rendered = cache.get(key)
            if rendered is None:
                if len(cache) >= _WORDING_CACHE_SIZE:
                    cache.clear()
                rendered = cache[key] = macro(*args)
            if value is None:
                return rendered
            return rendered.replace(_SLOT, value)  # Markup.replace escapes the value

        setattr(self, name, call)
        return call


def _plain(value: str, wrap: int = 72) -> str:
    """The copy macros' escaped output as plain text, wrapped for the text part (wrap=0: one line)."""
    text = html.unescape(str(value))
    if not wrap:
        return text
    return _wrapped(text, wrap)


@lru_cache(maxsize=4096)
def _wrapped(text: str, wrap: int) -> str:
    # Long words (URLs) stay whole so that they remain clickable.
    return textwrap.fill(text, width=wrap, break_long_words=False, break_on_hyphens=False)


def _one_line(value: str) -> str:
    """Collapses whitespace: a newline in a shop or buyer name must never reach a header."""
    return " ".join(value.split())


def _safe_image_url(url: str | None) -> str | None:
    # Only web images: data:, javascript: or file: sources from shop data are dropped, not rendered.
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return None


def _text_color_on(background: str) -> str:
    """Black or white, whichever reads better on the merchant's accent colour (WCAG relative luminance)."""
    hex_digits = background.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast against white is (1.05)/(L+0.05), against black (L+0.05)/0.05; pick the larger.
    return "#ffffff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else "#111111"
