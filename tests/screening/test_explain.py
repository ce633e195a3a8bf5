"""What a moderator reads of a flag (`attest flags --explain`), and which of two copies is held."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from reviews import cli
from reviews.collection.importing import import_file
from reviews.platform.services import Services
from reviews.worker import make_worker

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

CAMPAIGN = ("I was sceptical at first but this cordless drill changed my weekend projects completely. "
            "The battery lasts for hours, the torque settings are precise and the case is sturdy.")
HONEST = ["Solid drill for the price, the chuck holds bits firmly.",
          "Arrived a day late but works fine for hanging shelves.",
          "Battery died after twenty minutes of drilling into concrete, disappointing.",
          "Lighter than my old Bosch, which my wrists appreciate."]


def _row(i: int, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"x-{i}", "merchant": "tools-shop", "product_id": "DRILL-1", "order_id": f"O-{i}", "lang": "en",
        "rating": 5, "title": "", "body": HONEST[i % len(HONEST)], "author_name": f"Buyer {i}",
        "author_email": f"buyer{i}@example.com", "created_at": f"2025-03-{(i % 27) + 1:02d}T10:00:00Z"}
    return {**base, **kw}


def addressed_campaign() -> list[dict[str, object]]:
    """Eight genuine imported reviews at public mail providers, and a campaign of three (x-300 to
    x-302) whose addresses look generated, at one private domain."""
    honest = [_row(i, author_email=f"{name}@gmail.com") for i, name in
              enumerate(["ana.perez", "tom.walsh", "k.nowak", "marie1984", "jl.roux", "b.moser", "eva.lind", "oskar"])]
    farm = [_row(300 + n, body=CAMPAIGN + suffix, author_email=email, created_at=f"2025-0{n + 2}-11T10:00:00Z")
            for n, (email, suffix) in enumerate([("lena.farm4471@deals-mail.example", ""),
                                                 ("paul_keys_82q@deals-mail.example", " Great."),
                                                 ("rita88213@deals-mail.example", " Recommended!")])]
    return honest + farm


async def _import(services: Services, tmp_path: Path, rows: list[dict[str, object]]) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert not report.errors
    async with make_worker(services) as worker:
        await worker.drain()


async def test_explain_names_each_link_its_measure_and_the_window(services: Services, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    # One text posted by three buyers, months apart: a campaign found by its text, not its timing.
    rows = [_row(i) for i in range(8)] + [
        _row(100, body=CAMPAIGN, created_at="2025-01-05T10:00:00Z"),
        _row(101, body=CAMPAIGN, created_at="2025-03-20T10:00:00Z"),
        _row(102, body=CAMPAIGN + " Recommended!", created_at="2025-06-01T10:00:00Z")]
    await _import(services, tmp_path, rows)
    first = await services.pool.fetchval("SELECT id FROM reviews WHERE external_id = 'x-100'")
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", first) == "held"
    code = await asyncio.to_thread(cli.main, ["flags", "--explain", str(first)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"Review #{first} of tools-shop" in out and "held" in out
    assert "campaign" in out and "3 distinct authors" in out
    assert "the same text" in out and "lexical copy" in out
    assert "outside the time window" in out and "days apart" in out
    assert "I was sceptical at first" in out  # the linked reviews' own words, side by side
    assert await asyncio.to_thread(cli.main, ["flags", "--explain", "999999"]) == 1


async def test_of_copies_sent_together_only_the_later_is_held(services: Services, tmp_path: Path) -> None:
    # One buyer, one instant, one text for two products (an import of a hurried buyer's reviews).
    same = {"author_email": "hurry@example.com", "author_name": "Hurry", "created_at": "2025-03-10T10:00:00Z",
            "body": CAMPAIGN}
    rows = [_row(i) for i in range(8)] + [_row(200, product_id="DRILL-1", **same),
                                          _row(201, product_id="DRILL-2", order_id="O-200", **same)]
    await _import(services, tmp_path, rows)
    states = dict(await services.pool.fetch(
        "SELECT external_id, state FROM reviews WHERE external_id IN ('x-200', 'x-201')"))
    assert states == {"x-200": "published", "x-201": "held"}
    kinds = {r["kind"] for r in await services.pool.fetch(
        "SELECT f.kind FROM flags f JOIN reviews r ON r.id = f.review_id WHERE r.external_id = 'x-201'")}
    assert kinds == {"self_duplicate"}


async def test_a_campaign_shows_what_its_authors_addresses_share(services: Services, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    await _import(services, tmp_path, addressed_campaign())
    first = await services.pool.fetchval("SELECT id FROM reviews WHERE external_id = 'x-300'")
    evidence = await services.pool.fetchval(
        "SELECT evidence FROM flags WHERE review_id = $1 AND kind = 'campaign'", first)
    assert evidence["contacts"] == {"with_address": 3, "generated": 3,
                                    "generated_kinds": {"digits": 2, "letters_after_digits": 1},
                                    "one_private_domain": 3, "background": 8, "background_generated": 0}
    # Only a shape is kept: no address and no domain of a private address is stored.
    stored = [r["author_contact"] for r in await services.pool.fetch("SELECT author_contact FROM reviews")]
    assert "gmail.com|" in stored and not any("deals-mail" in s or "@" in s for s in stored)
    assert await asyncio.to_thread(cli.main, ["flags", "--explain", str(first)]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 members' imported addresses look generated" in out and "other imported authors: 0 of 8" in out
    assert "3 of 3 members' addresses are at one private domain" in out


async def test_addresses_alone_never_flag(services: Services, tmp_path: Path) -> None:
    # Every buyer's address looks generated, at one domain: without texts that link them, no flag.
    texts = [*HONEST, "The drill case cracked on the first drop from a ladder.",
                      "Good value, though the spare battery costs almost as much as the drill.",
                      "My daughter uses it for her furniture restoration and loves the light.",
                      "Too heavy for overhead work, returned it for a smaller model."]
    rows = [_row(i, body=text, author_email=f"user{4000 + i}@one-domain.example") for i, text in enumerate(texts)]
    await _import(services, tmp_path, rows)
    assert await services.pool.fetchval("SELECT count(*) FROM flags") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM reviews WHERE state = 'published'") == 8
