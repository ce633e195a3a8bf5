"""Issue 24: a shop's GDPR requests are listed by whose data they hold (the buyer's address, masked)
and their state; an address with no data is answered so, not with "the export is ready". The
settings' time zone is a searchable field, the shop's country first, checked on the server."""

from __future__ import annotations

import re

import httpx

from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.privacy.exports import masked
from tests.console.test_shop_pages import SHOP, _form, _order, _settings_form, _sign_in


def test_an_address_is_masked_to_its_first_letter_and_domain() -> None:
    assert masked("anna.nowak@example.com") == "a***@example.com"
    assert masked("not-an-address") is None and masked(None) is None and masked("@example.com") is None


async def test_requests_are_listed_by_masked_address_and_an_unknown_one_holds_no_data(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    _shop, key = merchant
    await _order(client, key, "G-1", email="anna@example.com", name="Anna Nowak")
    await _sign_in(client, services, "owner@example.com", "owner")
    fields = _form((await client.get(SHOP + "/privacy")).text, f"{SHOP}/privacy/export")

    r = await client.post(SHOP + "/privacy/export", data={**fields, "email": "anna@example.com"})
    page = (await client.get(r.headers["location"])).text
    assert "The export of a***@example.com is ready below" in page
    assert "anna@example.com" not in page

    r = await client.post(SHOP + "/privacy/export", data={**fields, "email": "zoe@elsewhere.example"})
    page = (await client.get(r.headers["location"])).text
    assert "No data is held for this address (z***@elsewhere.example)" in page
    assert "The export" not in page and "zoe@" not in page
    rows = re.findall(r'<tr data-export="(\d+)">.*?<td data-buyer>([^<]+)</td>.*?</tr>', page, re.S)
    assert [buyer for _, buyer in rows] == ["z***@elsewhere.example", "a***@example.com"]
    empty_id, full_id = (int(i) for i, _ in rows)
    empty_row = page[page.index(f'data-export="{empty_id}"'):page.index(f'data-export="{full_id}"')]
    assert "no data held" in empty_row and "Download" not in empty_row
    listed = (await client.get("/api/v1/privacy/exports", headers={"Authorization": f"Bearer {key}"})).json()
    assert [e["buyer"] for e in listed["exports"]] == ["z***@elsewhere.example", "a***@example.com"]


async def test_the_time_zone_is_searched_with_the_shop_s_country_first_and_checked_on_the_server(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, merchant[0], {"domains": "krakvolt.pl"})
    await _sign_in(client, services, "owner@example.com", "owner")
    page = (await client.get(SHOP + "/settings")).text
    assert '<input type="text" id="s-timezone" name="timezone" list="timezones" value="Europe/Berlin"' in page
    options = re.findall(r'<option value="([^"]+)" label="([^"]+)"></option>', page)
    assert options[0] == ("Europe/Warsaw", "Warsaw · Poland") and len(options) > 400
    german = (await client.get(SHOP + "/settings", headers={"Accept-Language": "de"})).text
    assert '<option value="Europe/Warsaw" label="Warsaw · Polen">' in german

    fields = _settings_form(page)
    r = await client.post(SHOP + "/settings", data={**fields, "timezone": " europe/lisbon "})
    assert r.status_code == 303
    assert await services.pool.fetchval("SELECT settings->>'timezone' FROM merchants WHERE slug = 'demo-shop'") == (
        "Europe/Lisbon")
    refused = await client.post(SHOP + "/settings", data={**fields, "timezone": "Mars/Olympus_Mons"})
    assert refused.status_code == 422 and 'id="timezone-error"' in refused.text
    assert 'value="Mars/Olympus_Mons"' in refused.text  # what was typed stays, beside its error
    assert await services.pool.fetchval("SELECT settings->>'timezone' FROM merchants WHERE slug = 'demo-shop'") == (
        "Europe/Lisbon")
