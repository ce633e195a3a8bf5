"""The shape of an imported author's address: which kind of domain it is at and whether the part
before the @ looks generated, kept instead of the address (`reviews.author_contact`).

A review farm opens its accounts in bulk: addresses at one private domain, or a name followed by a
run of digits that is no birth year, or letters after digits, or no vowels at all. Genuine buyers'
addresses have these shapes too, one at a time; what a moderator reads is a campaign whose new
authors share one (`reviews.screening.contact_evidence`), never one address, and never a reason to
flag on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviews.platform.hashing import Hasher, normalize_email

# Mail providers anyone can sign up with: an address there says nothing of who runs it, so the
# domain is kept in clear (a private domain is kept only as a keyed hash: it may name a person).
_PROVIDERS = frozenset({
    "gmail.com", "googlemail.com", "icloud.com", "me.com", "mac.com", "aol.com", "mail.com", "proton.me",
    "protonmail.com", "pm.me", "tutanota.com", "tuta.io", "zoho.com", "fastmail.com", "web.de", "t-online.de",
    "freenet.de", "posteo.de", "libero.it", "virgilio.it", "tiscali.it", "alice.it", "wp.pl", "onet.pl",
    "o2.pl", "interia.pl", "op.pl", "gazeta.pl", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "wanadoo.fr",
    "telefonica.net", "terra.es", "eircom.net", "btinternet.com", "seznam.cz",
})
# Providers with a domain per country (hotmail.es, yahoo.co.uk, gmx.de): the name before the suffix.
_PROVIDER_NAMES = frozenset({"hotmail", "outlook", "live", "msn", "yahoo", "ymail", "gmx", "yandex", "mail"})
_TRAILING = re.compile(r"(\d+)([a-z]{1,2})?$")
_CONSONANTS = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")

GENERATED = {
    "digits": "a run of digits that is no year",
    "letters_after_digits": "letters after its digits",
    "consonants": "five consonants in a row",
}


@dataclass(frozen=True)
class Contact:
    domain: str  # a provider's domain, or "private:" and a keyed hash
    generated: str  # a key of GENERATED, or ""

    @property
    def private(self) -> bool:
        return self.domain.startswith("private:")

    def stored(self) -> str:
        return f"{self.domain}|{self.generated}"

    @classmethod
    def parse(cls, value: str | None) -> Contact | None:
        if not value or "|" not in value:
            return None
        domain, _, generated = value.partition("|")
        return cls(domain, generated)


def shape(email: str, hasher: Hasher) -> Contact | None:
    """The shape of one address; None when it is no address."""
    local, at, domain = normalize_email(email).rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or "." not in domain:
        return None
    where = domain if _provider(domain) else "private:" + hasher.domain(domain)[:16]
    return Contact(where, _generated(local))


def _provider(domain: str) -> bool:
    labels = domain.split(".")
    return domain in _PROVIDERS or (labels[0] in _PROVIDER_NAMES and len(labels) <= 3)


def _generated(local: str) -> str:
    local = local.split("+", 1)[0]
    trailing = _TRAILING.search(local)
    if trailing and trailing.group(2) and trailing.start() > 0:
        return "letters_after_digits"
    if trailing and len(digits := trailing.group(1)) >= 3 and not _year(digits):
        return "digits"
    if _CONSONANTS.search(re.sub(r"[^a-z]", "", local.replace("y", "a"))):
        return "consonants"
    return ""


def _year(digits: str) -> bool:
    return len(digits) == 4 and 1930 <= int(digits) <= 2015
