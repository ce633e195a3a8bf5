"""Header fields as they go on the wire: mailboxes checked by the one address parser, display names
and subjects as RFC 2047 encoded words where they are not plain ASCII (or UTF-8 under SMTPUTF8),
folded at spaces into lines of at most 78 characters where the words allow.

The shop's side of the headers (From, Reply-To, a subject) is the same for every email of a shop,
so it is formatted once and cached.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.utils import format_datetime
from functools import lru_cache

from mailer.addresses import parse as parse_address

_PRINTABLE_ASCII = re.compile(r"[ -~]*")
_SPECIALS = re.compile(r'[()<>@,:;.\\"\[\]]')  # RFC 5322: a display name with one of these is quoted
_LONGEST_WORD = 900  # a longer word in a header would need a line over SMTP's 998: encoded, it can be folded
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_SIMPLE_ADDRESS = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@({_LABEL}(?:\.{_LABEL})*)")


def one_line(value: str) -> str:
    """Collapses whitespace: a newline in a shop or buyer name must never reach a header."""
    return " ".join(value.split())


def mailbox(display_name: str, addr_spec: str) -> Address:
    """A mailbox, its address checked by the parser that checked it on the way in (AddressError, a
    ValueError, when it cannot be mailed), with an IDNA domain in its ASCII form."""
    display_name = one_line(display_name)
    simple = _SIMPLE_ADDRESS.fullmatch(addr_spec)
    if simple:  # the common case: a strict subset of what the parser accepts, matched in a microsecond
        return Address(display_name, simple[1], simple[2])
    local, _, domain = parse_address(addr_spec).wire.rpartition("@")
    return Address(display_name, local, domain)


shop_mailbox = lru_cache(maxsize=1024)(mailbox)


@lru_cache(maxsize=1024)
def shop_field(name: str, display_name: str, addr_spec: str, utf8: bool) -> str:
    """From or Reply-To: the shop's (or Attest's) own mailbox."""
    return fold(name, address(Address(display_name, addr_spec=addr_spec), utf8))


@lru_cache(maxsize=1024)
def subject_field(subject: str, utf8: bool) -> str:
    return fold("Subject", _unstructured(subject, utf8))


@lru_cache(maxsize=8)
def date_field(now: datetime) -> str:
    return "Date: " + format_datetime(now)  # whole seconds: a batch's emails share a few


def address(mailbox: Address, utf8: bool) -> str:
    if not mailbox.display_name:
        return mailbox.addr_spec
    return f"{_phrase(mailbox.display_name, utf8)} <{mailbox.addr_spec}>"


def fold(name: str, value: str) -> str:
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
