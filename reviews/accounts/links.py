"""One-time sign-in links: signed with their own salt, good for 15 minutes and once (the user's link
nonce moves when one is spent), mailed to the account's address.

The mail is worded in the "accounts" catalog, so that `attest user create` can send it without the
console's pages.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from reviews.accounts.users import User
from reviews.platform import tokens
from reviews.platform.i18n import Catalog
from reviews.platform.services import Services

LINK = "attest.console-link.v1"
LINK_MAX_AGE = 15 * 60
_WORDS = Catalog(Path(__file__).resolve().parent / "locales", "accounts")


def _(locale: str, message: str) -> str:
    return _WORDS.gettext(locale, message)


def sign_in_link(svc: Services, user: User) -> str:
    token = svc.signer.sign(LINK, {"u": user.id, "n": user.link_nonce})
    return f"{svc.settings.base_url}/console/link/{token}"


def load_link(svc: Services, token: str) -> dict[str, int] | None:
    """The link's user id and nonce, or None when it is forged, expired or malformed."""
    try:
        payload = svc.signer.load(LINK, token, LINK_MAX_AGE)
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int) or not isinstance(payload.get("n"), int):
        return None
    return payload


async def mail_link(svc: Services, user: User, locale: str) -> str:
    """Mail the user a sign-in link (through the outbox or SMTP, like every email); returns it."""
    link = sign_in_link(svc, user)
    msg = EmailMessage()
    msg["Message-ID"] = make_msgid(domain=svc.settings.mail_from.rpartition("@")[2] or None)
    msg["Date"] = format_datetime(svc.clock.now())
    msg["From"] = svc.settings.mail_from
    msg["To"] = user.email
    msg["Subject"] = _(locale, "Your sign-in link for Attest")
    text = "\n\n".join([
        _(locale, "Open this link within 15 minutes to sign in to the Attest console:"), link,
        _(locale, "It works once. If you did not ask for it, ignore this email: nobody can sign in without it."),
    ])
    msg.set_content(text + "\n")
    async with svc.transport().session() as session:
        await session.send(msg)
    return link
