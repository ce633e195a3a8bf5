"""Invitation and reminder emails: a text and an HTML part from the same wording, rendered once per
layout and filled in per email, built into a message by `mailer.message` (with RFC 8058 one-click
unsubscribe)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.support import NullTranslations
from markupsafe import escape

from mailer import message
from mailer.headers import one_line
from mailer.rendering import environment, safe_image_url, subject
from mailer.wire import OutgoingMessage

KINDS = ("invitation", "reminder")


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
        if not all(message.LINK.fullmatch(url) for url in product.star_urls):
            raise ValueError("star links must be http(s) URLs without spaces")
    if not message.LINK.fullmatch(email.review_url):
        raise ValueError("review_url must be an http(s) URL without spaces")
    branding = email.branding
    layout = _Layout(
        locale=email.locale, kind=email.kind, shop=branding.shop_name, named=bool(one_line(email.to_name or "")),
        catalog=email.catalog, logo_url=safe_image_url(branding.logo_url), accent=branding.accent_color,
        on_accent=branding.on_accent,
        valid_days=email.link_valid_days, has_reply_to=bool(branding.reply_to),
        images=tuple(safe_image_url(p.image_url) is not None for p in email.products),
    )
    frame = _frame(layout)
    values = _slot_values(email)
    return message.build(
        from_address=email.from_address, from_name=branding.sender_name or branding.shop_name,
        reply_to=branding.reply_to, reply_to_name=branding.shop_name, to_address=email.to_address,
        to_name=email.to_name, subject=frame.subject, message_id=email.message_id, locale=email.locale,
        text=frame.fill_text(values), html=frame.fill_html(values), unsubscribe_url=email.unsubscribe_url, now=now)


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
    values = [one_line(email.to_name or ""), email.review_url, email.unsubscribe_url]
    for product in email.products:
        values += [one_line(product.name), safe_image_url(product.image_url) or "", *product.star_urls]
    return values


@dataclass(frozen=True)
class _Frame:
    """The rendered templates split at their markers: literal, slot, literal, ..., literal. The HTML
    literals are already as they go out (`message.html_wire`)."""

    subject: str
    text: tuple[str, ...]
    text_slots: tuple[int, ...]
    html: tuple[bytes, ...]
    html_slots: tuple[int, ...]

    def fill_text(self, values: list[str]) -> str:
        return "".join(_interleave(self.text, self.text_slots, values))

    def fill_html(self, values: list[str]) -> bytes:
        # The values hold no line break: escaped and encoded as `html_wire` would, without its replacing.
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
        wording, text, html_text = render_parts(layout, markers)
        text_literals, text_slots = _split(text)
        html_literals, html_slots = _split(html_text)
        frame = _frames[layout] = _Frame(wording, tuple(text_literals), text_slots,
                                         tuple(message.html_wire(literal) for literal in html_literals), html_slots)
    return frame


def render_parts(layout: _Layout, values: list[str]) -> tuple[str, str, str]:
    """The subject, the text part and the HTML part, rendered by the templates with these slot values."""
    env = environment(layout.catalog)
    wording = subject(layout.catalog, "_copy.html", layout.kind, layout.shop)
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
        "subject": wording,
    }
    text = env.get_template("invitation.txt").render(context)
    return wording, text, env.get_template("invitation.html").render(context)
