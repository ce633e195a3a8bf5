"""A buyer's erasure empties the shape kept of their imported address, with the rest of the review."""

from __future__ import annotations

import json
from pathlib import Path

from reviews.collection.importing import import_file
from reviews.platform.services import Services
from reviews.privacy.buyer_data import erase_buyer


async def test_erasure_forgets_the_address_shape(services: Services, tmp_path: Path) -> None:
    rows = [{"id": f"c-{i}", "merchant": "shape-shop", "product_id": "P-1", "lang": "en", "rating": 4,
             "title": "", "body": body, "author_name": f"Buyer {i}", "author_email": email,
             "created_at": "2025-02-01T10:00:00Z"}
            for i, (body, email) in enumerate([("Sturdy and light, as described.", "karl5512@own-domain.example"),
                                               ("Took a week to arrive, fine otherwise.", "ines.vidal@gmail.com")])]
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert not report.errors and report.imported == 2
    merchant_id = await services.pool.fetchval("SELECT id FROM merchants WHERE slug = 'shape-shop'")
    async with services.pool.acquire() as conn:
        await erase_buyer(conn, merchant_id, "karl5512@own-domain.example", hasher=services.hasher,
                          now=services.clock.now(), actor="test")
    shapes = dict(await services.pool.fetch("SELECT external_id, author_contact FROM reviews ORDER BY external_id"))
    assert shapes == {"c-0": None, "c-1": "gmail.com|"}
