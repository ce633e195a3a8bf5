"""The author's email about the shop's public reply: the `reply.notice` job that `replies.save` queues
for a review's first reply (never for an edit).

It goes to the review's author (`reviews.collection.letters`: the buyer on the order behind the
invitation, unless there is none or the address is suppressed) in their language, with the shop's
branding and the author's signed review link, through the invitations' transport. Nothing is sent
(and the job is done) when there is no one to tell or nothing to show, or the review is no longer
published. Writes no table of its own.
"""

from __future__ import annotations

import logging

from mailer.addresses import AddressError
from mailer.reply import ReplyEmail, compose_reply
from reviews.collection import letters, replies
from reviews.collection.letters import Letter
from reviews.collection.replies import NOTICE_JOB
from reviews.invitations import links
from reviews.invitations.sending import MAIL, email_branding
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.services import Services

log = logging.getLogger("attest.reply_notices")
BATCH_SIZE = 20




async def build(svc: Services, conn: Connection, review_id: int) -> Letter:
    """The email about this review's reply (see the module docstring for when there is none)."""
    reply = await replies.of_review(conn, review_id)
    if reply is None:
        return Letter(review_id, skip="no_reply")
    review = await conn.fetchrow(
        "SELECT merchant_id, invitation_id, product_name, locale, state FROM reviews WHERE id = $1", review_id)
    if review is None:
        return Letter(review_id, skip="review_deleted")
    if review["state"] != "published":
        return Letter(review_id, skip="not_published")
    author = await letters.author_of(conn, review["merchant_id"], review["invitation_id"], review["locale"])
    if isinstance(author, str):
        return Letter(review_id, skip=author)
    order, merchant, locale = author.order, author.merchant, author.locale
    email = ReplyEmail(
        to_address=author.address,
        to_name=order.buyer_name,
        locale=locale,
        catalog=MAIL.translations(locale),
        branding=email_branding(merchant),
        message_id=links.message_id(svc, "reply", review_id),
        from_address=svc.settings.mail_from,
        reply=reply.body,
        product_name=review["product_name"],
        review_url=links.review_link(svc, author.invitation.id) if author.link_opens else None,
        unsubscribe_url=links.unsubscribe_link(svc, merchant.id, order.buyer_hash) if order.buyer_hash else None,
        link_valid_days=svc.settings.review_link_days,
    )
    try:
        message = compose_reply(email, now=svc.clock.now())
    except AddressError:  # stored before addresses were checked as they are now: never sendable
        return Letter(review_id, skip="invalid_address")
    return Letter(review_id, message, merchant_id=merchant.id, address_hash=order.buyer_hash)


def tasks(svc: Services, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    async def letter(conn: Connection, job: jobs.Job) -> Letter:
        return await build(svc, conn, int(job.payload["review_id"]))

    async def send_reply_notices(batch: jobs.Batch) -> None:
        await letters.send_batch(svc, batch, letter, log=log, what="reply notice", key="review")

    return {NOTICE_JOB: jobs.Task(send_reply_notices, batch_size)}
