"""Hostile posts of the review form: forwarded headers believed only from trusted proxies, one
counter per review link however its token is spelt, the same form sent at once, a NUL in a field."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from ipaddress import ip_network

import httpx

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import form_of, invite

Fixture = tuple[Merchant, str]
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


async def submit(client: httpx.AsyncClient, path: str, forwarded_for: str) -> None:
    form = await form_of(client, path)
    data = {**form.fields, "rating_0": "4", "body_0": "Comfortable from the first run."}
    r = await client.post(path, data=data, headers={"x-forwarded-for": forwarded_for})
    assert r.status_code == 200, r.text


async def test_a_forged_forwarded_for_is_ignored(client: httpx.AsyncClient, merchant: Fixture,
                                                 services: Services) -> None:
    await submit(client, await invite(client, services, merchant[1]), "198.51.100.9")
    stored = await services.pool.fetchval("SELECT ip_hash FROM reviews")
    assert stored == services.hasher.ip("203.0.113.7")  # the connection's own address


async def test_a_trusted_proxy_names_the_client(client: httpx.AsyncClient, merchant: Fixture,
                                                services: Services) -> None:
    services.settings = replace(services.settings, trusted_proxies=(ip_network("203.0.113.0/24"),))  # type: ignore[misc]
    # A client may prepend anything; the address the trusted proxy saw is the rightmost untrusted one.
    await submit(client, await invite(client, services, merchant[1]), "10.9.9.9, 198.51.100.9, 203.0.113.8")
    stored = await services.pool.fetchval("SELECT ip_hash FROM reviews")
    assert stored == services.hasher.ip("198.51.100.9")


def spellings(token: str) -> list[str]:
    """The same signature written differently: the last base64 character's unused low bits."""
    unused = (len(token.rsplit(".", 1)[1]) * 6) % 8  # bits past the last whole byte
    last = URLSAFE.index(token[-1])
    found = [token[:-1] + URLSAFE[(last & ~((1 << unused) - 1)) | low] for low in range(1 << unused)]
    assert len(found) > 1 and all(base64.urlsafe_b64decode(t.rsplit(".", 1)[1] + "==") ==
                                  base64.urlsafe_b64decode(token.rsplit(".", 1)[1] + "==") for t in found)
    return found


async def test_every_spelling_of_a_link_counts_against_one_limit(client: httpx.AsyncClient, merchant: Fixture,
                                                                 services: Services) -> None:
    path = await invite(client, services, merchant[1])
    variants = spellings(path)
    answers = [(await client.post(variants[n % len(variants)], data={})).status_code for n in range(11)]
    assert answers[:10] == [400] * 10  # counted, then refused for the missing form token
    assert answers[10] == 429


async def test_the_same_form_sent_six_times_at_once_stores_one_review(client: httpx.AsyncClient,
                                                                      merchant: Fixture, services: Services) -> None:
    path = await invite(client, services, merchant[1])
    form = await form_of(client, path)
    data = {**form.fields, "rating_0": "5", "body_0": "Arrived quickly and fits well."}
    answers = await asyncio.gather(*(client.post(path, data=data) for _ in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert all("Thank you" in a.text for a in answers)
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 1


async def test_a_nul_in_the_form_is_dropped_not_a_500(client: httpx.AsyncClient, merchant: Fixture,
                                                      services: Services) -> None:
    path = await invite(client, services, merchant[1])
    form = await form_of(client, path)
    data = {**form.fields, "rating_0": "5", "body_0": "Warm\x00 and light.", "display_name": "Anna\x00 K."}
    r = await client.post(path, data=data)
    assert r.status_code == 200, r.text
    assert await services.pool.fetchval("SELECT body FROM reviews") == "Warm and light."
