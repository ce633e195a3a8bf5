"""The merchants' console beside the inbox: invitations (the funnel, cancelling), settings (the
form, the email preview, the platform connection), team, API keys, widget snippets and the GDPR
tool, with their role checks."""

from __future__ import annotations

import email
import email.policy
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from reviews.accounts import manage
from reviews.invitations import store as invitations
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.helpers import FormParser, auth, order_event
from tests.intake.platforms import SHOPIFY_SECRET, post_shopify, shopify_order
from tests.widgets.storefront import set_domains

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

PASSWORD = "correct horse battery staple"
SHOP = "/console/m/demo-shop"
OWNER_PAGES = ("/settings", "/team", "/developers", "/privacy", "/settings/preview/en")
VIEWER_PAGES = ("/invitations", "/widgets")


def _form(page: str, action: str | None = None) -> dict[str, str]:
    """The fields of the page's form posting to `action` (of its first form without one)."""
    if action is not None:
        start = page.index(f'action="{action}"')
        page = page[page.rindex("<form", 0, start):page.index("</form>", start)]
    parser = FormParser()
    parser.feed(page)
    return dict(parser.fields)


def _csrf(page: str) -> str:
    """The session's CSRF token: any form's on the page (the sign-out form is on every page)."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no form on the page"
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, services: Services, address: str, role: str,
                   merchant: str | None = "demo-shop") -> None:
    _user, link = await manage.invite(services, address, role, merchant, actor="test",
                                      all_merchants=role == "moderator" and merchant is None)
    await _use_link(client, services, link)


async def _use_link(client: httpx.AsyncClient, services: Services, link: str) -> None:
    path = link.removeprefix(services.settings.base_url)
    page = await client.get(path)
    assert page.status_code == 200, page.text
    r = await client.post(path, data={**_form(page.text), "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/console"


@asynccontextmanager
async def _browser(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser on the same app: its own cookies."""
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as other:
        yield other


async def _other_shop(services: Services) -> Merchant:
    async with services.pool.acquire() as conn:
        other, _key = await merchants.create(conn, name="Other Shop", slug="other-shop")
    return other


async def _order(client: httpx.AsyncClient, key: str, order_id: str, **kwargs: object) -> None:
    r = await client.post("/api/v1/orders", json=order_event(order_id, **kwargs), headers=auth(key))  # type: ignore[arg-type]
    assert r.status_code == 200, r.text


async def _drain(services: Services) -> None:
    async with make_worker(services) as worker:
        await worker.drain()


def _outbox(services: Services) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(services.settings.outbox_dir.glob("*.eml"))]


# --- roles ---------------------------------------------------------------------------------------------------


async def test_every_page_checks_the_role_and_another_shop_is_a_404(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    await _other_shop(services)
    for path in VIEWER_PAGES + OWNER_PAGES:
        r = await client.get(SHOP + path)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in"), path
    for role in ("viewer", "agent", "owner"):
        async with _browser(client) as browser:
            await _sign_in(browser, services, f"{role}@example.com", role)
            for path in VIEWER_PAGES:
                assert (await browser.get(SHOP + path)).status_code == 200, (role, path)
            for path in OWNER_PAGES:
                expected = 200 if role == "owner" else 403
                assert (await browser.get(SHOP + path)).status_code == expected, (role, path)
            # A shop they have no role in does not exist for them, whatever the page.
            for path in VIEWER_PAGES + OWNER_PAGES:
                assert (await browser.get("/console/m/other-shop" + path)).status_code == 404, (role, path)
                assert (await browser.get("/console/m/no-such-shop" + path)).status_code == 404, (role, path)
            # The menu shows only what the role may open.
            page = (await browser.get(SHOP + "/invitations")).text
            assert (f'href="{SHOP}/settings"' in page) == (role == "owner")
    # An operator acts as an owner of every shop.
    async with _browser(client) as browser:
        await _sign_in(browser, services, "op@example.com", "operator", None)
        for path in VIEWER_PAGES + OWNER_PAGES:
            assert (await browser.get("/console/m/other-shop" + path)).status_code == 200, path


async def test_forged_posts_are_refused(client: httpx.AsyncClient, services: Services,
                                        merchant: tuple[Merchant, str]) -> None:
    _shop, key = merchant
    await _order(client, key, "F-1")
    inv_id = await services.pool.fetchval("SELECT id FROM invitations")
    owner_posts = ("/settings", "/settings/platform", "/team/invite", "/developers/keys", "/privacy/export",
                   "/privacy/erase")
    async with _browser(client) as owner:
        await _sign_in(owner, services, "owner@example.com", "owner")
        # Without the CSRF token (another site's form), or with a made-up one: refused, nothing done.
        for path in (*owner_posts, f"/invitations/{inv_id}/cancel"):
            for data in ({"email": "x@example.com", "name": "k"}, {"csrf": "forged", "email": "x@example.com"}):
                r = await owner.post(SHOP + path, data=data)
                assert r.status_code == 400, (path, r.status_code)
    async with _browser(client) as viewer:
        await _sign_in(viewer, services, "viewer@example.com", "viewer")
        csrf = _csrf((await viewer.get(SHOP + "/invitations")).text)
        for path in (*owner_posts, f"/invitations/{inv_id}/cancel"):
            r = await viewer.post(SHOP + path, data={"csrf": csrf, "email": "x@example.com", "name": "k"})
            assert r.status_code == 403, path
    async with _browser(client) as agent:
        await _sign_in(agent, services, "agent@example.com", "agent")
        csrf = _csrf((await agent.get(SHOP + "/invitations")).text)
        for path in owner_posts:
            r = await agent.post(SHOP + path, data={"csrf": csrf, "email": "x@example.com", "name": "k"})
            assert r.status_code == 403, path
        # Another shop's invitation is not found, even by a role that may cancel.
        other = await _other_shop(services)
        assert (await agent.post(f"/console/m/{other.slug}/invitations/{inv_id}/cancel",
                                 data={"csrf": csrf})).status_code == 404
    assert await services.pool.fetchval("SELECT state FROM invitations WHERE id = $1", inv_id) == "scheduled"
    assert await services.pool.fetchval("SELECT count(*) FROM api_keys") == 2  # the two shops' first keys
    assert await services.pool.fetchval("SELECT count(*) FROM data_exports") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM users WHERE email = 'x@example.com'") == 0


# --- invitations ---------------------------------------------------------------------------------------------


def _figures(page: str, attribute: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(rf'{attribute}="([a-z_]+)">(\d+)<', page)}


async def test_the_funnel_shows_a_chart_and_the_store_s_figures(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    shop, key = merchant
    await _order(client, key, "O-1", email="a@example.com", locale="en")
    await _order(client, key, "O-2", email="b@example.com", locale="de")
    await _order(client, key, "O-3", email="c@example.com", locale="pl", consent=False)
    await _order(client, key, "O-4", email="d@example.com", locale="de", consent=None)
    await _drain(services)  # O-1 and O-2 are sent
    await _order(client, key, "O-5", email="e@example.com", locale="fr")  # still scheduled
    await _order(client, key, "O-6", email="f@example.com", status="placed")  # no invitation yet
    async with _browser(client) as viewer:
        await _sign_in(viewer, services, "viewer@example.com", "viewer")
        r = await viewer.get(SHOP + "/invitations")
        skipped = (await viewer.get(SHOP + "/invitations?state=skipped&language=de")).text
    assert r.status_code == 200
    page = r.text
    funnel = await invitations.funnel(services.pool, shop.id)
    assert funnel["sent"] == 2 and funnel["scheduled"] == 1 and funnel["ordered"] == 6
    totals = _figures(page, "data-total")
    for stage in ("ordered", "scheduled", "sent", "reminded", "reviewed", "failed", "cancelled", "too_old_to_invite"):
        assert totals[stage] == funnel[stage], stage
    assert totals["skipped"] == sum(funnel["skipped"].values()) == 2
    assert _figures(page, "data-skipped") == funnel["skipped"] == {"consent_unknown": 1, "no_consent": 1}
    # Two accessible charts (per week, per language), each with its table of the same figures.
    assert page.count('role="img"') == 2 and page.count("<svg") == 2
    assert '<title id="funnel-weeks-title">' in page and '<desc id="funnel-languages-desc">' in page
    language_table = page[page.index('id="per-language"'):page.index('id="recent"')]
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', language_table)
    per_language = {lang: _figures(cells, "data-figure") for lang, cells in rows}
    assert set(per_language) == {"en", "de", "pl", "fr"}
    assert per_language["de"]["ordered"] == 2 and per_language["de"]["sent"] == 1
    assert per_language["de"]["skipped"] == 1
    for stage in ("ordered", "sent", "scheduled"):
        assert sum(r[stage] for r in per_language.values()) == funnel[stage]
    week_table = page[page.index('id="per-week"'):page.index('id="per-language"')]
    this_week = re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', week_table)[-1]
    assert _figures(this_week[1], "data-figure")["ordered"] == 6
    # The list: every invitation with its state and reason, filterable.
    assert page.count("data-invitation=") == 5
    assert skipped.count("data-invitation=") == 1 and "O-4" in skipped
    assert "the order did not say whether the buyer consented" in skipped


async def test_an_agent_cancels_a_scheduled_invitation_and_a_viewer_cannot(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    _shop, key = merchant
    await _order(client, key, "C-1")
    inv_id = await services.pool.fetchval("SELECT id FROM invitations")
    action = f"{SHOP}/invitations/{inv_id}/cancel"
    async with _browser(client) as viewer:
        await _sign_in(viewer, services, "viewer@example.com", "viewer")
        page = (await viewer.get(SHOP + "/invitations")).text
        assert action not in page  # no button for a viewer
        r = await viewer.post(action, data={"csrf": _csrf(page)})
        assert r.status_code == 403
    assert await services.pool.fetchval("SELECT state FROM invitations") == "scheduled"
    async with _browser(client) as agent:
        await _sign_in(agent, services, "agent@example.com", "agent")
        page = (await agent.get(SHOP + "/invitations?state=scheduled")).text
        fields = _form(page, action)
        r = await agent.post(action, data=fields)
        assert r.status_code == 303 and r.headers["location"].startswith(f"{SHOP}/invitations?state=scheduled")
        again = await agent.post(action, data=fields)
        assert again.status_code == 409
    row = await services.pool.fetchrow("SELECT state, reason FROM invitations")
    assert (row["state"], row["reason"]) == ("cancelled", "cancelled_by_shop")
    entry = await services.pool.fetchrow("SELECT * FROM audit_log WHERE action = 'invitation.cancelled'")
    assert entry["actor"] == "agent@example.com" and entry["row_id"] == inv_id
    assert entry["before"]["state"] == "scheduled" and entry["after"]["state"] == "cancelled"
    await _drain(services)  # its job finds it cancelled and sends nothing
    assert [m["To"] for m in _outbox(services) if "anna.kowalska" in str(m["To"])] == []


# --- settings ------------------------------------------------------------------------------------------------


def _settings_form(page: str) -> dict[str, str]:
    """The settings form as a browser sends it: ticked boxes only."""
    fields = _form(page, f"{SHOP}/settings")
    part = page[page.index(f'action="{SHOP}/settings"'):]
    part = part[:part.index("</form>")]
    for box in ("wait_for_delivery", "require_consent"):
        tag = re.search(rf'<input type="checkbox" id="s-{box}"[^>]*>', part)
        assert tag
        if " checked" not in tag.group(0):
            fields.pop(box, None)
    return fields


async def test_settings_refuse_a_bad_value_beside_its_field_and_store_a_good_one(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    _shop, key = merchant
    before = (await merchants.by_slug(services.pool, "demo-shop")).settings  # type: ignore[union-attr]
    async with _browser(client) as owner:
        await _sign_in(owner, services, "owner@example.com", "owner")
        page = (await owner.get(SHOP + "/settings")).text
        fields = _settings_form(page)
        assert fields["invite_delay_days"] == "0" and fields["require_consent"] == "on"
        bad = await owner.post(SHOP + "/settings", data={**fields, "invite_delay_days": "31", "accent_color": "blue",
                                                         "send_window": "20:00-09:00", "sender_name": "Kept?"})
        assert bad.status_code == 422
        # The API gives the same verdicts: one set of rules.
        api = await client.patch("/api/v1/merchant/settings", headers=auth(key),
                                 json={"invite_delay_days": 31, "accent_color": "blue", "send_window": "20:00-09:00"})
        assert api.status_code == 422
        for field, message in api.json()["error"]["fields"].items():
            error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', bad.text)
            assert error and html.unescape(error.group(1)) == message, field
            assert f'id="s-{field}"' in bad.text[bad.text.index(f'id="{field}-error"'):][:400]
        assert 'value="Kept?"' in bad.text  # what was typed stays in the form
        assert (await merchants.by_slug(services.pool, "demo-shop")).settings == before  # type: ignore[union-attr]
        good = await owner.post(SHOP + "/settings", data={
            **{k: v for k, v in fields.items() if k != "require_consent"}, "invite_delay_days": "3",
            "send_window": "09:00-20:00", "sender_name": "Demo <Support>", "reply_to": "help@demo.example",
            "accent_color": "#0a7d33", "timezone": "Europe/Warsaw", "wait_for_delivery": "on"})
        assert good.status_code == 303, good.text
        page = (await owner.get(good.headers["location"])).text
        assert "Saved." in page and 'value="Demo &lt;Support&gt;"' in page
    stored = (await merchants.by_slug(services.pool, "demo-shop")).settings  # type: ignore[union-attr]
    assert stored == {**before, "invite_delay_days": 3, "send_window": "09:00-20:00", "sender_name": "Demo <Support>",
                      "reply_to": "help@demo.example", "accent_color": "#0a7d33", "timezone": "Europe/Warsaw",
                      "wait_for_delivery": True, "require_consent": False}
    assert "reminder_days" not in stored  # an untouched default stays a default
    entry = await services.pool.fetchrow("SELECT * FROM audit_log WHERE action = 'merchant.settings'")
    assert entry["actor"] == "owner@example.com"


async def test_the_email_preview_renders_in_each_language(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    _shop, key = merchant
    await _order(client, key, "P-1", products=[{"id": "SKU-9", "name": "Wanderstiefel <Alpin>"}])
    async with _browser(client) as owner:
        await _sign_in(owner, services, "owner@example.com", "owner")
        page = (await owner.get(SHOP + "/settings?preview=de")).text
        assert f'src="{SHOP}/settings/preview/de?kind=invitation"' in page and " sandbox " in page
        assert "Wie war Ihre Bestellung bei Demo Shop?" in page  # the subject
        de = await owner.get(SHOP + "/settings/preview/de")
        en = await owner.get(SHOP + "/settings/preview/en?kind=reminder")
        assert (await owner.get(SHOP + "/settings/preview/xx")).status_code == 404
    assert de.status_code == 200 and de.headers["content-language"] == "de"
    csp = de.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "frame-ancestors 'self'" in csp
    assert "script-src" not in csp and de.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Bewertung schreiben" in de.text and "Write a review" not in de.text
    assert "Wanderstiefel &lt;Alpin&gt;" in de.text  # the shop's own product, escaped
    assert "Write a review" in en.text and "Reminder" in en.text


async def test_the_platform_secret_is_set_and_never_shown_back(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    async with _browser(client) as owner:
        await _sign_in(owner, services, "owner@example.com", "owner")
        page = (await owner.get(SHOP + "/settings")).text
        assert 'value="http://testserver/hooks/shopify/demo-shop"' in page
        assert 'value="http://testserver/hooks/woocommerce/demo-shop"' in page
        assert page.count("No secret is set yet") == 2 and page.count("No verified delivery yet.") == 2
        fields = _form(page, f"{SHOP}/settings/platform")
        assert fields["shopify_secret"] == "" and fields["woocommerce_secret"] == ""
        r = await owner.post(SHOP + "/settings/platform", data={**fields, "shopify_secret": SHOPIFY_SECRET})
        assert r.status_code == 303
        # A signed delivery from Shopify now verifies, and the page says when it came.
        assert (await post_shopify(client, "orders/create", shopify_order())).status_code == 200
        page = (await owner.get(r.headers["location"])).text
        assert SHOPIFY_SECRET not in page
        assert page.count("A secret is set.") == 1 and "Last verified delivery: " in page
        # A blank field keeps the secret; a bad one is refused beside its field.
        assert (await owner.post(SHOP + "/settings/platform", data=fields)).status_code == 303
        bad = await owner.post(SHOP + "/settings/platform", data={**fields, "woocommerce_secret": "x" * 501})
        assert bad.status_code == 422 and 'id="woocommerce_secret-error"' in bad.text and "x" * 501 not in bad.text
    stored = await merchants.by_slug(services.pool, "demo-shop")
    assert stored is not None and stored.setting("shopify_secret") == SHOPIFY_SECRET
    assert stored.setting("woocommerce_secret") is None
    audit = await services.pool.fetch("SELECT before, after FROM audit_log WHERE action = 'merchant.settings'")
    assert SHOPIFY_SECRET not in str([dict(a) for a in audit])


# --- team ----------------------------------------------------------------------------------------------------


async def test_an_owner_invites_a_member_who_signs_in_with_the_mailed_link_and_has_the_role(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    async with _browser(client) as owner:
        await _sign_in(owner, services, "owner@example.com", "owner")
        page = (await owner.get(SHOP + "/team")).text
        sent_before = len(_outbox(services))
        r = await owner.post(SHOP + "/team/invite", data={**_form(page, f"{SHOP}/team/invite"),
                                                          "email": "New.Agent@Example.com", "role": "agent"})
        assert r.status_code == 303
        mails = _outbox(services)[sent_before:]
        assert [m["To"] for m in mails] == ["new.agent@example.com"]
        link = re.search(r"http://testserver/console/link/\S+", mails[0].get_body().get_content())  # type: ignore[union-attr]
        assert link
        async with _browser(client) as member:
            await _use_link(member, services, link.group(0))
            assert (await member.get(SHOP + "/invitations")).status_code == 200
            assert (await member.get(SHOP + "/settings")).status_code == 403
            page = (await owner.get(SHOP + "/team")).text
            assert 'data-member="new.agent@example.com"' in page
            user_id = await services.pool.fetchval("SELECT id FROM users WHERE email = 'new.agent@example.com'")
            # Inviting them again is no way round the role rules.
            again = await owner.post(SHOP + "/team/invite", data={"csrf": _csrf(page), "email": "new.agent@example.com",
                                                                   "role": "owner"})
            assert again.status_code == 422 and "already in the team" in again.text
            # Only the shop's roles can be given.
            op = await owner.post(SHOP + "/team/invite", data={"csrf": _csrf(page), "email": "x@example.com",
                                                               "role": "operator"})
            assert op.status_code == 422
            r = await owner.post(f"{SHOP}/team/{user_id}/role", data={"csrf": _csrf(page), "role": "owner"})
            assert r.status_code == 303
            assert (await member.get(SHOP + "/settings")).status_code == 200
            r = await owner.post(f"{SHOP}/team/{user_id}/remove", data={"csrf": _csrf(page)})
            assert r.status_code == 303
            assert (await member.get(SHOP + "/invitations")).status_code == 404
        # The last owner can neither leave nor step down.
        me = await services.pool.fetchval("SELECT id FROM users WHERE email = 'owner@example.com'")
        for path, data in ((f"{SHOP}/team/{me}/role", {"role": "viewer"}), (f"{SHOP}/team/{me}/remove", {})):
            r = await owner.post(path, data={"csrf": _csrf(page), **data})
            assert r.status_code == 422 and "at least one owner" in r.text
        assert (await owner.post(f"{SHOP}/team/999999/remove", data={"csrf": _csrf(page)})).status_code == 404
    roles = await services.pool.fetch("SELECT user_id, role FROM memberships")
    assert [(r["user_id"], r["role"]) for r in roles] == [(me, "owner")]
    actions = [r["action"] for r in await services.pool.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("console.member_role") == 1 and actions.count("console.member_removed") == 1
    assert actions.count("console.user_role") == 2  # the owner's own invitation and the new member's


# --- API keys ------------------------------------------------------------------------------------------------


async def test_an_api_key_is_shown_once_works_and_once_revoked_is_refused(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    async with _browser(client) as owner:
        await _sign_in(owner, services, "owner@example.com", "owner")
        page = (await owner.get(SHOP + "/developers")).text
        assert f'href="{SHOP}/developers/webhooks"' in page
        fields = _form(page, f"{SHOP}/developers/keys")
        assert (await owner.post(SHOP + "/developers/keys", data={**fields, "name": "  "})).status_code == 422
        created = await owner.post(SHOP + "/developers/keys", data={**fields, "name": "ERP export"})
        assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
        found = re.search(r'value="(atk_[^"]+)" readonly', created.text)
        assert found
        key = found.group(1)
        listing = (await owner.get(SHOP + "/developers")).text
        assert key not in listing and key[:10] in listing and "ERP export" in listing
        r = await client.post("/api/v1/orders", json=order_event("K-1"), headers=auth(key))
        assert r.status_code == 200
        key_id = await services.pool.fetchval("SELECT id FROM api_keys WHERE name = 'ERP export'")
        used = await services.pool.fetchval("SELECT last_used_at FROM api_keys WHERE id = $1", key_id)
        assert used == services.clock.now()
        row = (await owner.get(SHOP + "/developers")).text
        row = row[row.index(f'data-api-key="{key_id}"'):]
        assert services.clock.now().strftime('datetime="%Y-%m-%dT%H:%M:%SZ"') in row[:row.index("</tr>")]
        revoke = f"{SHOP}/developers/keys/{key_id}/revoke"
        r = await owner.post(revoke, data=_form(row, revoke))
        assert r.status_code == 303
        assert (await owner.post(revoke, data={"csrf": _csrf(row)})).status_code == 404
    r = await client.post("/api/v1/orders", json=order_event("K-2"), headers=auth(key))
    assert r.status_code == 401
    # The shop's first key still works.
    assert (await client.post("/api/v1/orders", json=order_event("K-3"), headers=auth(merchant[1]))).status_code == 200
    actions = [r["action"] for r in await services.pool.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert "api_key.created" in actions and "api_key.revoked" in actions
    assert key not in str([dict(r) for r in await services.pool.fetch("SELECT * FROM audit_log")])


# --- widgets -------------------------------------------------------------------------------------------------


async def test_the_snippets_hold_the_shop_s_real_widget_addresses(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    _shop, key = merchant
    await _order(client, key, "W-1")
    async with _browser(client) as viewer:
        await _sign_in(viewer, services, "viewer@example.com", "viewer")
        r = await viewer.get(SHOP + "/widgets?product=SKU-1&preview=pl")
        odd = await viewer.get(SHOP + "/widgets", params={"product": 'A&B/"1"<x>'})
        await set_domains(services, _shop.id, ["shop.example", "www.shop.example"])
        registered = (await viewer.get(SHOP + "/widgets")).text
    assert r.status_code == 200
    page = html.unescape(r.text)
    codes = dict(re.findall(r'<code id="code-([\w-]+)">(.*?)</code>', r.text, re.S))
    # Every snippet has its copy button, and each widget's element holds the height it will take.
    assert sorted(re.findall(r'<button type="button" class="copy secondary" data-copy-target="code-([\w-]+)">',
                             r.text)) == sorted(codes)
    assert set(codes) == {"script", "product-stars", "product-reviews", "product-fragment", "product-page",
                          "product-jsonld", "shop-tiles", "shop-reviews", "shop-carousel", "shop-seal", "shop-badge",
                          "shop-page", "shop-feed", "shop-merchant-feed"}
    code = {k: html.unescape(v) for k, v in codes.items()}
    assert code["script"] == '<script src="http://testserver/widgets/v1/embed.js" defer></script>'
    svg = '<svg aria-hidden="true" focusable="false" width="1" height="{}"></svg>'
    assert code["product-stars"] == ('<div data-attest-widget="stars" data-merchant="demo-shop" data-product="SKU-1">'
                                     f'{svg.format(20)}</div>')
    assert code["product-reviews"] == ('<div data-attest-widget="reviews" data-merchant="demo-shop" '
                                       f'data-product="SKU-1" data-limit="5">{svg.format(1140)}</div>')
    assert code["shop-tiles"].startswith(
        '<div data-attest-widget="stars" data-merchant="demo-shop" data-product="SKU-1">')
    assert code["shop-carousel"] == ('<div data-attest-widget="carousel" data-merchant="demo-shop" data-limit="8">'
                                     f'{svg.format(300)}</div>')
    assert code["shop-seal"] == f'<div data-attest-widget="badge" data-merchant="demo-shop">{svg.format(76)}</div>'
    assert code["product-fragment"] == "http://testserver/widgets/v1/demo-shop/products/SKU-1/reviews.html"
    assert code["product-page"] == "http://testserver/shops/demo-shop/products/SKU-1"
    assert code["shop-page"] == "http://testserver/shops/demo-shop"
    assert 'height="64"' in code["shop-badge"] and 'href="http://testserver/shops/demo-shop"' in code["shop-badge"]
    urls = sorted({u for c in code.values() for u in re.findall(r'http://testserver/[^"\s<]+', c)})
    assert "http://testserver/widgets/v1/demo-shop/merchant-feed.xml" in urls
    for url in urls:  # every address in a snippet is a real one
        assert (await client.get(url.removeprefix("http://testserver"))).status_code == 200, url
    # The seal's websites: none yet, a warning; once registered, named.
    assert "You have not registered your website yet" in page
    assert "Your registered websites: shop.example, www.shop.example." in html.unescape(registered)
    # The preview: the real iframe page and badge, in the chosen language.
    assert 'src="/widgets/v1/demo-shop/widget.html?product=SKU-1&lang=pl"' in page
    assert 'src="/widgets/v1/demo-shop/badge.svg?product=SKU-1&lang=pl"' in page
    frame = await client.get("/widgets/v1/demo-shop/widget.html?product=SKU-1&lang=pl")
    assert frame.headers["content-language"] == "pl"
    # A product id with markup and quotes is escaped for the attribute and encoded for the URL.
    assert odd.status_code == 200 and "<x>" not in odd.text
    odd_codes = [html.unescape(c) for c in re.findall(r"<code[^>]*>(.*?)</code>", odd.text, re.S)]
    assert any('data-product="A&amp;B/&quot;1&quot;&lt;x&gt;"' in c for c in odd_codes)
    assert any("products/A%26B%2F%221%22%3Cx%3E/reviews.html" in c for c in odd_codes)


# --- GDPR ----------------------------------------------------------------------------------------------------


async def test_export_and_erase_one_buyer_and_another_is_untouched(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    _shop, key = merchant
    await _order(client, key, "G-1", email="anna@example.com", name="Anna Nowak")
    await _order(client, key, "G-2", email="bob@example.com", name="Bob Stone")
    async with _browser(client) as owner:
        await _sign_in(owner, services, "owner@example.com", "owner")
        page = (await owner.get(SHOP + "/privacy")).text
        fields = _form(page, f"{SHOP}/privacy/export")
        assert (await owner.post(SHOP + "/privacy/export", data={**fields, "email": "nobody"})).status_code == 422
        r = await owner.post(SHOP + "/privacy/export", data={**fields, "email": "Anna@Example.com"})
        assert r.status_code == 303
        page = (await owner.get(r.headers["location"])).text
        export_id = await services.pool.fetchval("SELECT id FROM data_exports")
        assert f'data-export="{export_id}"' in page
        download = await owner.get(f"{SHOP}/privacy/exports/{export_id}")
        assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
        data = download.json()
        assert [o["order_id"] for o in data["orders"]] == ["G-1"] and "bob@example.com" not in download.text
        assert await services.pool.fetchval("SELECT delivered_by FROM data_exports") == "owner@example.com"
        # Erasure asks first, and changes nothing until confirmed.
        confirm = await owner.post(SHOP + "/privacy/erase", data={**fields, "email": "anna@example.com"})
        assert confirm.status_code == 200 and "Confirm the erasure" in confirm.text
        assert "orders 1 · reviews 0" in confirm.text
        assert await services.pool.fetchval("SELECT buyer_email FROM orders WHERE external_id = 'G-1'")
        done = await owner.post(SHOP + "/privacy/erase", data=_form(confirm.text, f"{SHOP}/privacy/erase"))
        assert done.status_code == 200 and "Erased" in done.text
        assert "· photos deleted: 0</p>" in done.text  # every kind of data it erased is counted
        assert (await owner.get(f"{SHOP}/privacy/exports/{export_id}")).status_code == 410
    anna = await services.pool.fetchrow("SELECT * FROM orders WHERE external_id = 'G-1'")
    bob = await services.pool.fetchrow("SELECT * FROM orders WHERE external_id = 'G-2'")
    assert anna["buyer_email"] is None and anna["buyer_name"] is None
    assert bob["buyer_email"] == "bob@example.com" and bob["buyer_name"] == "Bob Stone"
    states = dict(await services.pool.fetch(
        "SELECT o.external_id, i.state FROM invitations i JOIN orders o ON o.id = i.order_id"))
    assert states == {"G-1": "cancelled", "G-2": "scheduled"}
    entry = await services.pool.fetchrow("SELECT * FROM audit_log WHERE action = 'redact'")
    assert entry["actor"] == "owner@example.com"
    assert await services.pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'data_request'") == 1
