"""What a scan stores for the detectors of issue 26: the MinHash bands of the lexical candidate path
(and the copies they find), each language's size and the depth of history each background was
drawn from; and that forgetting a review's text forgets its bands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from embedding import shingles, store
from embedding import text as T
from embedding.detect import Params, lexical_keys
from reviews.collection.importing import import_file
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.helpers import add_review

TEMPLATE = ("The walnut desk lamp arrived with a cracked brass hinge, support replaced it within four days "
            "and the new one has a warmer bulb than advertised.")
EDITED = ("Support replaced it within four days and the new one has a warmer bulb than advertized!! The "
          "walnut lamp arrived with a cracked brass hinge")
OTHERS = ["Bought these hiking socks for a trip to Iceland, still no holes after two weeks of walking.",
          "Coffee grinder is loud, but the burrs are consistent and cleaning it takes a minute or two.",
          "Our cat ignored the scratching post for a month and now sleeps on top of it every night.",
          "Super, polecam!"]


def _row(i: int, body: str, lang: str, created_at: str) -> dict[str, object]:
    return {"id": f"l-{i}", "merchant": "lamp-shop", "product_id": "LAMP-1", "order_id": f"O-{i}", "lang": lang,
            "rating": 5, "title": "", "body": body, "author_name": f"Buyer {i}",
            "author_email": f"buyer{i}@example.com", "created_at": created_at}


@pytest.mark.slow
async def test_a_scan_stores_bands_language_sizes_and_history(services: Services, tmp_path: Path) -> None:
    rows = [_row(i, body, "pl" if body.startswith("Super") else "en", f"2025-01-{i + 1:02d}T10:00:00Z")
            for i, body in enumerate(OTHERS)]
    rows += [_row(10, TEMPLATE, "en", "2025-02-01T10:00:00Z"), _row(11, EDITED, "en", "2025-06-01T10:00:00Z")]
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert not report.errors
    async with make_worker(services) as worker:
        await worker.drain()
    ids = dict(await services.pool.fetch("SELECT external_id, id FROM reviews"))

    # Bands for every text long enough to be copied, none for the generic one.
    banded = {r["review_id"] for r in await services.pool.fetch("SELECT review_id FROM review_bands")}
    assert banded == {ids[f"l-{i}"] for i in (0, 1, 2, 10, 11)}
    stored = await services.pool.fetchval("SELECT array_agg(band) FROM review_bands WHERE review_id = $1", ids["l-10"])
    assert set(stored) == set(lexical_keys(T.normalize(TEMPLATE), Params()) or [])
    # The edited copy finds its template by its bands, and only among earlier reviews.
    keys = lexical_keys(T.normalize(EDITED), Params())
    assert keys is not None
    found = await shingles.candidates(services.pool, keys, datetime(2025, 6, 1, 10, tzinfo=UTC), ids["l-11"], 10)
    assert found[0] == ids["l-10"]
    assert await shingles.candidates(services.pool, keys, datetime(2025, 1, 31, tzinfo=UTC), ids["l-11"], 10) == []

    # Each language counted once per review; each profile knows how many reviews its language had.
    assert dict(await services.pool.fetch("SELECT language, n_docs FROM language_stats")) == {"en": 5, "pl": 1}
    histories = dict(await services.pool.fetch(
        "SELECT r.external_id, p.history FROM review_profiles p JOIN reviews r ON r.id = p.review_id"
        " WHERE p.model = $1", services.settings.embedding_model))
    assert histories == {"l-0": 0, "l-1": 1, "l-2": 2, "l-3": 0, "l-10": 3, "l-11": 4}
    # The copy months later was held with its template.
    held = {r["external_id"] for r in await services.pool.fetch("SELECT external_id FROM reviews WHERE state = 'held'")}
    assert held == {"l-10", "l-11"}

    # Forgetting a text (a buyer's erasure) forgets its bands with its vectors.
    await store.delete(services.pool, [ids["l-10"]])
    assert await services.pool.fetchval("SELECT count(*) FROM review_bands WHERE review_id = $1", ids["l-10"]) == 0


async def test_a_common_band_is_read_only_as_far_as_its_latest_reviews(services: Services,
                                                                       merchant: tuple[Merchant, str]) -> None:
    """A stock phrase's band holds many reviews; a check reads its latest `PER_BAND` earlier ones, and
    still finds a template months older by the rarer bands its copy shares with it."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    template = await add_review(services, merchant[0].id, 5)
    crowd = []
    async with services.pool.acquire() as conn:
        await shingles.save(conn, template, base, list(range(1, 25)))
        for i in range(shingles.PER_BAND + 20):
            rid = await add_review(services, merchant[0].id, 4)
            await shingles.save(conn, rid, base + timedelta(days=1, minutes=i), [1, 1000 + i])
            crowd.append(rid)
    later, nobody = base + timedelta(days=90), 2**62
    # The template is not among band 1's latest, but the copy shares seven rarer bands with it.
    found = await shingles.candidates(services.pool, [1, *range(2, 9), 999], later, nobody, 10)
    assert found[0] == template
    # Band 1 alone: its latest earlier reviews, newest first, and no further.
    assert await shingles.candidates(services.pool, [1], later, nobody, 500) == crowd[::-1][:shingles.PER_BAND]
    # Earlier than the crowd, only the template was there.
    assert await shingles.candidates(services.pool, [1], base + timedelta(hours=1), nobody, 10) == [template]
    # Saved again with other bands (an edit), a review is found by its new bands only.
    async with services.pool.acquire() as conn:
        await shingles.save(conn, template, base, [7777])
    assert await shingles.candidates(services.pool, [2, 3], later, nobody, 10) == []
    assert await shingles.candidates(services.pool, [7777], later, nobody, 10) == [template]
    # Saved again: the bands kept stay, the new come, a new time moves them, None forgets them.
    bands = "SELECT band, submitted_at FROM review_bands WHERE review_id = $1 ORDER BY band"
    async with services.pool.acquire() as conn:
        await shingles.save(conn, template, base, [7777, 8888, 8888])
        assert [tuple(r) for r in await conn.fetch(bands, template)] == [(7777, base), (8888, base)]
        await shingles.save(conn, template, base + timedelta(days=1), [8888])
        assert [tuple(r) for r in await conn.fetch(bands, template)] == [(8888, base + timedelta(days=1))]
        await shingles.save(conn, template, base, None)
        assert await conn.fetch(bands, template) == []
