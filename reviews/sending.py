"""The worker's mail jobs: render due invitations and reminders, send them, record the outcome.

An invitation is marked sent only after the server accepted the message, in the same
transaction that settles its job, so a crash repeats at most the message in flight.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from email.message import EmailMessage

import asyncpg

from mailer.compose import Branding, EmailProduct, InvitationEmail, compose_invitation
from mailer.transport import PermanentFailure, TemporaryFailure
from reviews import jobs, tokens
from reviews.i18n import negotiate
from reviews.invitations import REMIND_JOB, SEND_JOB
from reviews.merchants import Merchant, by_id
from reviews.services import Services

log = logging.getLogger("attest.sending")
UNSUBSCRIBE_LINK_DAYS = 400


def message_id(svc: Services, kind: str, invitation_id: int) -> str:
    domain = svc.settings.mail_from.rsplit("@", 1)[-1]
    tag = hashlib.sha256(f"{svc.settings.secret_key}:{kind}:{invitation_id}".encode()).hexdigest()[:12]
    return f"<{kind}-{invitation_id}.{tag}@{domain}>"


def review_link(svc: Services, invitation_id: int) -> str:
    return svc.url("/r/" + svc.signer.sign(tokens.REVIEW, {"i": invitation_id}))


def unsubscribe_link(svc: Services, merchant_id: int, address_hash: str) -> str:
    return svc.url("/u/" + svc.signer.sign(tokens.UNSUBSCRIBE, {"m": merchant_id, "h": address_hash}))


async def build_message(svc: Services, conn: asyncpg.Connection | asyncpg.Pool, merchant: Merchant,
                        invitation: asyncpg.Record, order: asyncpg.Record, kind: str) -> EmailMessage:
    items = await conn.fetch("SELECT * FROM order_items WHERE order_id = $1 ORDER BY position", order["id"])
    link = review_link(svc, invitation["id"])
    products = [
        EmailProduct(
            name=item["name"], image_url=item["image_url"],
            star_urls=[f"{link}?p={item['position']}&rating={n}" for n in range(1, 6)],
        )
        for item in items
    ]
    return compose_invitation(InvitationEmail(
        kind=kind,
        to_address=order["buyer_email"],
        to_name=order["buyer_name"],
        locale=negotiate(order["locale"], merchant.locale),
        branding=Branding(
            shop_name=merchant.name,
            sender_name=merchant.setting("sender_name"),
            reply_to=merchant.setting("reply_to"),
            logo_url=merchant.setting("logo_url"),
            accent_color=merchant.setting("accent_color") or "#1f6feb",
        ),
        products=products,
        review_url=link,
        unsubscribe_url=unsubscribe_link(svc, merchant.id, order["buyer_hash"]),
        message_id=message_id(svc, kind, invitation["id"]),
        from_address=svc.settings.mail_from,
        link_valid_days=svc.settings.review_link_days,
    ), now=svc.clock.now())


async def _suppressed(conn: asyncpg.Connection, merchant_id: int, address_hash: str | None) -> bool:
    return bool(address_hash) and bool(await conn.fetchval(
        "SELECT 1 FROM suppressions WHERE address_hash = $2 AND (merchant_id = $1 OR merchant_id IS NULL)",
        merchant_id, address_hash,
    ))


async def _send_batch(svc: Services, batch: jobs.Batch, kind: str) -> None:
    merchants: dict[int, Merchant | None] = {}
    async with svc.transport().session() as session:
        for job in batch.jobs:
            now = svc.clock.now()
            inv_id = job.payload["invitation_id"]
            inv = await svc.pool.fetchrow("SELECT * FROM invitations WHERE id = $1", inv_id)
            state_col = "state" if kind == "invitation" else "reminder_state"
            if inv is None or inv[state_col] != "scheduled":
                await batch.done(job)
                continue
            order = await svc.pool.fetchrow("SELECT * FROM orders WHERE id = $1", inv["order_id"])
            if inv["merchant_id"] not in merchants:
                merchants[inv["merchant_id"]] = await by_id(svc.pool, inv["merchant_id"])
            merchant = merchants[inv["merchant_id"]]
            skip = await _why_not_now(svc, merchant, inv, order, kind)
            if skip:
                async with svc.pool.acquire() as conn, conn.transaction():
                    if kind == "invitation":
                        await conn.execute(
                            "UPDATE invitations SET state = 'skipped', reason = $2, updated_at = $3 WHERE id = $1",
                            inv_id, skip, now,
                        )
                    else:
                        await conn.execute(
                            "UPDATE invitations SET reminder_state = 'skipped', updated_at = $2 WHERE id = $1",
                            inv_id, now,
                        )
                    await batch.done(job, conn)
                continue
            assert merchant is not None
            message = await build_message(svc, svc.pool, merchant, inv, order, kind)
            try:
                await session.send(message)
            except TemporaryFailure as exc:
                if job.attempts >= job.max_attempts:
                    await _record_failure(svc, batch, job, inv_id, kind, f"gave up: {exc}", dead=True)
                else:
                    await batch.failed(job, jobs.Retry(f"temporary: {exc}"))
                continue
            except PermanentFailure as exc:
                async with svc.pool.acquire() as conn, conn.transaction():
                    if exc.recipient_unknown and order["buyer_hash"]:
                        await conn.execute(
                            """INSERT INTO suppressions (merchant_id, address_hash, reason, created_at)
                               VALUES ($1, $2, 'hard_bounce', $3) ON CONFLICT DO NOTHING""",
                            merchant.id, order["buyer_hash"], now,
                        )
                    await _mark_failed(conn, inv_id, kind, f"{exc.code} {exc.message}", now)
                    await batch.done(job, conn)
                continue
            async with svc.pool.acquire() as conn, conn.transaction():
                if kind == "invitation":
                    reminder_days = int(merchant.setting("reminder_days") or 0)
                    remind_at = now + timedelta(days=reminder_days) if reminder_days else None
                    await conn.execute(
                        """UPDATE invitations SET state = 'sent', sent_at = $2, message_id = $3, last_error = NULL,
                               reminder_state = CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE 'scheduled' END,
                               reminder_at = $4, updated_at = $2 WHERE id = $1""",
                        inv_id, now, message["Message-ID"], remind_at,
                    )
                    if remind_at:
                        await jobs.enqueue(conn, REMIND_JOB, {"invitation_id": inv_id}, remind_at,
                                           dedupe_key=f"reminder:{inv_id}")
                else:
                    await conn.execute(
                        "UPDATE invitations SET reminder_state = 'sent', reminded_at = $2, updated_at = $2 "
                        "WHERE id = $1", inv_id, now,
                    )
                await batch.done(job, conn)
            log.info("mail sent", extra={"kind": kind, "invitation": inv_id, "merchant": merchant.slug})


async def _why_not_now(svc: Services, merchant: Merchant | None, inv: asyncpg.Record,
                       order: asyncpg.Record | None, kind: str) -> str | None:
    if merchant is None or order is None:
        return "order_deleted"
    if order["status"] in ("cancelled", "refunded"):
        return f"order_{order['status']}"
    if not order["buyer_email"]:
        return "no_email"
    async with svc.pool.acquire() as conn:
        if await _suppressed(conn, merchant.id, order["buyer_hash"]):
            return "unsubscribed"
        if kind == "reminder" and await conn.fetchval(
            "SELECT 1 FROM reviews WHERE invitation_id = $1", inv["id"]
        ):
            return "already_reviewed"
    return None


async def _mark_failed(conn: asyncpg.Connection, inv_id: int, kind: str, error: str, now: object) -> None:
    if kind == "invitation":
        await conn.execute(
            "UPDATE invitations SET state = 'failed', reason = 'delivery_failed', last_error = $2, updated_at = $3 "
            "WHERE id = $1", inv_id, error[:1000], now,
        )
    else:
        await conn.execute(
            "UPDATE invitations SET reminder_state = 'failed', last_error = $2, updated_at = $3 WHERE id = $1",
            inv_id, error[:1000], now,
        )


async def _record_failure(svc: Services, batch: jobs.Batch, job: jobs.Job, inv_id: int, kind: str,
                          error: str, *, dead: bool) -> None:
    async with svc.pool.acquire() as conn, conn.transaction():
        await _mark_failed(conn, inv_id, kind, error, svc.clock.now())
        await batch.failed(job, jobs.Fail(error) if dead else error, conn)


def tasks(svc: Services, batch_size: int = 50) -> dict[str, jobs.Task]:
    async def send_invitations(batch: jobs.Batch) -> None:
        await _send_batch(svc, batch, "invitation")

    async def send_reminders(batch: jobs.Batch) -> None:
        await _send_batch(svc, batch, "reminder")

    return {SEND_JOB: jobs.Task(send_invitations, batch_size), REMIND_JOB: jobs.Task(send_reminders, batch_size)}
