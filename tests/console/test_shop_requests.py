"""Issue 24: a shop's GDPR requests are listed by whose data they hold (the buyer's address, masked)
and their state; an address with no data is answered so, not with "the export is ready". The
settings' time zone is a searchable field, the shop's country first, checked on the server. A team
invitation lasts 7 days and can be resent, which retires the earlier link. Each user picks the
console's language (their browser's by default), for every page and their emails."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import httpx
import pytest

from reviews.accounts import links, users
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.privacy.exports import masked
from tests.console.test_shop_pages import SHOP, _form, _order, _settings_form, _sign_in


def test_an_address_is_masked_to_its_first_letter_and_domain() -> None:
    assert masked("anna.nowak@example.com") == "a***@example.com"
    assert masked("not-an-address") is None and masked(None) is None and masked("@example.com") is None


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
async def test_a_team_invitation_lasts_7_days_and_a_resent_one_replaces_the_first(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    await _sign_in(client, services, "owner@example.com", "owner")
    page = (await client.get(SHOP + "/team")).text
    assert "valid for 7 days" in page
    r = await client.post(SHOP + "/team/invite", data={**_form(page, f"{SHOP}/team/invite"),
                                                       "email": "ana@example.com", "role": "agent"})
    assert r.status_code == 303

    def links_to(address: str) -> list[str]:
        found = []
        for path in sorted(services.settings.outbox_dir.glob("*.eml")):
            mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if mail["To"] == address:
                found += re.findall(r"https?://\S+/console/link/\S+", mail.get_body().get_content())  # type: ignore[union-attr]
        return found

    [first] = links_to("ana@example.com")
    page = (await client.get(SHOP + "/team")).text
    ana = await services.pool.fetchval("SELECT id FROM users WHERE email = 'ana@example.com'")
    action = f"{SHOP}/team/{ana}/resend"
    assert f'action="{action}"' in page
    owner = await services.pool.fetchval("SELECT id FROM users WHERE email = 'owner@example.com'")
    assert f'action="{SHOP}/team/{owner}/resend"' not in page  # signed in: nothing to resend
    r = await client.post(action, data=_form(page, action))
    assert r.status_code == 303 and r.headers["location"].endswith("done=resent")
    assert "the earlier link no longer works" in (await client.get(r.headers["location"])).text
    first_again, second = links_to("ana@example.com")
    assert first_again == first and second != first
    refused = await client.post(f"{SHOP}/team/{owner}/resend", data=_form(page, action))
    assert refused.status_code == 409 and "no invitation to resend" in refused.text
    services.clock.advance(timedelta(days=6))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as ana_browser:
        old = await ana_browser.get(first.removeprefix(services.settings.base_url))
        new = await ana_browser.get(second.removeprefix(services.settings.base_url))
    assert 'name="password"' not in old.text and 'name="password"' in new.text
    assert await services.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'console.invitation_resent'") == 1


@pytest.mark.slow
async def test_each_user_picks_the_console_s_language_for_every_page_and_their_emails(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    await _sign_in(client, services, "owner@example.com", "owner")
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = (await client.get("/console/account", headers=german)).text
    assert '<html lang="de">' in page  # by default, the browser's
    choice = page[page.index('<select id="language-choice"'):page.index("</select>", page.index("language-choice"))]
    assert re.findall(r'<option value="(\w*)"', choice) == ["", "en", "es", "it", "pl", "ro", "de", "fr"]
    assert 'value="" selected' not in choice and " selected" not in choice  # nothing chosen yet
    action = "/console/settings/language"
    r = await client.post(action, data={**_form(page, action), "language": "pl"}, headers=german)
    assert r.status_code == 303 and r.headers["location"] == "/console/account?saved=language"
    saved = await client.get(r.headers["location"], headers=german)
    assert '<html lang="pl">' in saved.text and "Zapisano" in saved.text
    for path in (SHOP, SHOP + "/invitations", SHOP + "/team", SHOP + "/privacy"):
        shown = await client.get(path, headers=german)
        assert shown.status_code == 200 and '<html lang="pl">' in shown.text, path
    # The emails to them follow it, whatever language the sender asked for.
    owner = await users.by_email(services.pool, "owner@example.com")
    assert owner is not None and owner.locale == "pl"
    await links.mail_link(services, owner, "en")
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in sorted(services.settings.outbox_dir.glob("*.eml"))]
    assert mails[-1]["Content-Language"] == "pl" and mails[-1]["Subject"] == "Twój link do logowania w Attest"
    # A nonsense value is the browser's language again.
    page = saved.text
    r = await client.post(action, data={**_form(page, action), "language": "xx"})
    assert '<html lang="de">' in (await client.get("/console/account", headers=german)).text
    assert (await users.by_email(services.pool, "owner@example.com")).locale is None  # type: ignore[union-attr]
