"""Sending mail: over SMTP (one connection per batch) or into a local outbox folder.

The worker decides what to retry; this module only says how a send failed. `TemporaryFailure`
means "try again later" (4xx, dropped or refused connections, timeouts, a misconfigured server);
`PermanentFailure` means this message to this recipient will not be accepted (5xx).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from mailer.dkim import DkimConfig, sign_bytes
from mailer.wire import OutgoingMessage, wire_bytes

log = logging.getLogger("attest.mailer")


class SendError(Exception):
    """Base of the two ways a send can fail."""


class TemporaryFailure(SendError):
    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code} {self.message}" if self.code else self.message


class PermanentFailure(SendError):
    def __init__(self, code: int, message: str, recipient_unknown: bool = False) -> None:
        super().__init__(code, message, recipient_unknown)
        self.code = code
        self.message = message
        self.recipient_unknown = recipient_unknown

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


# Awaited by a send between the envelope (MAIL, RCPT) and the message data: the one point after which
# the server may accept the message. A sender uses it to finish recording the previous message first.
# A coroutine is started when the send starts; a task or future is awaited as it is.
BeforeData = Awaitable[None]


class Session(Protocol):
    async def send(self, msg: EmailMessage | OutgoingMessage, before_data: BeforeData | None = None) -> None: ...


class Transport(Protocol):
    def session(self) -> AbstractAsyncContextManager[Session]: ...

    async def send(self, msg: EmailMessage | OutgoingMessage) -> None: ...

    async def close(self) -> None: ...


def transport_from_settings(smtp_url: str | None, outbox_dir: Path, dkim: DkimConfig | None) -> Transport:
    """SMTP when a server is configured, else the outbox, so a fresh install loses no mail."""
    if smtp_url:
        return SmtpTransport(smtp_url, dkim=dkim)
    return OutboxTransport(outbox_dir, dkim=dkim)


def _prepare(msg: EmailMessage | OutgoingMessage, dkim: DkimConfig | None) -> bytes:
    raw = wire_bytes(msg)
    return sign_bytes(raw, dkim) if dkim else raw


# --- SMTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # implicit TLS (smtps)
    start_tls: bool | None  # True: required, None: when offered, False: never
    validate_certs: bool


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://` (STARTTLS when offered), `smtp+starttls://` (STARTTLS required), `smtps://` (implicit TLS).

    Query flags: `starttls=off` (smtp:// only), `tls_verify=off` (self-signed development servers).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtp+starttls", "smtps"):
        raise ValueError(f"unsupported SMTP URL scheme {parts.scheme!r} (use smtp, smtp+starttls or smtps)")
    if not parts.hostname:
        raise ValueError("SMTP URL has no host")
    query = {k.lower(): v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
    off = ("off", "0", "false", "no")
    start_tls: bool | None
    if scheme == "smtps":
        start_tls = False
    elif scheme == "smtp+starttls":
        start_tls = True
    else:
        start_tls = False if query.get("starttls") in off else None
    default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[scheme]
    return SmtpConfig(
        hostname=parts.hostname,
        port=parts.port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        use_tls=scheme == "smtps",
        start_tls=start_tls,
        validate_certs=query.get("tls_verify") not in off,
    )


# How long a connection may wait between two sessions (a worker's batches) and still be used:
# servers drop idle clients after some time (Postfix after 300 s, some services much sooner).
IDLE_REUSE_SECONDS = 5.0


class SmtpTransport:
    """SMTP sessions over one connection each. A session's connection is kept for the next one
    when that comes within IDLE_REUSE_SECONDS, so a worker working through batches connects, says
    EHLO (and STARTTLS, AUTH) and QUIT once, not once per batch."""

    def __init__(self, url: str, *, dkim: DkimConfig | None = None, timeout: float = 30) -> None:
        self.config = parse_smtp_url(url)
        self.dkim = dkim
        self.timeout = timeout
        self._idle: aiosmtplib.SMTP | None = None
        self._idle_since = 0.0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SmtpSession]:
        session = SmtpSession(self, await self._take_idle())
        try:
            yield session
        finally:
            smtp = session.detach()
            if smtp is not None:
                await self._park(smtp)

    async def close(self) -> None:
        """QUIT the connection kept for the next session, if any."""
        smtp, self._idle = self._idle, None
        if smtp is not None:
            await _quit(smtp)

    async def _take_idle(self) -> aiosmtplib.SMTP | None:
        smtp, self._idle = self._idle, None
        if smtp is None or not smtp.is_connected:
            return None
        if time.monotonic() - self._idle_since > IDLE_REUSE_SECONDS:
            await _quit(smtp)
            return None
        return smtp

    async def _park(self, smtp: aiosmtplib.SMTP) -> None:
        previous, self._idle, self._idle_since = self._idle, smtp, time.monotonic()
        if previous is not None:  # two sessions at once: one connection is enough to keep
            await _quit(previous)

    async def send(self, msg: EmailMessage | OutgoingMessage) -> None:
        async with self.session() as session:
            await session.send(msg)

    def _client(self) -> aiosmtplib.SMTP:
        c = self.config
        tls_context = None
        if not c.validate_certs:
            tls_context = ssl.create_default_context()
            tls_context.check_hostname = False
            tls_context.verify_mode = ssl.CERT_NONE
        return aiosmtplib.SMTP(
            hostname=c.hostname,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.use_tls,
            start_tls=c.start_tls,
            validate_certs=c.validate_certs,
            tls_context=tls_context,
            timeout=self.timeout,
        )


class SmtpSession:
    """One SMTP connection, opened on the first send and reopened after a drop."""

    def __init__(self, transport: SmtpTransport, smtp: aiosmtplib.SMTP | None = None) -> None:
        self._transport = transport
        self._smtp = smtp
        self._lock = asyncio.Lock()  # one transaction at a time on the shared connection

    async def send(self, msg: EmailMessage | OutgoingMessage, before_data: BeforeData | None = None) -> None:
        """One SMTP transaction. `before_data` runs while the envelope (MAIL, RCPT) is with the server,
        and DATA waits for it: the caller's bookkeeping overlaps round trips that cannot lead to an
        acceptance."""
        raw = _prepare(msg, self._transport.dkim)
        sender, recipients = _envelope(msg)
        async with self._lock:
            smtp = await self._connected()
            # Started now, so that it runs while MAIL and RCPT are with the server; awaited by DATA.
            bookkeeping = asyncio.ensure_future(before_data) if before_data is not None else None
            try:
                refused = await _transaction(smtp, sender, recipients, raw, bookkeeping)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                first = exc.recipients[0]
                raise _reply_failure(first.code, first.message) from exc
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                # The connection's state is unknown: drop it so that the next send starts afresh.
                self._discard()
                raise TemporaryFailure(None, f"connection lost: {exc}") from exc
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code == 421 or not smtp.is_connected:  # 421: the server is closing the channel
                    self._discard()
                raise _reply_failure(exc.code, exc.message) from exc
            except aiosmtplib.SMTPNotSupported as exc:
                raise PermanentFailure(553, f"not sent: {exc.message}") from exc
            except ValueError as exc:  # aiosmtplib's address validation
                raise PermanentFailure(553, f"not sent: {exc}") from exc
            except BaseException:
                self._discard()  # cancelled mid-transaction: the connection cannot be trusted
                raise
            finally:
                if bookkeeping is not None:
                    await bookkeeping  # whatever happened to this message, the previous one is recorded first
        if refused:  # only possible with several recipients; the others were accepted
            log.warning("some recipients refused", extra={"refused": {k: str(v) for k, v in refused.items()}})

    async def close(self) -> None:
        smtp = self.detach()
        if smtp is not None:
            await _quit(smtp)

    def detach(self) -> aiosmtplib.SMTP | None:
        """The session's connection, if it is still usable; the session no longer has it."""
        smtp, self._smtp = self._smtp, None
        return smtp if smtp is not None and smtp.is_connected else None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        self._discard()
        smtp = self._transport._client()
        try:
            await smtp.connect()
        except aiosmtplib.SMTPResponseException as exc:
            # Greeting, EHLO, STARTTLS or AUTH refused: a server or configuration problem, not this
            # message's, so it must not fail the message for good.
            raise TemporaryFailure(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise TemporaryFailure(None, f"cannot connect to {self._transport.config.hostname}: {exc}") from exc
        self._smtp = smtp
        return smtp

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


async def _transaction(smtp: aiosmtplib.SMTP, sender: str, recipients: list[str], raw: bytes,
                       before_data: Awaitable[None] | None) -> dict[str, aiosmtplib.SMTPRecipientRefused]:
    """One mail transaction, run as aiosmtplib's `sendmail` runs it, with two differences: DATA waits
    for `before_data`, and the SIZE declared is the length of `raw`, whose line ends are CRLF already
    (`sendmail` normalises a copy of the whole message just to count it). Returns the refused
    recipients when others were accepted."""
    utf8 = not (sender + "".join(recipients)).isascii()
    if utf8 and not smtp.supports_extension("smtputf8"):
        raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
    options = (["SMTPUTF8"] if utf8 else []) + ([f"SIZE={len(raw)}"] if smtp.supports_extension("size") else [])
    encoding = "utf-8" if utf8 else "ascii"
    try:
        await smtp.mail(sender, options=options, encoding=encoding)
        refused: dict[str, aiosmtplib.SMTPRecipientRefused] = {}
        for recipient in recipients:
            try:
                await smtp.rcpt(recipient, encoding=encoding)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused[recipient] = exc
        if len(refused) == len(recipients):
            raise aiosmtplib.SMTPRecipientsRefused(list(refused.values()))
        if before_data is not None:
            await before_data
        await smtp.data(raw)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused, ValueError):
        # The envelope is reset for the connection's next message; a failing reset changes nothing.
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPException):
            await smtp.rset()
        raise
    return refused


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def _envelope(msg: EmailMessage | OutgoingMessage) -> tuple[str, list[str]]:
    if isinstance(msg, OutgoingMessage):  # composed here: its addresses are at hand, already checked
        return msg.sender, msg.recipients
    # Envelope sender = From, so bounces reach the sending domain rather than the merchant.
    senders = _addresses(msg, "From")
    recipients = _addresses(msg, "To", "Cc", "Bcc")
    if not senders or not recipients:
        raise ValueError("message needs a From and at least one recipient")
    return senders[0], recipients


def _addresses(msg: EmailMessage, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for value in msg.get_all(name, []):
            parsed = getattr(value, "addresses", None)  # structured header (email.policy.default and SMTP)
            if parsed is not None:
                found += [a.addr_spec for a in parsed if a.addr_spec]
            else:
                found += [addr for _, addr in getaddresses([str(value)]) if addr]
    return found


_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_UNKNOWN_TEXT = re.compile(
    r"user unknown|unknown user|no such (?:user|mailbox|recipient)|does ?n[o']t exist|mailbox unavailable"
    r"|mailbox not found|unknown (?:recipient|mailbox)|invalid (?:recipient|mailbox)",
    re.IGNORECASE,
)


def recipient_unknown(code: int, message: str) -> bool:
    """Whether a 5xx reply says that the mailbox does not exist (so the address should not be retried)."""
    enhanced = _ENHANCED.match(message)
    if enhanced:
        _class, subject, detail = enhanced.groups()
        if (subject, detail) in (("1", "1"), ("1", "10")):
            return True
        if subject == "7":
            # 5.7.x is policy (spam, blocklists) even when worded "mailbox unavailable".
            return False
    return code in (550, 551, 553) and bool(_UNKNOWN_TEXT.search(message))


def _reply_failure(code: int, message: str) -> SendError:
    if 500 <= code <= 599:
        return PermanentFailure(code, message, recipient_unknown(code, message))
    return TemporaryFailure(code, message)


# --- Outbox -------------------------------------------------------------------------------


class OutboxTransport:
    """Writes each message to `<directory>/<time>-<message-id>.eml`: development and unconfigured installs."""

    def __init__(
        self,
        directory: Path,
        *,
        dkim: DkimConfig | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.dkim = dkim
        self._now = now or (lambda: datetime.now(UTC))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[OutboxSession]:
        yield OutboxSession(self._write)

    async def send(self, msg: EmailMessage | OutgoingMessage) -> None:
        await self._write(msg)

    async def close(self) -> None:
        pass  # nothing held open

    async def _write(self, msg: EmailMessage | OutgoingMessage) -> None:
        raw = _prepare(msg, self.dkim)
        name = _outbox_name(self._now(), str(msg.get("Message-ID", "")))
        try:
            await asyncio.to_thread(_write_atomically, self.directory, name, raw)
        except OSError as exc:
            # A full disk or a read-only folder passes; retrying later is the right answer.
            raise TemporaryFailure(None, f"cannot write to outbox {self.directory}: {exc}") from exc


class OutboxSession:
    def __init__(self, write: Callable[[EmailMessage | OutgoingMessage], Awaitable[None]]) -> None:
        self._write = write

    async def send(self, msg: EmailMessage | OutgoingMessage, before_data: BeforeData | None = None) -> None:
        if before_data is not None:
            await before_data
        await self._write(msg)


def _outbox_name(when: datetime, message_id: str) -> str:
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    safe_id = re.sub(r"[^A-Za-z0-9._-]+", "_", message_id.strip("<> ")).strip("._")[:100] or "no-id"
    # The random suffix means a resent message never overwrites the earlier copy.
    return f"{stamp}-{safe_id}-{secrets.token_hex(3)}.eml"


def _write_atomically(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    # Readers of the outbox only ever see complete files: write aside, then rename.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
