"""The weekly digest: an owner who asks for it on the shop's Insights page gets, every Monday, the
last week's new published reviews and their average and the topics whose share of 1-2★ mentions
rose (`trends`), in their language, by the `insights.digest` job (one per owner and shop, which
queues itself for the next Monday). Each digest carries a signed one-click stop link (RFC 8058) as
well as the way back to the page. The only writer of `digest_subscriptions`.

Never twice for one week: a run first claims the week in its own transaction, then sends, then
records it sent. A later run that finds the week claimed but not sent follows one that stopped
while sending (perhaps after the server took the message), and sends nothing for that week. A
refusal the server says is temporary gives the claim back, and the job is retried.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_date

from mailer import outcome
from mailer.digest import DigestEmail, DigestTopic, compose_digest
from mailer.outcome import NEVER, RETRY
from mailer.rendering import DOMAIN, LOCALES_DIR
from mailer.wire import OutgoingMessage
from reviews.insights import trends
from reviews.platform import jobs, tokens
from reviews.platform.db import Connection, Executor
from reviews.platform.i18n import Catalog, babel_locale, negotiate
from reviews.platform.services import Services

log = logging.getLogger("attest.insights")
DIGEST_JOB = "insights.digest"
SEND_AT = time(7, 0)  # on Mondays, UTC
MAX_TOPICS = 5
MAIL = Catalog(LOCALES_DIR, DOMAIN)
# The one-click stop link in each digest (RFC 8058): signed for the owner and the shop, valid long
# enough for an old email's link to still work.
STOP = "attest.digest-stop.v1"
STOP_MAX_AGE = 400 * 86400


def week_of(now: datetime) -> date:
    """The Monday of the last whole week before `now` (the week a digest sent now tells of)."""
    return now.astimezone(UTC).date() - timedelta(days=now.astimezone(UTC).weekday() + 7)


def next_run(now: datetime) -> datetime:
    """The next Monday at SEND_AT, after `now`."""
    monday = week_of(now) + timedelta(days=14)
    return datetime.combine(monday, SEND_AT, tzinfo=UTC)


def _key(user_id: int, merchant_id: int) -> str:
    return f"{user_id}:{merchant_id}"


async def subscribed(conn: Executor, user_id: int, merchant_id: int) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM digest_subscriptions WHERE user_id = $1 AND merchant_id = $2)",
        user_id, merchant_id))


async def subscribe(conn: Connection, user_id: int, merchant_id: int, now: datetime) -> None:
    """Ask for the digest (again: nothing changes), the first one next Monday."""
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO digest_subscriptions (user_id, merchant_id, created_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""", user_id, merchant_id, now)
        await jobs.enqueue(conn, DIGEST_JOB, {"user_id": user_id, "merchant_id": merchant_id}, next_run(now),
                           dedupe_key=_key(user_id, merchant_id))


async def unsubscribe(conn: Connection, user_id: int, merchant_id: int) -> None:
    async with conn.transaction():
        await conn.execute("DELETE FROM digest_subscriptions WHERE user_id = $1 AND merchant_id = $2",
                           user_id, merchant_id)
        await jobs.drop_waiting(conn, DIGEST_JOB, [_key(user_id, merchant_id)])


def stop_link(svc: Services, user_id: int, merchant_id: int) -> str:
    return svc.url("/console/digest/stop/" + svc.signer.sign(STOP, {"u": user_id, "m": merchant_id}))


def read_stop(svc: Services, token: str) -> tuple[int, int] | None:
    """The owner and the shop a stop link is for; None when it is not one of ours or too old."""
    try:
        payload = svc.signer.load(STOP, token, STOP_MAX_AGE)
        return int(payload["u"]), int(payload["m"])
    except (tokens.TokenInvalid, tokens.TokenExpired, KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str
    slug: str
    shop: str


async def _claim(conn: Connection, user_id: int, merchant_id: int, week: date) -> Recipient | str:
    """Claim this week's digest for the owner, or say why none is sent."""
    row = await conn.fetchrow(
        """SELECT d.claimed_week, d.sent_week, u.email, u.locale, u.disabled_at, m.slug, m.name,
                  m.locale AS shop_locale,
                  (u.role = 'operator' OR EXISTS (SELECT 1 FROM memberships s WHERE s.user_id = u.id
                                                  AND s.merchant_id = m.id AND s.role = 'owner')) AS owner
           FROM digest_subscriptions d JOIN users u ON u.id = d.user_id JOIN merchants m ON m.id = d.merchant_id
           WHERE d.user_id = $1 AND d.merchant_id = $2 FOR UPDATE OF d""", user_id, merchant_id)
    if row is None:
        return "not_subscribed"
    if not row["owner"] or row["disabled_at"] is not None:  # an owner no more: the digest ends with the role
        await conn.execute("DELETE FROM digest_subscriptions WHERE user_id = $1 AND merchant_id = $2",
                           user_id, merchant_id)
        return "not_an_owner"
    if row["sent_week"] is not None and row["sent_week"] >= week:
        return "sent_already"
    if row["claimed_week"] is not None and row["claimed_week"] >= week:
        return "stopped_while_sending"
    await conn.execute("UPDATE digest_subscriptions SET claimed_week = $3 WHERE user_id = $1 AND merchant_id = $2",
                       user_id, merchant_id, week)
    return Recipient(row["email"], negotiate(row["locale"], row["shop_locale"]), row["slug"], row["name"])


async def _settle(conn: Connection, user_id: int, merchant_id: int, week: date, sent: bool) -> None:
    """The week sent (or refused for good), or its claim given back for a retry."""
    if sent:
        await conn.execute("UPDATE digest_subscriptions SET sent_week = $3 WHERE user_id = $1 AND merchant_id = $2",
                           user_id, merchant_id, week)
    else:
        await conn.execute("""UPDATE digest_subscriptions SET claimed_week = NULL
                              WHERE user_id = $1 AND merchant_id = $2 AND claimed_week = $3""",
                           user_id, merchant_id, week)


async def _new_reviews(conn: Executor, merchant_id: int, since: datetime, until: datetime) -> tuple[int, float | None]:
    row = await conn.fetchrow(
        """SELECT count(*) AS n, avg(rating)::float AS average FROM reviews
           WHERE merchant_id = $1 AND state = 'published' AND published_at >= $2 AND published_at < $3""",
        merchant_id, since, until)
    assert row is not None  # an aggregate has its row
    return int(row["n"]), row["average"]


def _message_id(svc: Services, user_id: int, merchant_id: int, week: date) -> str:
    """The same for one owner, shop and week: a copy that got out twice could be told apart."""
    domain = svc.settings.mail_from.rsplit("@", 1)[-1]
    tag = hashlib.sha256(f"{svc.settings.secret_key}:digest:{user_id}:{merchant_id}:{week}".encode()).hexdigest()
    return f"<digest-{merchant_id}-{user_id}-{week:%Y%m%d}.{tag[:12]}@{domain}>"


async def compose(svc: Services, user_id: int, merchant_id: int, to: Recipient, week: date) -> OutgoingMessage:
    """The digest of `week` for this owner, in their language."""
    start = datetime.combine(week, time(0), tzinfo=UTC)
    count, average = await _new_reviews(svc.pool, merchant_id, start, start + timedelta(days=7))
    now = svc.clock.now()
    base = f"/console/m/{to.slug}/insights"
    rising = [t for t in await trends.read(svc.pool, merchant_id, now, to.locale) if t.rising][:MAX_TOPICS]
    return compose_digest(DigestEmail(
        to_address=to.email, locale=to.locale,
        catalog=MAIL.translations(to.locale), from_address=svc.settings.mail_from,
        message_id=_message_id(svc, user_id, merchant_id, week), shop_name=to.shop,
        week_start=format_date(week, "long", locale=babel_locale(to.locale)), new_reviews=count, average=average,
        rising=[DigestTopic(t.label, t.product_name or t.product_id if t.product_id is not None else None,
                            t.recent.low, t.recent.total, t.before.low, t.before.total,
                            svc.url(f"{base}/topics/{t.topic_id}")) for t in rising],
        insights_url=svc.url(base), stop_url=stop_link(svc, user_id, merchant_id)), now=now)


def tasks(svc: Services) -> dict[str, jobs.Task]:
    async def handler(batch: jobs.Batch) -> None:
        for job in batch.jobs:
            user_id, merchant_id = int(job.payload["user_id"]), int(job.payload["merchant_id"])
            week = week_of(svc.clock.now())
            async with svc.pool.acquire() as conn:
                async with conn.transaction():
                    to = await _claim(conn, user_id, merchant_id, week)
                if isinstance(to, str):
                    log.info("digest not sent", extra={"user": user_id, "merchant": merchant_id, "reason": to})
                    async with conn.transaction():
                        await batch.done(job, conn)
                        if to != "not_subscribed" and to != "not_an_owner":
                            await _next(conn, user_id, merchant_id)
                    continue
                message = await compose(svc, user_id, merchant_id, to, week)
                async with svc.transport().session() as session:
                    sent = await outcome.send(session, message)
                async with conn.transaction():
                    if sent.verdict == RETRY:
                        await _settle(conn, user_id, merchant_id, week, sent=False)
                        await batch.failed(job, jobs.Retry(sent.error), conn)
                        continue
                    await _settle(conn, user_id, merchant_id, week, sent=True)
                    await batch.done(job, conn)
                    await _next(conn, user_id, merchant_id)
                level = logging.WARNING if sent.verdict == NEVER else logging.INFO
                log.log(level, "digest sent" if sent.verdict != NEVER else "digest refused",
                        extra={"user": user_id, "merchant": merchant_id, "week": str(week)})

    async def _next(conn: Connection, user_id: int, merchant_id: int) -> None:
        await jobs.enqueue(conn, DIGEST_JOB, {"user_id": user_id, "merchant_id": merchant_id},
                           next_run(svc.clock.now()), dedupe_key=_key(user_id, merchant_id))

    return {DIGEST_JOB: jobs.Task(handler, 10)}
