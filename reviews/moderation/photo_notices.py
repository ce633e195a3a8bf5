"""The author's email when a moderator refuses one of their photos: the `moderation.photo_notice`
job that `reviews.moderation.photos` queues for each refusal, registered with the worker.

The email (`mailer.letter.PhotoRefused`) says which of the review's photos was not published and
why, in the author's language with the shop's branding, and links to the author's review page to
remove it and add another while that link opens. The author is found as for every email to a
review's author (`reviews.collection.letters`): nothing is sent for an imported review, an erased
buyer or a suppressed address, nor when the photo was approved after all or deleted meanwhile.
Writes no table of its own.
"""

from __future__ import annotations

import logging

from mailer.letter import PhotoRefused
from reviews.collection import letters
from reviews.collection.letters import Letter
from reviews.media import reasons
from reviews.media import store as photo_store
from reviews.moderation.photos import NOTICE_JOB
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.services import Services

log = logging.getLogger("attest.notices")
BATCH_SIZE = 20


async def build(svc: Services, conn: Connection, photo_id: int) -> Letter:
    """The email about this refused photo, or why none is sent."""
    photo = await photo_store.get(conn, photo_id)
    if photo is None or photo.review_id is None:
        return Letter(photo_id, skip="photo_deleted")
    if photo.state != "rejected":
        return Letter(photo_id, skip="superseded")  # approved after all
    reason = reasons.reason(photo.reject_reason)
    review = await conn.fetchrow("SELECT merchant_id, invitation_id, product_name, locale FROM reviews WHERE id = $1",
                                 photo.review_id)
    if review is None or reason is None:
        return Letter(photo_id, skip="review_deleted" if review is None else "unknown_reason")
    author = await letters.author_of(conn, review["merchant_id"], review["invitation_id"], review["locale"])
    if isinstance(author, str):
        return Letter(photo_id, skip=author)
    says = PhotoRefused(photo.position + 1, reason.label, photo.caption)
    return letters.compose(svc, author, says, key=photo.id, kind="photo-notice", product_name=review["product_name"],
                           with_link=author.link_opens)


def tasks(svc: Services, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    return letters.tasks(svc, NOTICE_JOB, build, "photo_id", log=log, what="photo notice", key="photo",
                         batch_size=batch_size)
