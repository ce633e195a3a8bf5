"""How a message becomes bytes: one policy for composing, signing, sending and the outbox, so the
bytes that were DKIM-signed are the bytes that leave.

Composed mail is an `OutgoingMessage`: its final bytes, built once, plus what the transports need
without parsing them again (the envelope, the Message-ID, whether SMTPUTF8 is required). Anything
else about it is read from those same bytes, parsed on demand (`as_email()`), so a check of a header
or a part is a check of what actually goes out.
"""

from __future__ import annotations

import email
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from functools import cached_property
from typing import Any

# refold_source="none": headers stored raw (List-Unsubscribe, a parsed DKIM-Signature) are written as
# they are. Refolding would turn a long unsubscribe URL into RFC 2047 encoded words, which mail
# clients then cannot use, and could alter signed header lines.
POLICY = policy.SMTP.clone(refold_source="none")
POLICY_UTF8 = policy.SMTPUTF8.clone(refold_source="none")

_ADDRESS_HEADERS = ("from", "to", "cc", "bcc", "reply-to")


class AddressHeader(str):
    """An address header's value as text ("Name <addr>"), with its mailboxes in `.addresses`, like
    the header objects of `email.headerregistry`."""

    addresses: tuple[Address, ...]

    def __new__(cls, addresses: Sequence[Address]) -> AddressHeader:
        self = super().__new__(cls, ", ".join(str(a) for a in addresses))
        self.addresses = tuple(addresses)
        return self


@dataclass(frozen=True, eq=False)
class OutgoingMessage:
    """A composed message: `raw` is exactly what is signed and sent (CRLF line ends, 7-bit unless
    `smtputf8`). Read-only; header and part lookups parse `raw`, except the address headers and the
    Message-ID, which are kept as composed."""

    message_id: str
    raw: bytes
    addresses: dict[str, tuple[Address, ...]]  # lower-case header name -> its mailboxes
    smtputf8: bool = False  # an address needs RFC 6531 (non-ASCII domain); the headers are then UTF-8

    @property
    def sender(self) -> str:
        """The envelope sender: the From address, so bounces reach the sending domain."""
        return self.addresses["from"][0].addr_spec

    @property
    def recipients(self) -> list[str]:
        return [a.addr_spec for name in ("to", "cc", "bcc") for a in self.addresses.get(name, ())]

    def as_bytes(self, policy: Any = None) -> bytes:  # the bytes are final: no policy changes them
        return self.raw

    def __bytes__(self) -> bytes:
        return self.raw

    def as_email(self) -> EmailMessage:
        """The bytes parsed back (`policy.default`): for reading parts and headers, not for sending."""
        return self._parsed

    @cached_property
    def _parsed(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    # The read-only part of the `EmailMessage` API that callers and the transports use.

    def get_all(self, name: str, failobj: Any = None) -> Any:
        key = name.lower()
        if key in _ADDRESS_HEADERS:
            found = self.addresses.get(key)
            return [AddressHeader(found)] if found else failobj
        if key == "message-id":
            return [self.message_id]
        return self.as_email().get_all(name, failobj)

    def get(self, name: str, failobj: Any = None) -> Any:
        values = self.get_all(name)
        return values[0] if values else failobj

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return self.get_all(name) is not None

    def get_content_type(self) -> str:
        return self.as_email().get_content_type()

    def get_body(self, preferencelist: Sequence[str] = ("related", "html", "plain")) -> EmailMessage | None:
        body = self.as_email().get_body(preferencelist)
        assert body is None or isinstance(body, EmailMessage)
        return body

    def iter_parts(self) -> Any:
        return self.as_email().iter_parts()


def needs_smtputf8(msg: EmailMessage | OutgoingMessage) -> bool:
    """Whether an address has a non-ASCII local part or domain (RFC 6531)."""
    if isinstance(msg, OutgoingMessage):
        return msg.smtputf8
    for name in ("From", "To", "Cc", "Reply-To"):
        for value in msg.get_all(name, []):
            if any(not a.addr_spec.isascii() for a in getattr(value, "addresses", ())):
                return True
    return False


def wire_policy(msg: EmailMessage | OutgoingMessage) -> policy.EmailPolicy[EmailMessage]:
    return POLICY_UTF8 if needs_smtputf8(msg) else POLICY


def wire_bytes(msg: EmailMessage | OutgoingMessage) -> bytes:
    """The message exactly as it goes on the wire: CRLF line ends, 7-bit unless SMTPUTF8 is needed."""
    if isinstance(msg, OutgoingMessage):
        return msg.raw
    return msg.as_bytes(policy=wire_policy(msg))
