"""The OpenAPI document as generated clients meet it: time zones from a fixed list of canonical names
that no code generator confuses, every setting typed, and what the schema allows the API takes."""

from __future__ import annotations

import re

import httpx
import pytest

from reviews.intake.openapi import document
from reviews.merchants.model import Merchant
from reviews.platform.bodies import ZONES
from tests.helpers import auth, order_event


def test_time_zones_are_canonical_places_that_generated_names_tell_apart() -> None:
    assert "Europe/Berlin" in ZONES and "UTC" in ZONES
    for odd in ("localtime", "Factory", "GMT0", "GMT+0", "GMT-0", "Etc/GMT+1", "posixrules"):
        assert odd not in ZONES
    # A generator makes an identifier of each value (openapi-python-client once died on GMT+0/GMT-0/GMT0).
    identifiers = [re.sub(r"\W", "", zone).upper() for zone in ZONES]
    assert len(set(identifiers)) == len(identifiers)


def test_every_setting_in_the_answer_has_a_type() -> None:
    settings = document("http://testserver")["components"]["schemas"]["Settings"]["properties"]
    assert all("type" in schema for schema in settings.values()), settings
    assert settings["invite_delay_days"]["type"] == "integer"
    assert settings["require_consent"]["type"] == "boolean"
    assert settings["shopify_secret"]["enum"] == ["set", None]


@pytest.mark.slow
async def test_a_product_listed_twice_is_one_product_not_a_refusal(client: httpx.AsyncClient,
                                                                   merchant: tuple[Merchant, str]) -> None:
    body = order_event("A-77")
    body["products"] = [{"id": "SKU-1", "name": "Trail shoes"}, {"id": "SKU-2", "name": "Socks"},
                        {"id": "SKU-1", "name": "Trail shoes, second pair"}]
    r = await client.post("/api/v1/orders", json=body, headers=auth(merchant[1]))
    assert r.status_code == 200, r.text


@pytest.mark.slow
async def test_a_reply_to_at_a_special_use_domain_is_refused_as_the_schema_says(
        client: httpx.AsyncClient, merchant: tuple[Merchant, str]) -> None:
    schema = document("http://testserver")["components"]["schemas"]["SettingsPatch"]["properties"]["reply_to"]
    special = re.compile(schema["not"]["pattern"])
    for address in ("shop@service.test", "shop@Mail.Invalid", "shop@example.com"):
        r = await client.patch("/api/v1/merchant/settings", json={"reply_to": address}, headers=auth(merchant[1]))
        assert (r.status_code == 422) == bool(special.search(address)), (address, r.text)
