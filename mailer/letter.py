"""A shop's short email to one review's author, in the invitations' look: a moderator's decision
(`Notice`: not published and why, with the link to mend and resend it when that is allowed, or the
outcome of their appeal), a moderator's refusal of one of its photos (`PhotoRefused`: which and why,
with the link to replace it) or the shop's public reply (`Reply`, with the author's review link).

Each is a text and an HTML part from one wording (`templates/_notice_copy.html`,
`templates/_photo_copy.html`, `templates/_reply_copy.html`), built by `mailer.message` with RFC 8058
one-click unsubscribe when the caller hands in an unsubscribe link. The caller passes plain data: this
module knows nothing of reviews, decisions, replies, photos or reason codes. Letters are few, so they
are rendered whole rather than through `compose`'s cached frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from babel.support import NullTranslations

from mailer import message
from mailer.compose import Branding
from mailer.headers import one_line
from mailer.rendering import environment, safe_image_url, subject
from mailer.wire import OutgoingMessage

# "rejected": a first decision not to publish; on an appeal, "published" or "upheld" (still rejected).
OUTCOMES = ("rejected", "published", "upheld")


@dataclass(frozen=True)
class Notice:
    """What a moderator decided."""

    template: ClassVar[str] = "notice"
    outcome: str  # one of OUTCOMES
    # The reason's label in English, as the caller's fixed list has it: translated here through the
    # letter's catalog (an unknown label is shown as it is).
    reason: str | None = None
    note: str | None = None  # the moderator's own words, shown as written (escaped in HTML)
    may_appeal: bool = False  # the author has not appealed yet: say how they can

    def subject_args(self, shop: str) -> tuple[str, ...]:
        return (self.outcome, shop)

    def values(self, catalog: NullTranslations) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": catalog.gettext(self.reason) if self.reason else None,
                "note": _lines_as_written(self.note), "may_appeal": self.may_appeal and self.outcome == "rejected"}


@dataclass(frozen=True)
class Reply:
    """The shop's public reply to the review."""

    template: ClassVar[str] = "reply"
    text: str  # the shop's words, shown as written (escaped in HTML)

    def subject_args(self, shop: str) -> tuple[str, ...]:
        return (shop,)

    def values(self, catalog: NullTranslations) -> dict[str, Any]:
        return {"reply": _lines_as_written(self.text) or ""}


@dataclass(frozen=True)
class PhotoRefused:
    """A moderator did not publish one of the review's photos."""

    template: ClassVar[str] = "photo"
    position: int  # which of the review's photos, from 1
    reason: str  # the reason's label in English, translated here as `Notice.reason` is
    caption: str = ""  # the author's own caption, shown as written

    def subject_args(self, shop: str) -> tuple[str, ...]:
        return (shop,)

    def values(self, catalog: NullTranslations) -> dict[str, Any]:
        return {"position": self.position, "reason": catalog.gettext(self.reason),
                "caption": _lines_as_written(self.caption)}


Says = Notice | Reply | PhotoRefused


@dataclass(frozen=True)
class AuthorEmail:
    says: Says  # what the email is about: its template and its words
    to_address: str
    to_name: str | None
    locale: str  # a language the caller chose, and `catalog` speaks
    catalog: NullTranslations
    branding: Branding
    message_id: str
    from_address: str
    product_name: str | None = None  # what was reviewed; None: the shop itself
    review_url: str | None = None  # the author's signed review link; None where it must not be offered
    unsubscribe_url: str | None = None  # GET shows a confirmation page, POST unsubscribes (RFC 8058)
    link_valid_days: int = 30


def compose_letter(letter: AuthorEmail, *, now: datetime | None = None) -> OutgoingMessage:
    """The letter as a multipart/alternative message, ready to sign and send.

    `now` comes from the caller's clock so that the Date header is testable.
    """
    if isinstance(letter.says, Notice) and letter.says.outcome not in OUTCOMES:
        raise ValueError(f"unknown notice outcome {letter.says.outcome!r}")
    message.check_links(letter.review_url)
    wording, text, html_text = render_letter(letter)
    branding = letter.branding
    return message.build(
        from_address=letter.from_address, from_name=branding.sender_name or branding.shop_name,
        reply_to=branding.reply_to, reply_to_name=branding.shop_name, to_address=letter.to_address,
        to_name=letter.to_name, subject=wording, message_id=letter.message_id, locale=letter.locale, text=text,
        html=html_text, unsubscribe_url=letter.unsubscribe_url, now=now)


def render_letter(letter: AuthorEmail) -> tuple[str, str, str]:
    """The subject, the text part and the HTML part."""
    env = environment(letter.catalog)
    branding = letter.branding
    says = letter.says
    shop = one_line(branding.shop_name)
    wording = subject(letter.catalog, f"_{says.template}_copy.html", *says.subject_args(shop))
    values = {
        "locale": letter.locale,
        "shop": shop,
        "name": one_line(letter.to_name or "") or None,
        "product": one_line(letter.product_name or "") or None,
        "review_url": letter.review_url,
        "unsubscribe_url": letter.unsubscribe_url,
        "valid_days": letter.link_valid_days,
        "has_reply_to": bool(branding.reply_to),
        "logo_url": safe_image_url(branding.logo_url),
        "accent": branding.accent_color,
        "on_accent": branding.on_accent,
        "subject": wording,
        **says.values(letter.catalog),
    }
    return (wording, env.get_template(f"{says.template}.txt").render(values),
            env.get_template(f"{says.template}.html").render(values))


def _lines_as_written(text: str | None) -> str | None:
    """Someone's own words (a moderator's note, a shop's reply) line by line, without control
    characters or trailing spaces."""
    if not text:
        return None
    lines = ["".join(c for c in line if c.isprintable()).rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip("\n") or None
