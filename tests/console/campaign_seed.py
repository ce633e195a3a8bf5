"""A campaign of nine reviews held for the desk, and one review held on its own, stored as detection
stores them (`reviews.screening.flags.save` holds them): what the campaign tests start from."""

from __future__ import annotations

from dataclasses import dataclass

from embedding.detect import Flag
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.screening import flags
from tests.helpers import add_review

PRAISE = ("I was sceptical at first but this cordless drill changed my weekend projects completely. "
          "The battery lasts for hours and the case is sturdy{}.")
LANGS = ("en", "en", "en", "de", "en", "fr", "en", "en", "en")


@dataclass(frozen=True)
class Seeded:
    campaign: list[int]
    single: int


async def seed_campaign(svc: Services, merchant: Merchant, size: int = 9) -> Seeded:
    ids = [await add_review(svc, merchant.id, 5, state="pending", body=PRAISE.format("!" * (n % 3)),
                            display_name=f"Buyer {n}", locale=LANGS[n % len(LANGS)], title="")
           for n in range(size)]
    single = await add_review(svc, merchant.id, 1, state="pending", body="Stopped working after a week.")
    when = {"hours_apart": 2.0, "inside_window": True}
    links = [{"a": ids[0], "b": other, "kind": "near", "lexical": 0.92 if other == ids[1] else 0.81, **when}
             for other in ids[1:]] + [{"a": ids[2], "b": ids[3], "kind": "semantic", "z": 4.2, "cosine": 0.9, **when}]
    evidence = {"related": ids, "links": links, "authors": size, "merchants": [merchant.slug]}
    found = [Flag(i, "campaign", float(size), evidence) for i in ids]
    found.append(Flag(single, "near_duplicate", 0.7, {"related": [], "links": []}))
    async with svc.pool.acquire() as conn, conn.transaction():
        await flags.save(conn, found, svc.clock.now())
    return Seeded(ids, single)
