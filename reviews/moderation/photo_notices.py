"""The author's email when a moderator refuses one of their photos: the `moderation.photo_notice`
job that `reviews.moderation.photos` queues for each refusal.

The job is ready; the email is not yet. Its words and layout belong to `mailer/` (its one message
builder, being rewritten), so this module gathers what the email says (`PhotoRefusal`: to whom, in
which language, with the shop's branding, which photo of which review, the reason, the link to add
another photo) and hands it to a `Compose` function that mailer will provide
(`compose_photo_refusal`, to be written there). Until that function exists the job kind is not
registered in `reviews.worker`, so refusals queue their notices and nothing is lost: registering
`tasks(svc, <mailer's function>)` sends them all.

The author is found as for every email to a review's author (`reviews.collection.letters`): nothing
is sent for an imported review, an erased buyer or a suppressed address, nor when the photo was
approved after all or deleted meanwhile. Writes no table of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from babel.support import NullTranslations

from mailer.addresses import AddressError
from mailer.compose import Branding
from mailer.wire import OutgoingMessage
from reviews.collection import letters
from reviews.collection.letters import Letter
from reviews.invitations import links
from reviews.invitations.sending import MAIL, email_branding
from reviews.media import reasons
from reviews.media import store as photo_store
from reviews.moderation.photos import NOTICE_JOB
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.services import Services

log = logging.getLogger("attest.notices")
BATCH_SIZE = 20


@dataclass(frozen=True)
class PhotoRefusal:
    """What the email says; plain data, as mailer's builders take it."""

    to_address: str
    to_name: str | None
    locale: str
    catalog: NullTranslations  # the emails' catalog in `locale`
    branding: Branding
    message_id: str
    from_address: str
    product_name: str | None  # the review's product; None: a review of the shop
    position: int  # which of the review's photos, from 1
    caption: str
    reason: str  # the reason's English label (`reviews.media.reasons`), translated through `catalog`
    review_url: str | None  # the signed link to remove it and add another; None when it no longer opens
    unsubscribe_url: str | None
    link_valid_days: int


Compose = Callable[[PhotoRefusal, datetime], OutgoingMessage]


@dataclass(frozen=True)
class Notice:
    email: PhotoRefusal
    merchant_id: int  # whose suppression list a hard bounce goes on
    address_hash: str | None


async def refusal(svc: Services, conn: Connection, photo_id: int) -> Notice | str:
    """What the email about this refused photo says, or why none is sent."""
    photo = await photo_store.get(conn, photo_id)
    if photo is None or photo.review_id is None:
        return "photo_deleted"
    if photo.state != "rejected":
        return "superseded"  # approved after all
    reason = reasons.reason(photo.reject_reason)
    review = await conn.fetchrow("SELECT merchant_id, invitation_id, product_name, locale FROM reviews WHERE id = $1",
                                 photo.review_id)
    if review is None or reason is None:
        return "review_deleted" if review is None else "unknown_reason"
    author = await letters.author_of(conn, review["merchant_id"], review["invitation_id"], review["locale"])
    if isinstance(author, str):
        return author
    order, merchant = author.order, author.merchant
    return Notice(PhotoRefusal(
        to_address=author.address, to_name=order.buyer_name, locale=author.locale,
        catalog=MAIL.translations(author.locale), branding=email_branding(merchant),
        message_id=links.message_id(svc, "photo-notice", photo.id), from_address=svc.settings.mail_from,
        product_name=review["product_name"], position=photo.position + 1, caption=photo.caption,
        reason=reason.label, review_url=links.review_link(svc, author.invitation.id) if author.link_opens else None,
        unsubscribe_url=links.unsubscribe_link(svc, merchant.id, order.buyer_hash) if order.buyer_hash else None,
        link_valid_days=svc.settings.review_link_days), merchant.id, order.buyer_hash)


def tasks(svc: Services, compose: Compose, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    """The notice job, with mailer's builder of the email (see the module docstring)."""

    async def letter(conn: Connection, job: jobs.Job) -> Letter:
        photo_id = int(job.payload["photo_id"])
        found = await refusal(svc, conn, photo_id)
        if isinstance(found, str):
            return Letter(photo_id, skip=found)
        try:
            message = compose(found.email, svc.clock.now())
        except AddressError:  # stored before addresses were checked as they are now: never sendable
            return Letter(photo_id, skip="invalid_address")
        return Letter(photo_id, message, merchant_id=found.merchant_id, address_hash=found.address_hash)

    async def send(batch: jobs.Batch) -> None:
        await letters.send_batch(svc, batch, letter, log=log, what="photo notice", key="photo")

    return {NOTICE_JOB: jobs.Task(send, batch_size)}
