"""DKIM signing (RFC 6376) with dkimpy, relaxed/relaxed so that relays refolding headers or
trailing whitespace do not invalidate the signature."""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import dkim

from mailer.wire import wire_bytes, wire_policy

# Oversigned (each listed once more than it occurs): a header added after signing, such as a
# second From or Subject, then breaks the signature instead of slipping past it.
SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
ALSO_SIGNED = ("MIME-Version", "Content-Type", "Content-Language", "Auto-Submitted")


@dataclass(frozen=True)
class DkimConfig:
    selector: str
    domain: str
    private_key_pem: bytes  # RSA, PKCS#1 or PKCS#8 PEM


def load_dkim_config(selector: str | None, domain: str | None, key_file: Path | None) -> DkimConfig | None:
    """The DKIM configuration from settings, or None when signing is not fully configured."""
    if not (selector and domain and key_file):
        return None
    return DkimConfig(selector=selector, domain=domain, private_key_pem=key_file.read_bytes())


def sign_bytes(raw: bytes, config: DkimConfig) -> bytes:
    """`raw` with a DKIM-Signature header prepended."""
    present = {name.lower() for name in _header_names(raw)}
    include = [h for h in SIGNED_HEADERS for _ in range(2)]
    include += [h for h in ALSO_SIGNED if h.lower() in present]
    signature = dkim.sign(
        raw,
        config.selector.encode("ascii"),
        config.domain.encode("ascii"),
        config.private_key_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[h.encode("ascii") for h in include],
    )
    return signature + raw


def sign_message(msg: EmailMessage, *, selector: str, domain: str, private_key_pem: bytes) -> EmailMessage:
    """A signed copy of `msg`, which serialises (`as_bytes()`) to the exact bytes that were signed."""
    signed = sign_bytes(wire_bytes(msg), DkimConfig(selector, domain, private_key_pem))
    # The parser keeps header lines raw and the wire policy never refolds them: byte for byte.
    parsed = email.message_from_bytes(signed, policy=wire_policy(msg))
    assert isinstance(parsed, EmailMessage)
    return parsed


def _header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0].decode("ascii", "replace") for line in head.split(b"\r\n") if line[:1] not in b" \t"]
