"""Email addresses: the one parser, for what Attest accepts (order events, a shop's reply-to) and
for what it sends, so that an address accepted is an address that can be mailed.

email-validator does the RFC 5321/5322/6531 work. An internationalised domain is sent in its
IDNA (ASCII) form and needs nothing special; a non-ASCII local part needs the server's SMTPUTF8,
which the operator says the server has (`smtputf8`).
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """Why an address is refused, in a sentence a client can show."""


@dataclass(frozen=True)
class EmailAddress:
    normalized: str  # as the buyer wrote it, the domain in Unicode and lower case
    wire: str  # as it goes into the envelope and headers: an IDNA domain, or UTF-8 where `smtputf8`
    smtputf8: bool  # the local part is not ASCII: only a server with SMTPUTF8 takes it


def parse(raw: str, *, smtputf8: bool = True) -> EmailAddress:
    """The address, or AddressError saying why it cannot be mailed."""
    try:
        # Not globally deliverable is fine (a shop's own test domains); whether it exists is the
        # SMTP server's to say, so there is no DNS lookup here.
        result = validate_email(raw.strip(), check_deliverability=False, globally_deliverable=False,
                                allow_smtputf8=smtputf8)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    if "." not in result.ascii_domain:
        raise AddressError("The domain name must have a dot, as in example.com.")
    return EmailAddress(result.normalized, result.ascii_email or result.normalized, result.smtputf8)
