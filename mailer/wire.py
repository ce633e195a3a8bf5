"""How a message becomes bytes: one policy for composing, signing, sending and the outbox, so the
bytes that were DKIM-signed are the bytes that leave."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

# refold_source="none": headers stored raw (List-Unsubscribe, a parsed DKIM-Signature) are written as
# they are. Refolding would turn a long unsubscribe URL into RFC 2047 encoded words, which mail
# clients then cannot use, and could alter signed header lines.
POLICY = policy.SMTP.clone(refold_source="none")
POLICY_UTF8 = policy.SMTPUTF8.clone(refold_source="none")


def needs_smtputf8(msg: EmailMessage) -> bool:
    """Whether an address has a non-ASCII local part or domain (RFC 6531)."""
    for name in ("From", "To", "Cc", "Reply-To"):
        for value in msg.get_all(name, []):
            if any(not a.addr_spec.isascii() for a in getattr(value, "addresses", ())):
                return True
    return False


def wire_policy(msg: EmailMessage) -> policy.EmailPolicy:
    return POLICY_UTF8 if needs_smtputf8(msg) else POLICY


def wire_bytes(msg: EmailMessage) -> bytes:
    """The message exactly as it goes on the wire: CRLF line ends, 7-bit unless SMTPUTF8 is needed."""
    return msg.as_bytes(policy=wire_policy(msg))
