"""Sign-in links: mailed in the recipient's language from the accounts' own catalog (so the CLI sends
them without the console), good for 15 minutes, and read back only when their own."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import reviews.accounts
from reviews.accounts import links, manage, users
from reviews.platform import tokens
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES

ACCOUNTS_DIR = Path(reviews.accounts.__file__).resolve().parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _messages() -> set[str]:
    return {m for path in sorted(ACCOUNTS_DIR.rglob("*.py"))
            for _, m, _, _ in extract_from_file("python", str(path), keywords={"_": (2,)})}


@pytest.mark.parametrize("lang", SUPPORTED_LOCALES)
def test_every_catalog_translates_every_accounts_message(lang: str) -> None:
    with (ACCOUNTS_DIR / "locales" / lang / "LC_MESSAGES" / "accounts.po").open("rb") as f:
        catalog = read_po(f, locale=lang, domain="accounts")
    messages = _messages()
    assert "Your sign-in link for Attest" in messages
    assert {m.id for m in catalog if m.id} == messages  # nothing missing, nothing left over
    for msgid in messages:
        text = catalog.get(msgid).string
        assert text and sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), (lang, msgid)
        assert (text == msgid) == (lang == "en"), (lang, msgid)


async def test_an_invitation_is_mailed_in_the_recipients_language_and_lasts_7_days_a_sign_in_link_15_minutes(
        services: Services) -> None:
    user, link = await manage.invite(services, "Owner@Example.com", "moderator", None, actor="test", locale="de",
                                     all_merchants=True)
    [mail] = [email.message_from_bytes(m.read_bytes(), policy=email.policy.default)
              for m in services.settings.outbox_dir.glob("*.eml")]
    assert mail["To"] == "owner@example.com" and mail["Subject"] == "Ihre Einladung zur Attest-Konsole"
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert link in body and "innerhalb von 7 Tagen" in body
    token = link.rsplit("/", 1)[1]
    assert links.load_link(services, token) == {"u": user.id, "n": user.link_nonce}
    other_purpose = services.signer.sign(tokens.CSRF, {"u": user.id, "n": user.link_nonce})
    assert links.load_link(services, other_purpose) is None  # a link has a salt of its own
    services.clock.advance(timedelta(days=6, hours=23))  # type: ignore[attr-defined]
    assert links.load_link(services, token) is not None
    services.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    assert links.load_link(services, token) is None
    # Once the account has a password, a link is for signing in: 15 minutes.
    async with services.pool.acquire() as conn:
        user = await users.set_password(conn, user.id, "correct horse battery staple")
    token = links.sign_in_link(services, user).rsplit("/", 1)[1]
    assert links.load_link(services, token) is not None
    services.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    assert links.load_link(services, token) is None
