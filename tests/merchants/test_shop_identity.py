"""The shop's public identity: its name and its registered website domains, through the one set of
rules the API, the CLI and the console share, and the import naming a shop it creates."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reviews import cli
from reviews.collection.importing import import_file
from reviews.merchants import settings as merchant_settings
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.errors import ValidationError
from reviews.platform.services import Services
from tests.helpers import auth

# --- the rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("shop.example", ["shop.example"]),
    ("WWW.Shop.Example.", ["www.shop.example"]),
    ("bücher.de, Bücher.de", ["xn--bcher-kva.de"]),  # IDNA-encoded, and typed twice is one domain
    ("krakvolt.pl www.krakvolt.pl\nsklep.krakvolt.pl", ["krakvolt.pl", "www.krakvolt.pl", "sklep.krakvolt.pl"]),
    ("", []),
])
def test_typed_domains_are_normalised(typed: str, stored: list[str]) -> None:
    assert merchant_settings.parse_domains(typed) == stored


@pytest.mark.parametrize(("typed", "why"), [
    ("https://shop.example", "without https://"),
    ("shop.example:8443", "without https://, a path or a port"),
    ("shop.example/de", "a path"),
    ("anna@shop.example", "without"),
    ("localhost", "is not a host name"),
    ("192.0.2.7", "is not a host name"),
    ("-shop.example", "is not a host name"),
    ("shop..example", "is not a host name"),
    ("xn--zz.example", "not valid IDNA"),
])
def test_what_is_not_a_host_name_is_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(ValidationError) as refused:
        merchant_settings.parse_domains(typed)
    assert why in refused.value.fields["domains"]


def test_a_json_list_must_already_be_in_stored_form_and_at_most_twenty() -> None:
    assert merchant_settings.parse_domains(["shop.example", "xn--bcher-kva.de"]) == ["shop.example",
                                                                                   "xn--bcher-kva.de"]
    for bad, why in ((["Shop.example"], "item 0 is not a host name"), (["a.example", "a.example"], "item 1 appears"),
                     ([5], "item 0 must be a string"), ("x" * 300 + ".example", "is not a host name")):
        with pytest.raises(ValidationError) as refused:
            merchant_settings.parse_domains(bad)
        assert why in refused.value.fields["domains"]
    with pytest.raises(ValidationError) as refused:
        merchant_settings.parse_domains([f"shop{n}.example" for n in range(21)])
    assert refused.value.fields == {"domains": "at most 20 domains"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "a\x00b"])
def test_a_name_is_one_to_two_hundred_characters(name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        merchant_settings.parse_name(name)
    assert set(refused.value.fields) == {"name"}
    assert merchant_settings.parse_name("  Krakvolt Energia  ") == "Krakvolt Energia"


# --- the API -------------------------------------------------------------------------------------------------

async def test_the_api_sets_the_name_and_domains_and_shows_them(client: httpx.AsyncClient,
                                                                merchant: tuple[Merchant, str]) -> None:
    shop, key = merchant
    r = await client.patch("/api/v1/merchant/settings", headers=auth(key),
                           json={"name": "Krakvolt Energia", "domains": ["krakvolt.pl", "www.krakvolt.pl"],
                                 "reminder_days": 3})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["slug"] == "demo-shop" and changed["name"] == "Krakvolt Energia"
    assert changed["settings"]["domains"] == ["krakvolt.pl", "www.krakvolt.pl"]
    assert changed["settings"]["reminder_days"] == 3

    shown = (await client.get("/api/v1/merchant", headers=auth(key))).json()
    assert shown == changed
    async with client._transport.app.state.services.pool.acquire() as conn:  # type: ignore[attr-defined]
        stored = await merchants.by_id(conn, shop.id)
    assert stored is not None and stored.name == "Krakvolt Energia"
    assert stored.domains == ("krakvolt.pl", "www.krakvolt.pl")

    # Null clears the domains; leaving a field out changes nothing.
    r = await client.patch("/api/v1/merchant/settings", headers=auth(key), json={"domains": None})
    assert r.json()["settings"]["domains"] == [] and r.json()["name"] == "Krakvolt Energia"


async def test_a_refused_change_stores_nothing(client: httpx.AsyncClient, merchant: tuple[Merchant, str]) -> None:
    _, key = merchant
    r = await client.patch("/api/v1/merchant/settings", headers=auth(key),
                           json={"name": "New name", "domains": ["https://shop.example"]})
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == {
        "domains": "item 0 is not a host name like shop.example (lowercase, no scheme, path or port)"}
    assert (await client.get("/api/v1/merchant", headers=auth(key))).json()["name"] == "Demo Shop"
    for body, field, why in (({"name": None}, "name", "is required"), ({"name": " "}, "name", "is required"),
                             ({"name": "x" * 201}, "name", "must be at most 200 characters"),
                             ({"domains": "shop.example"}, "domains", "must be a list of host names, or null")):
        r = await client.patch("/api/v1/merchant/settings", headers=auth(key), json=body)
        assert r.status_code == 422
        assert r.json()["error"]["fields"] == {field: why}


async def test_the_openapi_document_types_the_name_and_domains(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    patch = schemas["SettingsPatch"]["properties"]
    assert patch["name"]["type"] == "string" and patch["name"]["maxLength"] == 200
    assert patch["domains"]["type"] == ["array", "null"] and patch["domains"]["maxItems"] == 20
    assert patch["domains"]["items"]["pattern"] == merchant_settings.HOST_PATTERN
    assert schemas["Merchant"]["properties"]["name"]["type"] == "string"
    assert "domains" in schemas["Settings"]["required"]


# --- the CLI -------------------------------------------------------------------------------------------------

@pytest.fixture
def env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    return services


async def _run(*argv: str) -> int:
    return await asyncio.to_thread(cli.main, list(argv))


async def test_the_cli_names_a_shop_and_registers_its_domains(env: Services, capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    assert await _run("merchant", "create", "--name", "krakvolt", "--domains", "Krakvolt.PL") == 0
    slug = json.loads(capsys.readouterr().out)["slug"]
    assert await _run("merchant", "set", slug, "name=Krakvolt Energia", "domains=krakvolt.pl, www.krakvolt.pl") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "Krakvolt Energia"
    assert shown["settings"]["domains"] == ["krakvolt.pl", "www.krakvolt.pl"]

    assert await _run("merchant", "set", slug, "name=Other", "domains=https://krakvolt.pl/") == 2
    assert "without https://" in capsys.readouterr().err
    assert await _run("merchant", "show", slug) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "Krakvolt Energia"  # nothing changed

    assert await _run("merchant", "set", slug, "domains=") == 0
    assert json.loads(capsys.readouterr().out)["settings"]["domains"] == []


@pytest.mark.slow
def test_merchant_set_help_names_the_name_and_domains() -> None:
    out = subprocess.run([sys.executable, "-m", "reviews.cli", "merchant", "set", "--help"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "name=" in out.stdout and "domains=" in out.stdout


# --- the import --------------------------------------------------------------------------------------------

@pytest.mark.slow
async def test_an_import_names_the_shops_it_creates_from_the_file(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(
        "merchant,merchant_name,product_id,rating,title,body,author_name,created_at\n"
        "krakvolt,,P1,5,Good,Fast delivery and a solid charger.,Jan Nowak,2024-05-01T10:00:00Z\n"
        "krakvolt,Krakvolt Energia,P1,4,Fine,Works as described after a month.,Ola K,2024-05-02T10:00:00Z\n"
        "krakvolt,Someone Else,P2,4,Okay,The cable is shorter than I hoped.,Piotr Z,2024-05-03T10:00:00Z\n"
        "demo-shop,Renamed By Import,P1,3,Meh,It does the job but nothing more.,Ewa L,2024-05-04T10:00:00Z\n",
        encoding="utf-8")
    async with services.pool.acquire() as conn:
        await merchants.create(conn, name="Demo Shop", slug="demo-shop")
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert report.errors == [] and report.merchants_created == ["krakvolt"]
    async with services.pool.acquire() as conn:
        created = await merchants.by_slug(conn, "krakvolt")
        existing = await merchants.by_slug(conn, "demo-shop")
    assert created is not None and created.name == "Krakvolt Energia"  # the first line that names it
    assert existing is not None and existing.name == "Demo Shop"  # an import never renames a shop


async def test_a_trustpilot_export_names_its_shop(services: Services) -> None:
    fixture = Path(__file__).resolve().parents[1] / "collection" / "fixtures" / "trustpilot_export.csv"
    report = await import_file(services.pool, fixture, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True, default_merchant="ceramiche")
    assert report.merchants_created == ["ceramiche"]
    async with services.pool.acquire() as conn:
        shop = await merchants.by_slug(conn, "ceramiche")
    assert shop is not None and shop.name == "Ceramiche Esempio"
