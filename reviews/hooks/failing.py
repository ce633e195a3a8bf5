"""The `webhooks.failing` job: an endpoint ran out of retries (`endpoints.mark_failing`), so its
shop's owners are emailed, once until it works again, in their language (`mailer.failing`), with the
link to its delivery log. Nothing is sent when it works again by then, is gone, or the shop has no
owner to tell.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from mailer import outcome
from mailer.addresses import AddressError
from mailer.failing import FailingEndpointEmail, compose_failing
from mailer.outcome import NEVER, RETRY, Outcome
from mailer.rendering import DOMAIN, LOCALES_DIR
from mailer.wire import OutgoingMessage
from reviews.platform import jobs
from reviews.platform.db import Executor
from reviews.platform.i18n import Catalog, negotiate
from reviews.platform.services import Services

log = logging.getLogger("attest.webhooks")
MAIL = Catalog(LOCALES_DIR, DOMAIN)


@dataclass(frozen=True)
class Owner:
    email: str
    locale: str | None


@dataclass(frozen=True)
class FailingNotice:
    """What the failing endpoint's email says, and to whom."""

    merchant_id: int
    merchant_slug: str
    merchant_name: str
    merchant_locale: str
    endpoint_id: int
    url: str
    failing_since: datetime
    last_status: int | None
    last_error: str | None
    owners: list[Owner]


async def failing_notice(conn: Executor, endpoint_id: int) -> FailingNotice | None:
    """The notice of a failing endpoint, or None when it works again (or is gone)."""
    row = await conn.fetchrow(
        """SELECT e.id, e.url, e.failing_since, e.state, m.id AS merchant_id, m.slug, m.name, m.locale
           FROM webhook_endpoints e JOIN merchants m ON m.id = e.merchant_id WHERE e.id = $1""", endpoint_id)
    if row is None or row["state"] != "failing" or row["failing_since"] is None:
        return None
    last = await conn.fetchrow(
        """SELECT last_status, last_error FROM webhook_deliveries WHERE endpoint_id = $1 AND last_attempt_at IS NOT NULL
           ORDER BY last_attempt_at DESC, id DESC LIMIT 1""", endpoint_id)
    # The shop's owners, read from the accounts (memberships are written by reviews.accounts.users).
    owners = await conn.fetch(
        """SELECT u.email, u.locale FROM memberships s JOIN users u ON u.id = s.user_id
           WHERE s.merchant_id = $1 AND s.role = 'owner' AND u.disabled_at IS NULL ORDER BY u.email""",
        row["merchant_id"])
    return FailingNotice(row["merchant_id"], row["slug"], row["name"], row["locale"], row["id"], row["url"],
                         row["failing_since"], last["last_status"] if last else None,
                         last["last_error"] if last else None, [Owner(o["email"], o["locale"]) for o in owners])


def _email(svc: Services, notice: FailingNotice, owner: Owner) -> OutgoingMessage:
    """The email to one owner, in their language (else the shop's)."""
    locale = negotiate(owner.locale, notice.merchant_locale)
    return compose_failing(FailingEndpointEmail(
        to_address=owner.email, locale=locale, catalog=MAIL.translations(locale),
        from_address=svc.settings.mail_from, shop_name=notice.merchant_name, url=notice.url,
        last_status=notice.last_status, last_error=notice.last_error,
        log_url=svc.url(f"/console/m/{notice.merchant_slug}/developers/webhooks/{notice.endpoint_id}"),
    ), now=svc.clock.now())


async def notify(svc: Services, batch: jobs.Batch) -> None:
    async with svc.pool.acquire() as conn:
        for job in batch.jobs:
            notice = await failing_notice(conn, int(job.payload["endpoint_id"]))
            if notice is None or not notice.owners:
                await batch.done(job, conn)  # it works again, it is gone, or the shop has no owner to tell
                continue
            later = await _tell(svc, notice)
            if later is not None:  # the mail server's trouble: the job tries again later
                log.warning("webhook failing notice not sent", extra={"endpoint": notice.endpoint_id,
                                                                      "error": later.error[:300]},
                            exc_info=later.unexpected)
                await batch.failed(job, jobs.Retry(later.error), conn)
                continue
            await batch.done(job, conn)


async def _tell(svc: Services, notice: FailingNotice) -> Outcome | None:
    """Email each owner over one session; the outcome to try again on, if the mail server could not
    take one now. An owner who can never be mailed is passed over."""
    async with svc.transport().session() as session:
        for owner in notice.owners:
            try:
                message = _email(svc, notice, owner)
            except AddressError as exc:
                log.warning("webhook failing notice not sent", extra={"endpoint": notice.endpoint_id,
                                                                      "error": f"address: {exc}"[:300]})
                continue
            sent = await outcome.send(session, message)
            if sent.verdict == RETRY:
                return sent
            if sent.verdict == NEVER:
                log.warning("webhook failing notice rejected", extra={"endpoint": notice.endpoint_id,
                                                                      "reply": sent.error[:300]})
    return None
