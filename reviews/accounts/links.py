"""One-time sign-in links: signed with their own salt, good for 15 minutes and once (the user's link
nonce moves when one is spent), mailed to the account's address. An invitation to an account with no
password yet is the same link under a salt of its own, good for 7 days (someone invited to a team
may read the email tomorrow); resending one moves the nonce, so the earlier link stops working.

The mail is worded in the "accounts" catalog, so that `attest user create` can send it without the
console's pages. The console's "email me a link" form never mails inside the request: it queues
`MAIL_JOB` whether or not the address has an account (one insert either way), so the answer's time
says nothing about who has one, and the worker sends it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from mailer import outcome
from mailer.message import service_email
from mailer.outcome import NEVER, SENT, Outcome
from mailer.wire import OutgoingMessage
from reviews.accounts import users
from reviews.accounts.users import User
from reviews.platform import jobs, tokens
from reviews.platform.db import Executor
from reviews.platform.i18n import Catalog, negotiate
from reviews.platform.services import Services

log = logging.getLogger("attest.accounts")
MAIL_JOB = "accounts.mail_link"

LINK = "attest.console-link.v1"
LINK_MAX_AGE = 15 * 60
INVITATION = "attest.console-invitation.v1"
INVITATION_MAX_AGE = 7 * 24 * 3600
_WORDS = Catalog(Path(__file__).resolve().parent / "locales", "accounts")


def _(locale: str, message: str) -> str:
    return _WORDS.gettext(locale, message)


def sign_in_link(svc: Services, user: User) -> str:
    """An invitation link while the account has no password, else a 15-minute sign-in link."""
    salt = LINK if user.has_password else INVITATION
    token = svc.signer.sign(salt, {"u": user.id, "n": user.link_nonce})
    return f"{svc.settings.base_url}/console/link/{token}"


def load_link(svc: Services, token: str) -> dict[str, int] | None:
    """The link's user id and nonce, or None when it is forged, expired or malformed."""
    for salt, max_age in ((LINK, LINK_MAX_AGE), (INVITATION, INVITATION_MAX_AGE)):
        try:
            payload = svc.signer.load(salt, token, max_age)
        except (tokens.TokenInvalid, tokens.TokenExpired):
            continue
        if isinstance(payload, dict) and isinstance(payload.get("u"), int) and isinstance(payload.get("n"), int):
            return payload
    return None


def _message(svc: Services, user: User, locale: str, link: str) -> OutgoingMessage:
    if user.has_password:
        subject = _(locale, "Your sign-in link for Attest")
        lead = _(locale, "Open this link within 15 minutes to sign in to the Attest console:")
    else:
        subject = _(locale, "Your invitation to the Attest console")
        lead = _(locale, "You are invited to the Attest console. Open this link within 7 days to choose your "
                         "password and sign in:")
    text = "\n\n".join([
        lead, link,
        _(locale, "It works once. If you did not ask for it, ignore this email: nobody can sign in without it."),
    ])
    return service_email(from_address=svc.settings.mail_from, to_address=user.email, subject=subject, text=text,
                         locale=locale, now=svc.clock.now())


async def _send(svc: Services, user: User, locale: str) -> tuple[str, Outcome]:
    """The link in the language the user chose for the console, else the one asked for."""
    locale = negotiate(user.locale) if user.locale else locale
    link = sign_in_link(svc, user)
    async with svc.transport().session() as session:
        return link, await outcome.send(session, _message(svc, user, locale, link))


async def mail_link(svc: Services, user: User, locale: str) -> str:
    """Mail the user a sign-in link now (`attest user create`: the operator reads the link on screen
    too, so a mail server's trouble is logged, not fatal); returns the link."""
    link, sent = await _send(svc, user, locale)
    if sent.verdict != SENT:
        log.warning("sign-in link not mailed", extra={"user": user.id, "error": sent.error[:300]},
                    exc_info=sent.unexpected)
    return link


async def queue_mail(conn: Executor, user: User | None, locale: str, now: datetime) -> None:
    """Queue the link's email for the worker; the same single insert for an unknown or disabled account
    (a job that sends nothing), so the time of the answer does not tell them apart."""
    wanted = user is not None and not user.disabled
    await jobs.enqueue(conn, MAIL_JOB, {"user_id": user.id if wanted and user else None,
                                        "locale": negotiate(locale)}, now, max_attempts=5)


async def _mail_job(svc: Services, batch: jobs.Batch) -> None:
    for job in batch.jobs:
        user_id = job.payload.get("user_id")
        user = await users.by_id(svc.pool, int(user_id)) if isinstance(user_id, int) else None
        if user is None or user.disabled:
            await batch.done(job)
            continue
        _link, sent = await _send(svc, user, negotiate(job.payload.get("locale")))
        if sent.verdict == SENT:
            await batch.done(job)
        elif sent.verdict == NEVER:
            log.warning("sign-in link refused by the mail server", extra={"user": user.id, "reply": sent.error[:300]})
            await batch.done(job)
        else:
            log.warning("sign-in link not mailed yet", extra={"user": user.id, "error": sent.error[:300]},
                        exc_info=sent.unexpected)
            await batch.failed(job, jobs.Retry(sent.error))


def tasks(svc: Services) -> dict[str, jobs.Task]:
    async def mail(batch: jobs.Batch) -> None:
        await _mail_job(svc, batch)

    return {MAIL_JOB: jobs.Task(mail)}
