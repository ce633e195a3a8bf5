"""The shape kept of an imported author's address: its kind of domain and whether it looks generated."""

from __future__ import annotations

import pytest

from reviews.collection.contacts import Contact, shape
from reviews.platform.hashing import Hasher

HASHER = Hasher("test-secret")


@pytest.mark.parametrize(("email", "generated"), [
    ("maria.rossi@gmail.com", ""),
    ("kowalski1987@wp.pl", ""),  # a birth year is what people add
    ("j.smith7@yahoo.co.uk", ""),
    ("szczepan.nowak@interia.pl", ""),  # four consonants are Polish, not generated
    ("anna.berg4471@outlook.de", "digits"),
    ("tom+shop123@gmail.com", ""),  # the tag after + is the buyer's own filing
    ("lena_vogt_33q@gmx.net", "letters_after_digits"),
    ("xkrtvbnq@mail.com", "consonants"),
    ("20250314@gmail.com", "digits"),
])
def test_what_looks_generated(email: str, generated: str) -> None:
    found = shape(email, HASHER)
    assert found is not None and found.generated == generated


def test_a_provider_is_kept_in_clear_and_a_private_domain_only_as_a_keyed_hash() -> None:
    assert shape("Maria@GMAIL.com", HASHER) == Contact("gmail.com", "")
    assert shape("m@hotmail.es", HASHER) == Contact("hotmail.es", "")
    private = shape("anna@Kowalski-Family.example", HASHER)
    assert private is not None and private.private and "kowalski" not in private.domain
    assert shape("piotr@kowalski-family.example", HASHER) == Contact(private.domain, "")  # one domain, one key
    assert shape("anna@kowalski-family.example", Hasher("another-install")) != private  # keyed per install
    assert Contact.parse(private.stored()) == private


@pytest.mark.parametrize("value", ["", "no-at-sign", "@example.com", "anna@localhost"])
def test_no_address_no_shape(value: str) -> None:
    assert shape(value, HASHER) is None
