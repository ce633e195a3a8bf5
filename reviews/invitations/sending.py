"""The worker's mail jobs: render due invitations and reminders, send them, record the outcome.

Crash safety: an invitation is marked sent only after the SMTP server accepted the message, in one
statement that also schedules its reminder, and that statement commits before the next message of
the batch is handed to the server. A worker killed at any point therefore repeats at most the one
message in flight, and never loses one. (The next message's envelope, MAIL and RCPT, goes to the
server while that statement runs: a server accepts nothing before the data.) The jobs of accepted
messages are marked done together when the batch ends; if the worker dies before that, each is
requeued, finds its invitation sent, and is marked done without sending anything.

Throughput: the next message is rendered while the server handles the current one.

Outcomes per message:
- accepted: `sent` (or the reminder `sent`), the reminder scheduled, the job done;
- 4xx or a dropped connection: the job retried with exponential backoff and jitter; after its last
  attempt the invitation is `failed` (reason `retries_exhausted`) and the job dead, visible in
  `attest jobs --dead`. Retrying a dead job sends again: a job that runs for a `failed` invitation
  can only be such a retry, because a permanent failure settles its job as done;
- 5xx: `failed` with the server's reply kept in `last_error`, the job done; a 5xx saying the
  mailbox does not exist also suppresses the address for this merchant (`hard_bounce`).

Everything a batch needs is loaded in a few queries when it starts, so each message costs its SMTP
transaction and one database round trip on its path. The batch acts on the state as loaded: an unsubscribe
arriving while its batch runs (seconds) may still let that one message through.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from mailer import outcome
from mailer.addresses import AddressError
from mailer.compose import Branding, EmailProduct, InvitationEmail, compose_invitation
from mailer.outcome import NEVER, RETRY, SENT, Outcome
from mailer.rendering import DOMAIN, LOCALES_DIR
from mailer.transport import Session
from mailer.wire import OutgoingMessage
from reviews.invitations import links, policy, store, suppressions
from reviews.invitations.policy import OrderFacts
from reviews.invitations.store import REMIND_JOB, SEND_JOB
from reviews.merchants import branding
from reviews.merchants.model import Merchant
from reviews.merchants.store import by_id
from reviews.platform import jobs
from reviews.platform.db import Connection, Executor
from reviews.platform.i18n import Catalog, negotiate
from reviews.platform.services import Services

log = logging.getLogger("attest.sending")
# The emails' own gettext domain, kept in the mailer package.
MAIL = Catalog(LOCALES_DIR, DOMAIN)
# The states a job may act on; `failed` only comes back through an operator's retry of a dead job.
SENDABLE = ("scheduled", "failed")


async def build_message(svc: Services, conn: Executor, merchant: Merchant,
                        invitation: asyncpg.Record, order: asyncpg.Record, kind: store.Kind,
                        items: Sequence[asyncpg.Record] | None = None) -> OutgoingMessage:
    """The invitation or reminder exactly as the worker sends it (items are fetched unless given)."""
    if items is None:
        items = await conn.fetch("SELECT * FROM order_items WHERE order_id = $1 ORDER BY position", order["id"])
    return _compose(svc, merchant, invitation, order, items, kind)


def _compose(svc: Services, merchant: Merchant, invitation: asyncpg.Record, order: asyncpg.Record,
             items: Sequence[asyncpg.Record], kind: store.Kind) -> OutgoingMessage:
    link = links.review_link(svc, invitation["id"])
    products = [
        EmailProduct(
            name=item["name"], image_url=item["image_url"],
            star_urls=[f"{link}?p={item['position']}&rating={n}" for n in range(1, 6)],
        )
        for item in items
    ]
    locale = negotiate(order["locale"], merchant.locale)
    return compose_invitation(InvitationEmail(
        kind=kind,
        to_address=order["buyer_email"],
        to_name=order["buyer_name"],
        locale=locale,
        catalog=MAIL.translations(locale),
        branding=email_branding(merchant),
        products=products,
        review_url=link,
        unsubscribe_url=links.unsubscribe_link(svc, merchant.id, order["buyer_hash"]),
        message_id=links.message_id(svc, kind, invitation["id"]),
        from_address=svc.settings.mail_from,
        link_valid_days=svc.settings.review_link_days,
    ), now=svc.clock.now())


def email_branding(merchant: Merchant) -> Branding:
    """The shop's look and addresses in its emails, from its settings."""
    colours = branding.colours(merchant.setting("accent_color"))
    return Branding(
        shop_name=merchant.name,
        sender_name=merchant.setting("sender_name"),
        reply_to=merchant.setting("reply_to"),
        logo_url=merchant.setting("logo_url"),
        accent_color=colours.accent,
        on_accent=colours.on_accent,
    )


def sample_message(svc: Services, merchant: Merchant, locale: str, kind: store.Kind, *, to_name: str,
                   products: Sequence[tuple[str, str | None]]) -> OutgoingMessage:
    """The invitation or reminder the shop's buyers get in `locale`, for a sample buyer and
    products (name, image): the console's preview. Its links lead nowhere."""
    link = svc.url("/r/preview")
    return compose_invitation(InvitationEmail(
        kind=kind, to_address="buyer@example.com", to_name=to_name, locale=locale,
        catalog=MAIL.translations(locale), branding=email_branding(merchant),
        products=[EmailProduct(name=name, image_url=image, star_urls=[f"{link}?rating={n}" for n in range(1, 6)])
                  for name, image in products],
        review_url=link, unsubscribe_url=svc.url("/u/preview"), message_id=f"<preview-{merchant.id}@attest.invalid>",
        from_address=svc.settings.mail_from, link_valid_days=svc.settings.review_link_days,
    ), now=svc.clock.now())


# --- loading a batch ------------------------------------------------------------------------


@dataclass
class _Loaded:
    """What the batch's jobs refer to, fetched in one go."""

    invitations: dict[int, asyncpg.Record]
    orders: dict[int, asyncpg.Record]
    items: dict[int, list[asyncpg.Record]]
    merchants: dict[int, Merchant | None]
    suppressed: dict[tuple[int | None, str], str]  # (merchant id or None for all, address hash) -> reason
    reviewed: set[int]  # invitations with a review
    facts: dict[int, OrderFacts] = field(default_factory=dict)  # by order id, what the policy reads

    def __post_init__(self) -> None:
        self.facts = {order_id: OrderFacts.from_row(order) for order_id, order in self.orders.items()}

    def suppression(self, merchant_id: int, address_hash: str | None) -> str | None:
        if not address_hash:
            return None
        return self.suppressed.get((None, address_hash)) or self.suppressed.get((merchant_id, address_hash))


async def _load(conn: Connection, invitation_ids: list[int], kind: store.Kind) -> _Loaded:
    invs = await store.rows_by_id(conn, invitation_ids)
    order_ids = [r["order_id"] for r in invs.values()]
    orders = {r["id"]: r for r in await conn.fetch("SELECT * FROM orders WHERE id = ANY($1)", order_ids)}
    items: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for item in await conn.fetch("SELECT * FROM order_items WHERE order_id = ANY($1) ORDER BY order_id, position",
                                 order_ids):
        items[item["order_id"]].append(item)
    hashes = [o["buyer_hash"] for o in orders.values() if o["buyer_hash"]]
    suppressed = await suppressions.for_hashes(conn, hashes)
    reviewed: set[int] = set()
    if kind == "reminder":
        reviewed = {r["invitation_id"] for r in await conn.fetch(
            "SELECT DISTINCT invitation_id FROM reviews WHERE invitation_id = ANY($1)", invitation_ids)}
    merchants = {mid: await by_id(conn, mid) for mid in {r["merchant_id"] for r in invs.values()}}
    return _Loaded(invs, orders, items, merchants, suppressed, reviewed)


def _why_not(loaded: _Loaded, inv: asyncpg.Record, kind: store.Kind, now: datetime) -> str | None:
    """Why this message must not go out now (recorded as the reason), or None."""
    order = loaded.orders.get(inv["order_id"])
    merchant = loaded.merchants.get(inv["merchant_id"])
    if merchant is None or order is None:
        return "order_deleted"
    facts = loaded.facts[order["id"]]
    return policy.skip_reason(kind, merchant, facts, now=now, fulfilled_at=facts.fulfilled_at or facts.delivered_at,
                              suppressed=loaded.suppression(merchant.id, order["buyer_hash"]),
                              reviewed=inv["id"] in loaded.reviewed)


# --- sending a batch ------------------------------------------------------------------------


@dataclass
class _Prepared:
    """One job of the batch, checked and rendered ahead of its turn."""

    job: jobs.Job
    inv: asyncpg.Record | None  # None (or not sendable): nothing to do but settle the job
    now: datetime
    skip: str | None = None
    message: OutgoingMessage | None = None
    error: Exception | None = None  # rendering failed


def _prepare(svc: Services, loaded: _Loaded, job: jobs.Job, kind: store.Kind) -> _Prepared:
    """Everything about a message that needs no I/O: the checks, and rendering it."""
    state_col = "state" if kind == "invitation" else "reminder_state"
    now = svc.clock.now()
    inv = loaded.invitations.get(job.payload["invitation_id"])
    if inv is None or inv[state_col] not in SENDABLE:
        return _Prepared(job, None, now)  # cancelled, skipped or already sent meanwhile
    skip = _why_not(loaded, inv, kind, now)
    if skip:
        return _Prepared(job, inv, now, skip=skip)
    order = loaded.orders[inv["order_id"]]
    merchant = loaded.merchants[inv["merchant_id"]]
    assert merchant is not None
    try:
        message = _compose(svc, merchant, inv, order, loaded.items.get(order["id"], []), kind)
    except AddressError as exc:  # stored before addresses were checked as they are now: never sendable
        log.warning("address cannot be mailed", extra={"kind": kind, "invitation": inv["id"], "error": str(exc)})
        return _Prepared(job, inv, now, skip="invalid_address")
    except Exception as exc:  # a rendering bug in one message must not cost the rest of the batch
        log.exception("mail not built", extra={"kind": kind, "invitation": inv["id"]})
        return _Prepared(job, inv, now, error=exc)
    return _Prepared(job, inv, now, message=message)


async def _send_batch(svc: Services, batch: jobs.Batch, kind: store.Kind) -> None:
    """Sends the batch in order over one session. Message i+1 is rendered while the server handles
    message i; its envelope goes to the server while message i's outcome is recorded, and its data
    only once that record is committed."""
    async with svc.pool.acquire() as conn:
        loaded = await _load(conn, [job.payload["invitation_id"] for job in batch.jobs], kind)
        settling = _Settling(conn)
        recording: asyncio.Future[None] | None = None  # the previous message's outcome, being committed
        try:
            async with svc.transport().session() as session:
                upcoming: _Prepared | None = None
                for n, job in enumerate(batch.jobs):
                    current = upcoming or _prepare(svc, loaded, job, kind)
                    upcoming = None
                    following = batch.jobs[n + 1] if n + 1 < len(batch.jobs) else None
                    if current.message is not None and following is not None:
                        # While the server handles this message, the next one is rendered.
                        sending = asyncio.ensure_future(_attempt(session, current, loaded, kind, recording))
                        await _let_others_run()
                        upcoming = _prepare(svc, loaded, following, kind)
                        sent = await sending
                    else:
                        sent = await _attempt(session, current, loaded, kind, recording)
                    if recording is not None:
                        await recording  # done by now, unless the send never reached DATA; re-raises its error
                    recording = asyncio.ensure_future(
                        _settle(svc, conn, batch, current, loaded, kind, sent, settling))
                    if not _accepted(current, sent):
                        # A bounce may suppress an address the next message goes to: settle it first.
                        await recording
                        recording = None
                if recording is not None:
                    await recording
                    recording = None
        finally:
            if recording is not None:
                await asyncio.wait([recording])  # never left running on a connection going back to the pool
            await settling.flush(batch)


def _accepted(item: _Prepared, sent: Outcome | None) -> bool:
    return item.message is not None and item.error is None and sent is not None and sent.verdict == SENT


async def _let_others_run() -> None:
    await asyncio.sleep(0)  # one turn of the event loop: what arrived meanwhile is handled


class _Settling:
    """The jobs whose message was accepted and recorded: marked done together when the batch ends.
    If the worker dies first, each is requeued, finds its invitation sent, and is marked done
    without sending anything."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._jobs: list[jobs.Job] = []

    def add(self, job: jobs.Job) -> None:
        self._jobs.append(job)

    async def flush(self, batch: jobs.Batch) -> None:
        pending, self._jobs = self._jobs, []
        await batch.done_many(pending, self._conn)


async def _attempt(session: Session, item: _Prepared, loaded: _Loaded, kind: store.Kind,
                   recording: asyncio.Future[None] | None) -> Outcome | None:
    """Sends the prepared message, if it still may go; None when nothing was sent. The data goes
    only after `recording` (the previous message's record) is done."""
    if item.message is None:
        return None
    assert item.inv is not None
    # Checked again: an earlier message of this batch may have bounced for the same address.
    item.skip = _why_not(loaded, item.inv, kind, item.now)
    if item.skip:
        item.message = None
        return None
    sent = await outcome.send(session, item.message, recording)
    if sent.unexpected is not None:  # as a rendering bug: this message is retried, the batch carries on
        log.error("mail not sent", extra={"kind": kind, "invitation": item.inv["id"]}, exc_info=sent.unexpected)
    return sent


async def _settle(svc: Services, conn: Connection, batch: jobs.Batch, item: _Prepared, loaded: _Loaded,
                  kind: store.Kind, sent: Outcome | None, settling: _Settling) -> None:
    """Records the outcome of one job (see the module docstring)."""
    job, inv, now = item.job, item.inv, item.now
    if inv is None:
        await batch.done(job, conn)
        return
    if item.skip:
        async with conn.transaction():
            await store.mark_skipped(conn, inv["id"], kind, item.skip, now)
            await batch.done(job, conn)
        return
    if item.error is not None:
        await _temporary(svc, conn, batch, job, inv["id"], kind, f"{type(item.error).__name__}: {item.error}")
        return
    assert sent is not None  # a message that still may go was sent
    if sent.verdict == RETRY:
        await _temporary(svc, conn, batch, job, inv["id"], kind, sent.error)
        return
    merchant = loaded.merchants[inv["merchant_id"]]
    assert merchant is not None and item.message is not None
    if sent.verdict == NEVER:
        order = loaded.orders[inv["order_id"]]
        async with conn.transaction():
            if sent.recipient_unknown and order["buyer_hash"]:
                await suppressions.add(conn, merchant.id, order["buyer_hash"], "hard_bounce", now)
                loaded.suppressed[(merchant.id, order["buyer_hash"])] = "hard_bounce"
            await store.mark_failed(conn, inv["id"], kind, "rejected", sent.error, now)
            await batch.done(job, conn)
        log.warning("mail rejected", extra={"kind": kind, "invitation": inv["id"], "reply": sent.error[:300]})
        return
    # Accepted: recorded, in one statement, before anything else goes to the server (see the module
    # docstring); the job is marked done with the batch's others when the batch ends.
    if kind == "invitation":
        reminder_days = int(merchant.setting("reminder_days") or 0)
        remind_at = now + timedelta(days=reminder_days) if reminder_days else None
        await store.mark_sent(conn, inv["id"], item.message.message_id, now, remind_at)
    else:
        await store.mark_reminded(conn, inv["id"], now)
    settling.add(job)
    log.info("mail sent", extra={"kind": kind, "invitation": inv["id"], "merchant": merchant.slug})


async def _temporary(svc: Services, conn: Connection, batch: jobs.Batch, job: jobs.Job, inv_id: int,
                     kind: store.Kind, error: str) -> None:
    """Retry later with backoff; after the last attempt, the invitation fails and the job dies."""
    now = svc.clock.now()
    async with conn.transaction():
        if job.attempts >= job.max_attempts:
            await store.mark_failed(conn, inv_id, kind, "retries_exhausted", error, now)
            await batch.failed(job, jobs.Fail(f"gave up after {job.attempts} attempts: {error}"), conn)
        else:
            await store.record_error(conn, inv_id, error, now)
            await batch.failed(job, jobs.Retry(error), conn)


def tasks(svc: Services, batch_size: int = 50) -> dict[str, jobs.Task]:
    async def send_invitations(batch: jobs.Batch) -> None:
        await _send_batch(svc, batch, "invitation")

    async def send_reminders(batch: jobs.Batch) -> None:
        await _send_batch(svc, batch, "reminder")

    return {SEND_JOB: jobs.Task(send_invitations, batch_size), REMIND_JOB: jobs.Task(send_reminders, batch_size)}

