"""A constructed history of topics for the Insights page and the digest, without the model: reviews
written at chosen dates, and a stored topic set whose mentions are spans of them (as a
recomputation would store it), so the figures can be told in advance.

The strap's complaints rise: in the 90 days before the last 90, 2 of its 10 mentions are 1-2★; in
the last 90 days, 6 of 9. The battery's fall: 5 of 10, then 1 of 10, and it is mentioned more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reviews.insights import store
from reviews.insights.topics import Mention, Placed, Topic, band
from reviews.platform.services import Services
from tests.helpers import add_review

PRODUCT = "watch-1"
STRAP = "the strap is"
BATTERY = "the battery lasts"


@dataclass(frozen=True)
class History:
    strap: list[int]  # review ids, oldest first
    battery: list[int]
    set_id: int


async def _review(svc: Services, merchant_id: int, rating: int, at: datetime, n: int, phrase: str) -> int:
    review_id = await add_review(svc, merchant_id, rating, product_id=PRODUCT, product_name="Field watch",
                                 title=f"Review {n}", body=f"{phrase} fine {n}. Delivery was quick.",
                                 display_name=f"Buyer {n}")
    await svc.pool.execute("UPDATE reviews SET submitted_at = $2, author_hash = $3 WHERE id = $1",
                           review_id, at, f"author-{n}")
    return review_id


def topic(position: int, phrase: str, rows: list[tuple[int, int, str]]) -> Topic:
    """A topic of these reviews (id, rating, body), each mentioning it in its body's first sentence."""
    placed = []
    for i, (review_id, rating, body) in enumerate(rows):
        end = body.index(".")
        mention = Mention(review_id, "body", 0, end, body[:end], "en", rating, f"a{review_id}")
        placed.append(Placed(mention, 1.0 - i / 100, label=i == 0, quote_rank=1 if i < 2 else None))
    stars = {b: sum(1 for _, r, _ in rows if band(r) == b) for b in ("high", "mid", "low")}
    return Topic(position, len(rows), stars, {"en": len(rows)}, "en", placed)


async def build(svc: Services, merchant_id: int) -> History:
    now = svc.clock.now()
    plan = {STRAP: ([(now - timedelta(days=170 - i * 7), 2 if i < 2 else 5) for i in range(10)]
                    + [(now - timedelta(days=80 - i * 8), 1 if i < 6 else 4) for i in range(9)]),
            BATTERY: ([(now - timedelta(days=175 - i * 8), 1 if i < 5 else 5) for i in range(10)]
                      + [(now - timedelta(days=85 - i * 8), 2 if i < 1 else 5) for i in range(10)])}
    ids: dict[str, list[tuple[int, int, str]]] = {}
    n = 0
    for phrase, reviews in plan.items():
        ids[phrase] = []
        for at, rating in reviews:
            n += 1
            review_id = await _review(svc, merchant_id, rating, at, n, phrase)
            ids[phrase].append((review_id, rating, f"{phrase} fine {n}. Delivery was quick."))
    async with svc.pool.acquire() as conn, conn.transaction():
        set_id = await store.replace(conn, merchant_id, PRODUCT, "test-model", n,
                                     [topic(0, BATTERY, ids[BATTERY]), topic(1, STRAP, ids[STRAP])], now)
    return History([r for r, _, _ in ids[STRAP]], [r for r, _, _ in ids[BATTERY]], set_id)


async def shop_topic(svc: Services, merchant_id: int) -> None:
    """A topic of the shop's own reviews: three buyers on its service, one of them unhappy."""
    rows = []
    for n, rating in enumerate((5, 4, 1), 100):
        body = f"the service was quick {n}. Thanks."
        review_id = await add_review(svc, merchant_id, rating, body=body, display_name=f"Buyer {n}")
        await svc.pool.execute("UPDATE reviews SET author_hash = $2 WHERE id = $1", review_id, f"author-{n}")
        rows.append((review_id, rating, body))
    async with svc.pool.acquire() as conn, conn.transaction():
        await store.replace(conn, merchant_id, None, "test-model", 3, [topic(0, "service", rows)], svc.clock.now())


async def topic_ids(svc: Services, set_id: int) -> dict[str, int]:
    """The stored topics' ids by their phrase (battery at position 0, the strap at 1)."""
    rows = await svc.pool.fetch("SELECT id, position FROM topics WHERE set_id = $1", set_id)
    return {(BATTERY, STRAP)[r["position"]]: r["id"] for r in rows}
