"""Issue 24: a shop's GDPR requests are listed by whose data they hold (the buyer's address, masked)
and their state; an address with no data is answered so, not with "the export is ready"."""

from __future__ import annotations

import re

import httpx

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.privacy.exports import masked
from tests.console.test_shop_pages import SHOP, _form, _order, _sign_in


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
