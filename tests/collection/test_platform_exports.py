"""Review exports of Judge.me, Yotpo and Trustpilot (headers in tests/collection/fixtures/README.md),
imported through `attest import` and scanned by the worker as in production."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviews import cli
from reviews.collection.importing import detect_format
from reviews.platform.services import Services

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    return services


async def attest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """Run the command; its exit code and its output, parsed when it is one JSON document."""
    code = await asyncio.to_thread(cli.main, list(args))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


async def reviews_by_title(services: Services) -> dict[str, Any]:
    """Each review with its public reply (review_replies), by title."""
    rows = await services.pool.fetch(
        """SELECT r.*, rr.body AS reply, rr.created_at AS reply_at, rr.source AS reply_source, rr.author AS reply_author
           FROM reviews r LEFT JOIN review_replies rr ON rr.review_id = r.id ORDER BY r.submitted_at""")
    return {r["title"]: r for r in rows}


async def test_judgeme_export_keeps_moderation_names_language_product_replies_and_photos(
        env: Services, capsys: pytest.CaptureFixture[str], client: httpx.AsyncClient) -> None:
    path = FIXTURES / "judgeme_export.csv"
    assert detect_format(path, path.read_text()) == "judgeme"
    code, summary = await attest(capsys, "import", str(path), "--merchant", "linen-house", "--create-merchants")
    assert code == 0, summary
    assert (summary["format"], summary["imported"], summary["errors"]) == ("judgeme", 4, 0)
    assert summary["held_by_source_state"] == {"curated=(empty)": 1, "curated=spam": 1}
    assert (summary["replies_imported"], summary["photos_to_fetch"]) == (1, 1)
    assert "replies_kept_not_shown" not in summary
    assert any("public replies" in note for note in summary["notes"])
    assert not any("not shown" in note and "repl" in note for note in summary["notes"])

    rows = await reviews_by_title(env)
    top = rows["Top"]
    # The same display rule as collected reviews: the reviewer's full name is not shown.
    assert [rows[t]["display_name"] for t in ("Top", "Naja", "Good")] == ["Camille R.", "Jonas B.", "Marta K."]
    assert [rows[t]["locale"] for t in ("Top", "Naja", "Good")] == ["fr", "de", "en"]
    assert summary["languages_detected"] == 4
    assert (top["product_id"], top["product_name"]) == ("7012345678", "chemise-lin")
    assert (rows["Good"]["product_id"], rows["Good"]["product_name"]) == ("linen-trousers", "linen-trousers")
    # The shop's reply in the export is the review's public reply, at its own time.
    assert (top["reply"], top["reply_source"], top["reply_author"]) == (
        "Merci Camille, à bientôt !", "import", "import")
    assert top["reply_at"].isoformat() == "2024-11-03T09:00:00+00:00"
    assert await env.pool.fetchval("SELECT count(*) FROM review_replies") == 1
    # An imported reply mails no one and sends no webhook of its own.
    assert await env.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = 'reply.notice'") == 0
    assert top["media_urls"] == ["https://judgeme.imgix.net/linen/a.jpg", "https://judgeme.imgix.net/linen/b.jpg"]

    assert (await attest(capsys, "worker", "--drain"))[0] == 0
    states = {title: r["state"] for title, r in (await reviews_by_title(env)).items()}
    assert states == {"Top": "published", "Buy now": "held", "Naja": "held", "Good": "published"}
    # Published, it shows with its reply in the widgets.
    listed = (await client.get("/widgets/v1/linen-house/reviews.json?per_page=50")).json()["reviews"]
    shown = {r["title"]: r for r in listed}
    assert shown["Top"]["reply"] == {"body": "Merci Camille, à bientôt !", "replied_at": "2024-11-03T09:00:00Z"}
    assert shown["Good"]["reply"] is None
    assert await asyncio.to_thread(cli.main, ["flags", "--format", "jsonl"]) == 0
    flagged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(f["reasons"] for f in flagged) == [["import_moderation"], ["import_moderation"]]
    evidence = await env.pool.fetchval(
        "SELECT f.evidence FROM flags f JOIN reviews r ON r.id = f.review_id WHERE r.title = 'Buy now'")
    assert evidence["source_state"] == "curated=spam"

    # A moderator may still publish what Judge.me held; a rescan does not hold it again.
    held = rows["Naja"]["id"]
    assert (await attest(capsys, "moderate", str(held), "--publish"))[0] == 0
    assert (await attest(capsys, "scan", "--merchant", "linen-house"))[0] == 0
    assert await env.pool.fetchval("SELECT state FROM reviews WHERE id = $1", held) == "published"
    # Importing the same export again adds nothing.
    code, again = await attest(capsys, "import", str(path), "--merchant", "linen-house")
    assert (again["imported"], again["already_imported"], again["replies_imported"]) == (0, 4, 0)
    assert await env.pool.fetchval("SELECT count(*) FROM review_replies") == 1


async def test_yotpo_export_holds_unpublished_reviews_and_keeps_only_public_replies(
        env: Services, capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "yotpo_export.csv"
    code, summary = await attest(capsys, "import", str(path), "--merchant", "ceramiche", "--create-merchants")
    assert (code, summary["format"], summary["imported"]) == (0, "yotpo", 2)
    assert summary["held_by_source_state"] == {"published=false": 1}
    rows = await reviews_by_title(env)
    mug, returned = rows["Perfect everyday mug"], rows["Not for me"]
    assert (mug["product_id"], mug["product_name"], mug["display_name"]) == (
        "1881", "Tazza in ceramica smaltata", "Giulia B.")
    assert (mug["reply"], returned["reply"]) == ("Thank you Giulia!", None)  # a private note is not imported
    assert summary["replies_imported"] == 1
    assert mug["locale"] == "en"
    assert (mug["source_state"], returned["source_state"]) == (None, "published=false")
    assert (mug["import_source"], returned["import_source"]) == ("yotpo", "yotpo")
    # Both photo columns: every photo waits for a moderator here, published by Yotpo or not.
    assert mug["media_urls"] == ["https://ceramiche-esempio.it/ugc/tazza-1.jpg",
                                 "https://ceramiche-esempio.it/ugc/tazza-2.jpg"]
    assert summary["photos_to_fetch"] == 1
    assert (await attest(capsys, "worker", "--drain"))[0] == 0
    assert await env.pool.fetchval("SELECT state FROM reviews WHERE id = $1", returned["id"]) == "held"


async def test_trustpilot_export_imports_shop_reviews_with_their_ids_names_and_languages(
        env: Services, capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "trustpilot_export.csv"
    code, summary = await attest(capsys, "import", str(path), "--merchant", "ceramiche", "--create-merchants")
    assert (code, summary["format"], summary["imported"], summary["held_by_source_state"]) == (
        0, "trustpilot", 2, {})
    rows = await reviews_by_title(env)
    first = rows["Spedizione veloce"]
    assert (first["external_id"], first["product_id"], first["display_name"], first["locale"]) == (
        "64f0c1a2b3c4d5e6f7a8b9c0", None, "GiuliaB", "it")
    assert first["submitted_at"].isoformat() == "2025-03-01T10:20:30+00:00"
    assert (first["reply"], first["reply_source"]) == ("Grazie mille per la fiducia!", "import")
    assert (rows["Bardzo dobry sklep"]["locale"], rows["Bardzo dobry sklep"]["rating"]) == ("pl", 4)
    assert summary["languages_detected"] == 0  # the export says
    assert {r["import_source"] for r in rows.values()} == {"trustpilot"}


def test_attest_csv_with_a_chosen_display_name_keeps_it(tmp_path: Path) -> None:
    from reviews.collection.importing import read_rows, to_record

    path = tmp_path / "own.csv"
    path.write_text("id,merchant,rating,body,author_name,display_name,created_at\n"
                    "a1,shop,5,Lovely,Anna Kowalska,,2025-01-01T00:00:00Z\n"
                    "a2,shop,4,Fine,Anna Kowalska,Ania from Kraków,2025-01-02T00:00:00Z\n")
    fmt, rows = read_rows(path)
    records = [to_record(n, row, None) for n, row in rows if isinstance(row, dict)]
    assert fmt == "csv"
    assert [r.display_name for r in records] == ["Anna K.", "Ania from Kraków"]
