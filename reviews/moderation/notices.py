"""The author's notice of a moderation decision: the `moderation.notice` job that `decisions.decide`
queues for a rejection and for any decision on an appeal.

The notice goes to the buyer's address on the order behind the review's invitation, in the buyer's
language and with the shop's branding, through the same transport as invitations (the dev outbox or
SMTP). It says what was decided and why: the reason's label, the moderator's note, and, where the
reason allows it, the signed review link to mend the review and send it again, from which a first
rejection may also be appealed once. Nothing is sent (and the job is done) when there is no one to
tell: an imported review has no invitation and so no address, the buyer's data was erased, the
address is suppressed (unsubscribed, hard bounce: `reviews.invitations.suppressions`, exactly as for
invitations), or a later decision on the review superseded this one. Writes no table of its own; a
hard bounce suppresses the address through its owner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mailer.addresses import AddressError
from mailer.compose import DOMAIN, LOCALES_DIR, Branding
from mailer.notice import NoticeEmail, compose_notice
from mailer.transport import PermanentFailure, TemporaryFailure
from mailer.wire import OutgoingMessage
from reviews.collection import appeals, reasons
from reviews.intake import orders
from reviews.invitations import links, suppressions
from reviews.invitations import store as invitations
from reviews.merchants import branding
from reviews.merchants import store as merchants
from reviews.moderation import decisions
from reviews.moderation.decisions import NOTICE_JOB
from reviews.platform import jobs
from reviews.platform.db import Connection
from reviews.platform.i18n import Catalog, negotiate
from reviews.platform.services import Services

log = logging.getLogger("attest.notices")
# The emails' own gettext domain, kept in the mailer package (the reasons' labels are in it too).
MAIL = Catalog(LOCALES_DIR, DOMAIN)
BATCH_SIZE = 20
# An order in one of these states, or a cancelled invitation, has a review link that no longer opens.
_CLOSED_ORDER = ("cancelled", "refunded")


@dataclass(frozen=True)
class Notice:
    """A decision's notice as the worker sends it, or why none is sent."""

    decision_id: int
    message: OutgoingMessage | None = None
    skip: str | None = None  # no_address, suppressed:<reason>, superseded, ...
    merchant_id: int | None = None
    address_hash: str | None = None


async def build(svc: Services, conn: Connection, decision_id: int) -> Notice:
    """The notice of this decision (see the module docstring for when there is none)."""
    decision = await decisions.by_id(conn, decision_id)
    if decision is None:
        return Notice(decision_id, skip="decision_deleted")
    if decision.decision == "publish" and not decision.on_appeal:
        return Notice(decision_id, skip="nothing_to_tell")  # published after a hold: the review simply appears
    history = await decisions.history(conn, decision.review_id)
    if history and history[-1].id != decision.id:
        return Notice(decision_id, skip="superseded")
    review = await conn.fetchrow(
        "SELECT merchant_id, invitation_id, product_name, locale FROM reviews WHERE id = $1", decision.review_id)
    if review is None:
        return Notice(decision_id, skip="review_deleted")
    invitation = await invitations.get(conn, review["invitation_id"]) if review["invitation_id"] else None
    order = await orders.get(conn, invitation.order_id) if invitation else None
    if invitation is None or order is None or not order.buyer_email:
        return Notice(decision_id, skip="no_address")  # imported, or the buyer's data was erased
    merchant = await merchants.by_id(conn, review["merchant_id"])
    if merchant is None:
        return Notice(decision_id, skip="merchant_deleted")
    suppressed = await suppressions.reason_for(conn, merchant.id, order.buyer_hash)
    if suppressed:
        return Notice(decision_id, skip=f"suppressed:{suppressed}")

    rejected = decision.decision == "reject"
    reason = reasons.reason(decision.code) if rejected else None
    outcome = ("upheld" if decision.on_appeal else "rejected") if rejected else "published"
    link_opens = invitation.state != "cancelled" and order.status not in _CLOSED_ORDER
    editable = rejected and link_opens and (reason is None or reason.may_resubmit)
    may_appeal = (outcome == "rejected" and link_opens
                  and await appeals.of_review(conn, decision.review_id) is None)
    locale = negotiate(order.locale, review["locale"], merchant.locale)
    colours = branding.colours(merchant.setting("accent_color"))
    email = NoticeEmail(
        outcome=outcome,
        to_address=order.buyer_email,
        to_name=order.buyer_name,
        locale=locale,
        catalog=MAIL.translations(locale),
        branding=Branding(
            shop_name=merchant.name,
            sender_name=merchant.setting("sender_name"),
            reply_to=merchant.setting("reply_to"),
            logo_url=merchant.setting("logo_url"),
            accent_color=colours.accent,
            on_accent=colours.on_accent,
        ),
        message_id=links.message_id(svc, "notice", decision.id),
        from_address=svc.settings.mail_from,
        product_name=review["product_name"],
        reason=reason.label if reason else (decision.code if rejected else None),
        note=decision.note,
        review_url=links.review_link(svc, invitation.id) if editable else None,
        may_appeal=may_appeal,
        unsubscribe_url=links.unsubscribe_link(svc, merchant.id, order.buyer_hash) if order.buyer_hash else None,
        link_valid_days=svc.settings.review_link_days,
    )
    try:
        message = compose_notice(email, now=svc.clock.now())
    except AddressError:  # stored before addresses were checked as they are now: never sendable
        return Notice(decision_id, skip="invalid_address")
    return Notice(decision_id, message, merchant_id=merchant.id, address_hash=order.buyer_hash)


async def _send_batch(svc: Services, batch: jobs.Batch) -> None:
    async with svc.pool.acquire() as conn:
        ready: list[tuple[jobs.Job, Notice]] = []
        for job in batch.jobs:
            try:
                notice = await build(svc, conn, int(job.payload["decision_id"]))
            except Exception as exc:  # a bug in one notice must not cost the rest of the batch
                log.exception("notice not built", extra={"job": job.id})
                await batch.failed(job, exc, conn)
                continue
            if notice.message is None:
                log.info("notice not sent", extra={"decision": notice.decision_id, "reason": notice.skip})
                await batch.done(job, conn)
            else:
                ready.append((job, notice))
        if not ready:
            return
        async with svc.transport().session() as session:
            for job, notice in ready:
                assert notice.message is not None
                try:
                    await session.send(notice.message)
                except TemporaryFailure as exc:
                    await batch.failed(job, jobs.Retry(f"temporary: {exc}"), conn)
                    continue
                except PermanentFailure as exc:
                    if exc.recipient_unknown and notice.address_hash and notice.merchant_id is not None:
                        await suppressions.add(conn, notice.merchant_id, notice.address_hash, "hard_bounce",
                                               svc.clock.now())
                    log.warning("notice rejected", extra={"decision": notice.decision_id, "reply": str(exc)[:300]})
                    await batch.done(job, conn)
                    continue
                except Exception as exc:  # as a rendering bug: retried, the batch carries on
                    log.exception("notice not sent", extra={"decision": notice.decision_id})
                    await batch.failed(job, jobs.Retry(f"{type(exc).__name__}: {exc}"), conn)
                    continue
                await batch.done(job, conn)
                log.info("notice sent", extra={"decision": notice.decision_id,
                                               "message_id": notice.message.message_id})


def tasks(svc: Services, batch_size: int = BATCH_SIZE) -> dict[str, jobs.Task]:
    async def send_notices(batch: jobs.Batch) -> None:
        await _send_batch(svc, batch)

    return {NOTICE_JOB: jobs.Task(send_notices, batch_size)}
