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

from mailer.letter import Reply
from reviews.collection import letters, replies
from reviews.collection.letters import Letter
from reviews.collection.replies import NOTICE_JOB
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
    return letters.compose(svc, author, Reply(reply.body), key=review_id, kind="reply",
                           product_name=review["product_name"], with_link=author.link_opens)


def tasks(svc: Services, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    return letters.tasks(svc, NOTICE_JOB, build, "review_id", log=log, what="reply notice", key="review",
                         batch_size=batch_size)
