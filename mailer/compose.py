"""Invitation and reminder emails: a text and an HTML part from the same wording, with the headers
mailbox providers expect from automated mail (RFC 3834 Auto-Submitted, RFC 8058 one-click unsubscribe)."""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mailer.wire import POLICY
from reviews.i18n import negotiate, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "mailer"
DEFAULT_ACCENT = "#1f6feb"
KINDS = ("invitation", "reminder")
FONT_STACK = "-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif"

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_HEADER_URL = re.compile(r"https?://[!-~]+")  # printable ASCII, no spaces


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


def compose_invitation(email: InvitationEmail, *, now: datetime | None = None) -> EmailMessage:
    """The invitation (or reminder) as a multipart/alternative message, ready to sign and send.

    `now` comes from the caller's clock so that the Date header is testable.
    """
    if email.kind not in KINDS:
        raise ValueError(f"unknown email kind {email.kind!r}")
    for product in email.products:
        if len(product.star_urls) != 5:
            raise ValueError(f"product {product.name!r} needs exactly 5 star links")
    if not _HEADER_URL.fullmatch(email.unsubscribe_url) or "<" in email.unsubscribe_url or ">" in email.unsubscribe_url:
        raise ValueError("unsubscribe_url must be an http(s) URL without spaces or angle brackets")
    locale = negotiate(email.locale)
    env = _environment(locale)
    branding = email.branding
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
    }
    # Called from Python the macro returns HTML-escaped text; a header wants it plain.
    subject = _one_line(html.unescape(env.get_template("_copy.html").module.subject(email.kind, branding.shop_name)))
    context["subject"] = subject

    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(_one_line(branding.sender_name or branding.shop_name), addr_spec=email.from_address)
    msg["To"] = Address(_one_line(email.to_name or ""), addr_spec=email.to_address)
    if branding.reply_to:
        msg["Reply-To"] = Address(_one_line(branding.shop_name), addr_spec=branding.reply_to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = email.message_id
    # RFC 3834: auto-responders must not answer; no "Precedence: bulk", which some providers penalise.
    msg["Auto-Submitted"] = "auto-generated"
    # Stored raw: folding would split a long signed URL into RFC 2047 encoded words.
    msg.set_raw("List-Unsubscribe", f"<{email.unsubscribe_url}>")
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Quoted-printable keeps both parts 7-bit, so relays never re-encode them and break DKIM body hashes.
    msg.set_content(env.get_template("invitation.txt").render(context), cte="quoted-printable")
    msg.add_alternative(env.get_template("invitation.html").render(context), subtype="html", cte="quoted-printable")
    # After the body: set_content() and add_alternative() move Content-* headers into the parts.
    msg["Content-Language"] = locale
    return msg


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
    )
    env.policies["ext.i18n.trimmed"] = True
    env.globals["font"] = FONT_STACK
    env.filters["plain"] = _plain
    env.install_gettext_translations(translations(LOCALES_DIR, DOMAIN, locale), newstyle=True)  # type: ignore[attr-defined]
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
