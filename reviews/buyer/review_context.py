"""What the review page at /r/<token> is about: the invitation its link signs, the order and what
the buyer may review in it, their stored reviews and photos, the shop's public replies and the
author's appeals.

Loading renders nothing: a link that leads to no form is a `Refusal`, which the page says in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reviews.collection import appeals, reasons, replies
from reviews.collection import store as reviews
from reviews.collection.appeals import Appeal
from reviews.collection.replies import Reply
from reviews.collection.store import Review
from reviews.intake import orders
from reviews.intake.orders import Order, OrderItem
from reviews.invitations import links
from reviews.invitations import store as invitation_store
from reviews.invitations.store import Invitation
from reviews.media import store as photo_store
from reviews.media.store import Photo
from reviews.merchants import branding
from reviews.merchants.model import Merchant
from reviews.merchants.store import by_id
from reviews.platform import tokens
from reviews.platform.services import Services

SHOP = "shop"  # the form key of the review of the shop itself (stored with product_id NULL)


@dataclass(frozen=True)
class Slot:
    """One thing the buyer may review: a product of the order, or the shop."""

    key: str  # the form fields' suffix: the item's position, or SHOP
    product_id: str | None
    name: str
    image_url: str | None
    saved: Review | None  # the buyer's stored review, if any


@dataclass(frozen=True)
class Context:
    invitation: Invitation
    order: Order
    merchant: Merchant
    slots: list[Slot]
    appeals: dict[int, Appeal]  # by review id
    replies: dict[int, Reply]  # the shop's public replies, by review id
    photos: tuple[Photo, ...] = ()  # every photo sent through the link: staged, or in one of its reviews

    def slot(self, key: str | None) -> Slot | None:
        return next((s for s in self.slots if s.key == key), None)

    def photos_of(self, slot: Slot) -> list[Photo]:
        """The slot's photos: its review's (unless withdrawn), then those staged for it."""
        saved = slot.saved
        attached = [p for p in self.photos if saved is not None and saved.state != "withdrawn"
                     and p.review_id == saved.id]
        return attached + [p for p in self.photos if p.review_id is None and p.product_id == slot.product_id]

    def photo(self, slot: Slot, photo_id: int) -> Photo | None:
        """The photo, if it is this slot's: its review's, or staged for it (even if the form removed it)."""
        saved = slot.saved
        return next((p for p in self.photos if p.id == photo_id and (
            (p.review_id is None and p.product_id == slot.product_id)
            or (saved is not None and p.review_id == saved.id))), None)

    def appeal_of(self, slot: Slot) -> Appeal | None:
        return self.appeals.get(slot.saved.id) if slot.saved else None

    def reply_of(self, slot: Slot) -> Reply | None:
        """The shop's reply to the buyer's review; none once they withdrew it (it is shown nowhere)."""
        saved = slot.saved
        return self.replies.get(saved.id) if saved is not None and saved.state != "withdrawn" else None

    def appealable(self, slot: Slot) -> bool:
        """A rejected review whose author has not appealed yet (an appeal is made once)."""
        return slot.saved is not None and slot.saved.state == "rejected" and self.appeal_of(slot) is None


def locked(slot: Slot) -> bool:
    """Rejected for a reason that does not let its author mend it and send it again (a review that
    is not the buyer's own): shown, not editable, not withdrawable. An unknown (legacy) reason, as
    before reasons had codes, leaves the review editable."""
    saved = slot.saved
    if saved is None or saved.state != "rejected":
        return False
    reason = reasons.reason(saved.reject_reason)
    return reason is not None and not reason.may_resubmit


@dataclass(frozen=True)
class Refusal:
    """Why a link shows no form. The order's and the shop's languages and the shop are known once
    the link led to an order; the page saying so speaks and looks like the shop then."""

    reason: Literal["expired", "invalid", "gone", "cancelled", "refunded", "withdrawn"]
    locales: tuple[str | None, ...] = ()
    merchant: Merchant | None = None


def invitation_id(svc: Services, token: str) -> int:
    """The invitation a review link signs; tokens.TokenExpired or tokens.TokenInvalid when none."""
    try:
        return int(svc.signer.load(tokens.REVIEW, token, links.review_max_age(svc))["i"])
    except (KeyError, TypeError, ValueError):
        raise tokens.TokenInvalid("This link is not valid.") from None


async def load(svc: Services, token: str) -> Context | Refusal:
    try:
        invitation_no = invitation_id(svc, token)
    except tokens.TokenExpired:
        return Refusal("expired")
    except tokens.TokenInvalid:
        return Refusal("invalid")
    async with svc.pool.acquire() as conn:
        invitation = await invitation_store.get(conn, invitation_no)
        order = invitation and await orders.get(conn, invitation.order_id)
        if not invitation or not order:
            return Refusal("gone")
        merchant = await by_id(conn, invitation.merchant_id)
        assert merchant is not None
        locales = (order.locale, merchant.locale)
        if order.status == "cancelled":
            return Refusal("cancelled", locales, merchant)
        if order.status == "refunded":
            return Refusal("refunded", locales, merchant)
        if invitation.state == "cancelled":
            return Refusal("withdrawn", locales, merchant)
        items = await orders.items(conn, order.id)
        rows = await reviews.for_invitation(conn, invitation_no)
        filed = await appeals.of_reviews(conn, [r.id for r in rows if r.state != "withdrawn"])
        replied = await replies.of_reviews(conn, [r.id for r in rows])
        photos = await photo_store.of_invitation(conn, invitation_no)
    return Context(invitation, order, merchant, _slots(merchant, items, rows), filed, replied, tuple(photos))


def _slots(merchant: Merchant, items: list[OrderItem], rows: list[Review]) -> list[Slot]:
    existing = {r.product_id or "": r for r in rows}
    products = [Slot(str(item.position), item.product_id, item.name, branding.web_url(item.image_url),
                     existing.get(item.product_id)) for item in items]
    return [*products, Slot(SHOP, None, merchant.name, None, existing.get(""))]
