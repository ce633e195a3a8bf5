"""A topic keeps its id across recomputations while it is the same topic (a digest's link, a
bookmarked drill-down, a public page's ?topic= keep leading to it); a topic that is gone takes
its id with it, and its old links answer as for any unknown topic."""

from __future__ import annotations

from fractions import Fraction

import httpx
import pytest

from embedding.model import MULTILINGUAL_MODEL, Embedder, get_embedder
from reviews.collection import store as reviews
from reviews.insights import recompute
from reviews.insights.identity import FLOOR, Clause, carry
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.console.test_inbox import sign_in
from tests.insights.corpus import PRODUCT, Text, add, seed


def _clauses(*reviews: int) -> set[Clause]:
    return {(r, f"md5-{r}") for r in reviews}


def test_a_grown_or_shrunk_topic_keeps_its_id_and_a_new_one_has_none() -> None:
    old = {7: _clauses(1, 2, 3, 4), 9: _clauses(5, 6, 7)}
    assert carry(old, [_clauses(5, 6, 7, 8), _clauses(1, 2, 3), _clauses(10, 11, 12)]) == [9, 7, None]


def test_a_split_topic_keeps_its_id_on_its_larger_part_and_a_merger_takes_the_larger_ones() -> None:
    assert carry({7: _clauses(*range(10))}, [_clauses(0, 1, 2, 3), _clauses(4, 5, 6, 7, 8, 9)]) == [None, 7]
    assert carry({7: _clauses(0, 1, 2, 3), 8: _clauses(*range(4, 10))}, [_clauses(*range(10))]) == [8]


def test_below_the_floor_the_id_is_not_carried() -> None:
    assert FLOOR == Fraction(1, 3)
    assert carry({7: _clauses(1, 2)}, [_clauses(1, 2, 3, 4, 5, 6)]) == [7]  # 2 shared of 6: on the floor
    assert carry({7: _clauses(1, 2)}, [_clauses(1, 2, 3, 4, 5, 6, 7)]) == [None]  # 2 of 7
    assert carry({}, [_clauses(1)]) == [None] and carry({7: _clauses(1)}, []) == []


def test_one_old_id_goes_to_one_new_topic_and_ties_break_the_same_way_every_time() -> None:
    # Both new topics are exactly as close to both old ones: the earlier new topic takes the
    # smaller old id, whatever order the old ones come in.
    old = {9: _clauses(1, 2), 4: _clauses(1, 2)}
    new = [_clauses(1, 2), _clauses(1, 2)]
    assert carry(old, new) == [4, 9] == carry(dict(reversed(old.items())), new)
    # Closer first: the second new topic is the first old one's closest, the first gets none.
    assert carry({3: _clauses(1, 2, 3)}, [_clauses(1, 2, 3, 4), _clauses(1, 2, 3)]) == [None, 3]


# --- against a real database and the real multilingual model ---------------------------------------------------

STRAP = [Text("en", 2, "The strap broke."), Text("en", 1, "The strap broke."), Text("en", 2, "The strap broke.")]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(MULTILINGUAL_MODEL)


async def _topics(svc: Services, embedder: Embedder, merchant_id: int) -> dict[int, set[int]]:
    """Recomputes, then each topic's id and the reviews it holds."""
    await recompute.recompute(svc.pool, embedder, merchant_id, PRODUCT, svc.clock.now())
    rows = await svc.pool.fetch(
        """SELECT t.id, array_agg(DISTINCT m.review_id) AS reviews
           FROM topic_sets s JOIN topics t ON t.set_id = s.id JOIN topic_mentions m ON m.topic_id = t.id
           WHERE s.merchant_id = $1 AND s.product_id = $2 GROUP BY t.id""", merchant_id, PRODUCT)
    return {r["id"]: set(r["reviews"]) for r in rows}


@pytest.mark.slow
async def test_a_new_review_of_a_topic_keeps_every_id_and_the_same_reviews_keep_them_again(
        services: Services, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    await seed(services, m.id)
    before = await _topics(services, embedder, m.id)
    assert len(before) >= 2
    assert await _topics(services, embedder, m.id) == before  # the same input, the same ids
    new = await add(services, m.id, Text("en", 4, "Quick delivery, and the battery lasts long."), n=60)
    after = await _topics(services, embedder, m.id)
    assert set(after) == set(before)
    grown = [topic for topic, held in after.items() if new in held]
    assert grown and all(after[t] == before[t] | {new} for t in grown)


@pytest.mark.slow
async def test_a_withdrawn_review_leaves_the_other_topics_their_ids_and_a_gone_topic_takes_its_id_away(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    published, _ = await seed(services, m.id)
    strap = [await add(services, m.id, text, n=70 + i) for i, text in enumerate(STRAP)]
    before = await _topics(services, embedder, m.id)
    strap_topic = next(t for t, held in before.items() if held == set(strap))
    assert len(before) >= 3

    async with services.pool.acquire() as conn:
        await reviews.withdraw(conn, published[0], services.clock.now())
    after = await _topics(services, embedder, m.id)
    assert set(after) == set(before)
    assert all(after[t] == before[t] - {published[0]} for t in before)

    # Two buyers left for the strap: too few to be shown, so the topic and its id are gone...
    async with services.pool.acquire() as conn:
        await reviews.withdraw(conn, strap[0], services.clock.now())
    gone = await _topics(services, embedder, m.id)
    assert set(gone) == set(before) - {strap_topic}
    # ... and its drill-down (an old digest's link) answers as for any unknown topic.
    await sign_in(client, services, "owner@example.com", "owner")
    r = await client.get(f"/console/m/demo-shop/insights/topics/{strap_topic}")
    assert r.status_code == 303 and r.headers["location"] == "/console/m/demo-shop/insights?gone=1"
    kept = next(iter(gone))
    assert (await client.get(f"/console/m/demo-shop/insights/topics/{kept}")).status_code == 200

    # The strap back with a third buyer: a new topic, a new id (the old one stays dead).
    await add(services, m.id, Text("en", 1, "The strap broke."), n=80)
    back = await _topics(services, embedder, m.id)
    assert len(back) == len(before) and strap_topic not in back
