"""The author's notice of a moderation decision: the `moderation.notice` job that `decisions.decide`
queues for a rejection and for any decision on an appeal.

The notice goes to the review's author (`reviews.collection.letters`: the buyer on the order behind
the invitation) in their language and with the shop's branding, through the invitations' transport
(the dev outbox or SMTP). It says what was decided and why: the reason's label, the moderator's note, and, where the
reason allows it, the signed review link to mend the review and send it again, from which a first
rejection may also be appealed once. Nothing is sent (and the job is done) when there is no one to
tell (see `letters.author_of`) or a later decision on the review superseded this one. Writes no
table of its own.
"""

from __future__ import annotations

import logging

from mailer.letter import Notice
from reviews.collection import appeals, letters, reasons
from reviews.collection.letters import Letter
from reviews.moderation import decisions
from reviews.moderation.decisions import NOTICE_JOB
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.services import Services

log = logging.getLogger("attest.notices")
BATCH_SIZE = 20


async def build(svc: Services, conn: Connection, decision_id: int) -> Letter:
    """The notice of this decision (see the module docstring for when there is none)."""
    decision = await decisions.by_id(conn, decision_id)
    if decision is None:
        return Letter(decision_id, skip="decision_deleted")
    if decision.decision == "publish" and not decision.on_appeal:
        return Letter(decision_id, skip="nothing_to_tell")  # published after a hold: the review simply appears
    history = await decisions.history(conn, decision.review_id)
    if history and history[-1].id != decision.id:
        return Letter(decision_id, skip="superseded")
    review = await conn.fetchrow(
        "SELECT merchant_id, invitation_id, product_name, locale FROM reviews WHERE id = $1", decision.review_id)
    if review is None:
        return Letter(decision_id, skip="review_deleted")
    author = await letters.author_of(conn, review["merchant_id"], review["invitation_id"], review["locale"])
    if isinstance(author, str):
        return Letter(decision_id, skip=author)
    rejected = decision.decision == "reject"
    reason = reasons.reason(decision.code) if rejected else None
    outcome = ("upheld" if decision.on_appeal else "rejected") if rejected else "published"
    link_opens = author.link_opens
    editable = rejected and link_opens and (reason is None or reason.may_resubmit)
    may_appeal = (outcome == "rejected" and link_opens
                  and await appeals.of_review(conn, decision.review_id) is None)
    says = Notice(outcome, reason=reason.label if reason else (decision.code if rejected else None),
                  note=decision.note, may_appeal=may_appeal)
    return letters.compose(svc, author, says, key=decision.id, kind="notice", product_name=review["product_name"],
                           with_link=editable)


def tasks(svc: Services, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    return letters.tasks(svc, NOTICE_JOB, build, "decision_id", log=log, what="notice", key="decision",
                         batch_size=batch_size)
