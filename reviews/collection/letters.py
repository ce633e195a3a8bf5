"""What every email to a review's author shares, whatever it says (a moderator's decision, the
shop's reply): who the author is and whether they may be written to, the email itself in the
author's language with the shop's branding and links, and the worker's sending of a batch of such
emails through the invitations' transport.

The author is the buyer on the order behind the review's invitation: an imported review has no
invitation and so no address, an erased buyer has none left, and a suppressed address
(unsubscribed, hard bounce: `reviews.invitations.suppressions`, exactly as for invitations) gets
nothing. A hard bounce suppresses the address through its owner.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mailer import outcome
from mailer.addresses import AddressError
from mailer.letter import AuthorEmail, Says, compose_letter
from mailer.outcome import NEVER, RETRY
from mailer.wire import OutgoingMessage
from reviews.intake import orders
from reviews.intake.orders import Order
from reviews.invitations import links, suppressions
from reviews.invitations import store as invitations
from reviews.invitations.sending import MAIL, email_branding
from reviews.invitations.store import Invitation
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.i18n import negotiate
from reviews.platform.services import Services

# An order in one of these states, or a cancelled invitation, has a review link that no longer opens.
CLOSED_ORDER = ("cancelled", "refunded")


@dataclass(frozen=True)
class Author:
    invitation: Invitation
    order: Order
    merchant: Merchant
    locale: str  # the order's language, else the review's, else the shop's
    link_opens: bool  # the author's review link still opens

    @property
    def address(self) -> str:
        assert self.order.buyer_email is not None  # `author_of` returns no Author without one
        return self.order.buyer_email


async def author_of(conn: Connection, merchant_id: int, invitation_id: int | None,
                    review_locale: str | None) -> Author | str:
    """The review's author to write to, or why there is none (no_address, suppressed:<reason>, ...)."""
    invitation = await invitations.get(conn, invitation_id) if invitation_id else None
    order = await orders.get(conn, invitation.order_id) if invitation else None
    if invitation is None or order is None or not order.buyer_email:
        return "no_address"  # imported, or the buyer's data was erased
    merchant = await merchants.by_id(conn, merchant_id)
    if merchant is None:
        return "merchant_deleted"
    suppressed = await suppressions.reason_for(conn, merchant.id, order.buyer_hash)
    if suppressed:
        return f"suppressed:{suppressed}"
    return Author(invitation, order, merchant, negotiate(order.locale, review_locale, merchant.locale),
                  invitation.state != "cancelled" and order.status not in CLOSED_ORDER)


@dataclass(frozen=True)
class Letter:
    """One job's email as the worker sends it, or why none is sent."""

    key: int  # what the job is about (a decision, a review), named in the logs
    message: OutgoingMessage | None = None
    skip: str | None = None
    merchant_id: int | None = None
    address_hash: str | None = None


Build = Callable[[Connection, jobs.Job], Awaitable[Letter]]


def compose(svc: Services, author: Author, says: Says, *, key: int, kind: str, product_name: str | None,
            with_link: bool) -> Letter:
    """The author's email saying `says` about `key` (`kind` and `key` make its Message-ID), with
    their review link when `with_link`, in their language and the shop's branding."""
    order, merchant, locale = author.order, author.merchant, author.locale
    email = AuthorEmail(
        says=says,
        to_address=author.address,
        to_name=order.buyer_name,
        locale=locale,
        catalog=MAIL.translations(locale),
        branding=email_branding(merchant),
        message_id=links.message_id(svc, kind, key),
        from_address=svc.settings.mail_from,
        product_name=product_name,
        review_url=links.review_link(svc, author.invitation.id) if with_link else None,
        unsubscribe_url=links.unsubscribe_link(svc, merchant.id, order.buyer_hash) if order.buyer_hash else None,
        link_valid_days=svc.settings.review_link_days,
    )
    try:
        message = compose_letter(email, now=svc.clock.now())
    except AddressError:  # stored before addresses were checked as they are now: never sendable
        return Letter(key, skip="invalid_address")
    return Letter(key, message, merchant_id=merchant.id, address_hash=order.buyer_hash)


async def send_batch(svc: Services, batch: jobs.Batch, build: Build, *, log: logging.Logger, what: str,
                     key: str) -> None:
    """Build each job's letter, then send them over one session. A temporary failure is retried,
    a permanent one ends the job (an unknown recipient is suppressed), a bug in one letter costs
    only that one. `what` names the letters in the logs, `key` what a letter's key is."""
    async with svc.pool.acquire() as conn:
        ready: list[tuple[jobs.Job, Letter]] = []
        for job in batch.jobs:
            try:
                letter = await build(conn, job)
            except Exception as exc:  # a bug in one letter must not cost the rest of the batch
                log.exception(f"{what} not built", extra={"job": job.id})
                await batch.failed(job, exc, conn)
                continue
            if letter.message is None:
                log.info(f"{what} not sent", extra={key: letter.key, "reason": letter.skip})
                await batch.done(job, conn)
            else:
                ready.append((job, letter))
        if not ready:
            return
        async with svc.transport().session() as session:
            for job, letter in ready:
                assert letter.message is not None
                sent = await outcome.send(session, letter.message)
                if sent.unexpected is not None:  # as a rendering bug: retried, the batch carries on
                    log.error(f"{what} not sent", extra={key: letter.key}, exc_info=sent.unexpected)
                if sent.verdict == RETRY:
                    await batch.failed(job, jobs.Retry(sent.error), conn)
                    continue
                if sent.verdict == NEVER:
                    if sent.recipient_unknown and letter.address_hash and letter.merchant_id is not None:
                        await suppressions.add(conn, letter.merchant_id, letter.address_hash, "hard_bounce",
                                               svc.clock.now())
                    log.warning(f"{what} rejected", extra={key: letter.key, "reply": sent.error[:300]})
                    await batch.done(job, conn)
                    continue
                await batch.done(job, conn)
                log.info(f"{what} sent", extra={key: letter.key, "message_id": letter.message.message_id})


def tasks(svc: Services, job_kind: str, build: Callable[[Services, Connection, int], Awaitable[Letter]],
          payload_key: str, *, log: logging.Logger, what: str, key: str, batch_size: int) -> dict[str, jobs.Task]:
    """The job kind `job_kind`, sending letters that `build` makes from the id in each job's
    `payload_key`."""
    async def letter(conn: Connection, job: jobs.Job) -> Letter:
        return await build(svc, conn, int(job.payload[payload_key]))

    async def send(batch: jobs.Batch) -> None:
        await send_batch(svc, batch, letter, log=log, what=what, key=key)

    return {job_kind: jobs.Task(send, batch_size)}
