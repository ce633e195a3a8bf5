"""Recomputing a product's topics against a real database and the real multilingual model: only
published reviews count, every figure is a count of them, every quote one of their clauses, the
job is debounced, and a withdrawn or erased review leaves at the next recomputation."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import httpx
import pytest

from embedding.model import MULTILINGUAL_MODEL, Embedder, get_embedder
from reviews.collection import store as reviews
from reviews.insights import recompute
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.insights.corpus import HIDDEN, PRODUCT, PUBLISHED, Text, add, seed

TOPICS_URL = f"/widgets/v1/demo-shop/products/{PRODUCT}/topics.json"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(MULTILINGUAL_MODEL)


async def _recompute(svc: Services, embedder: Embedder, merchant_id: int,
                     product_id: str | None = PRODUCT) -> recompute.Outcome:
    return await recompute.recompute(svc.pool, embedder, merchant_id, product_id, svc.clock.now())


async def _topics(client: httpx.AsyncClient, url: str = TOPICS_URL, **params: str) -> dict[str, Any]:
    r = await client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def _stored(svc: Services, merchant_id: int, product_id: str | None = PRODUCT) -> list[dict[str, Any]]:
    """Each stored topic with its figures and the reviews its clauses come from."""
    rows = await svc.pool.fetch(
        """SELECT t.position, t.review_count, t.stars_high, t.stars_mid, t.stars_low, t.languages, t.main_language,
                  array_agg(DISTINCT m.review_id ORDER BY m.review_id) AS reviews,
                  array_agg(m.review_id || ':' || m.field || ':' || m.start_at || ':' || m.end_at || ':'
                            || m.is_label || ':' || coalesce(m.quote_rank, 0) ORDER BY m.review_id, m.start_at)
                      AS mentions
           FROM topic_sets s JOIN topics t ON t.set_id = s.id JOIN topic_mentions m ON m.topic_id = t.id
           WHERE s.merchant_id = $1 AND s.product_id IS NOT DISTINCT FROM $2
           GROUP BY t.id ORDER BY t.position""", merchant_id, product_id)
    return [dict(r) for r in rows]


async def test_topics_count_only_published_reviews_and_quote_their_words(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    _, hidden = await seed(services, m.id)
    outcome = await _recompute(services, embedder, m.id)
    assert outcome.reviews == len(PUBLISHED) and outcome.embedded == len(PUBLISHED)
    assert outcome.topics >= 2  # delivery and the battery, each in six or more languages

    stored = await _stored(services, m.id)
    texts = {r["id"]: r for r in await services.pool.fetch(
        "SELECT id, title, body, rating, state, product_id FROM reviews WHERE merchant_id = $1", m.id)}
    for topic in stored:
        # Every count is the number of distinct published reviews assigned to the topic.
        assert topic["review_count"] == len(topic["reviews"]) >= 3
        assert all(texts[r]["state"] == "published" for r in topic["reviews"])
        ratings = [texts[r]["rating"] for r in topic["reviews"]]
        assert (topic["stars_high"], topic["stars_mid"], topic["stars_low"]) == (
            sum(r >= 4 for r in ratings), sum(r == 3 for r in ratings), sum(r <= 2 for r in ratings))
        assert set(topic["reviews"]).isdisjoint(hidden.values())
    assert max(len(t["languages"]) for t in stored) >= 5  # merged across languages

    body = await _topics(client)
    assert body["reviews"] == len(PUBLISHED) and len(body["topics"]) == len(stored)
    for topic in body["topics"]:
        assert topic["reviews"] == sum(topic["stars"].values())
        assert 1 <= len(topic["quotes"]) <= 3
        assert len({q["review_id"] for q in topic["quotes"]}) == len(topic["quotes"])
        for phrase in [topic["label"], *topic["quotes"]]:
            review = texts[phrase["review_id"]]
            # Verbatim: a span of a published review of this very product.
            assert review["state"] == "published" and review["product_id"] == PRODUCT
            assert phrase["text"] in review["body"] or phrase["text"] in review["title"]
    assert "HIDDEN" not in str(body)


async def test_the_same_reviews_give_the_same_topics(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    await seed(services, m.id)
    await _recompute(services, embedder, m.id)
    first, first_json = await _stored(services, m.id), await _topics(client)
    again = await _recompute(services, embedder, m.id)
    assert again.embedded == 0  # every clause came from the cache
    second, second_json = await _stored(services, m.id), await _topics(client)
    assert first == second and first
    assert first_json["topics"] == second_json["topics"]  # ids included: the same topics keep theirs


async def test_a_withdrawn_review_leaves_its_quotes_at_once_and_the_counts_at_the_next_recomputation(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    await seed(services, m.id)
    await _recompute(services, embedder, m.id)
    before = await _topics(client)
    quoted = before["topics"][0]["quotes"][0]["review_id"]
    counts_before = {t["label"]["text"]: t["reviews"] for t in before["topics"]}

    async with services.pool.acquire() as conn:
        await reviews.withdraw(conn, quoted, services.clock.now())
    job = await services.pool.fetchrow("SELECT payload, run_at FROM jobs WHERE kind = $1", reviews.TOPICS_JOB)
    assert job["payload"] == {"merchant_id": m.id, "product_id": PRODUCT}
    assert job["run_at"] > services.clock.now()  # debounced: not at once

    # Its words are gone from the answer before the job even runs; the counts wait for it.
    between = await _topics(client)
    assert quoted not in {q["review_id"] for t in between["topics"] for q in t["quotes"]}
    assert quoted != between["topics"][0]["label"]["review_id"]

    async with make_worker(services) as worker:
        assert await worker.drain() == 0  # not due yet
        services.clock.advance(reviews.TOPICS_WINDOW + reviews.TOPICS_GRACE)
        assert await worker.drain() == 1
    assert quoted not in {r for t in await _stored(services, m.id) for r in t["reviews"]}
    after = await _topics(client)
    assert after["reviews"] == len(PUBLISHED) - 1
    assert sum(t["reviews"] for t in after["topics"]) < sum(counts_before.values())
    # The withdrawn review's clause vectors are forgotten with it.
    assert not await services.pool.fetchval("SELECT count(*) FROM clause_vectors WHERE review_id = $1", quoted)


async def test_an_erased_or_held_review_leaves_every_topic(
        services: Services, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    await seed(services, m.id)
    await _recompute(services, embedder, m.id)
    assigned = {r for t in await _stored(services, m.id) for r in t["reviews"]}
    erased, held = sorted(assigned)[:2]
    async with services.pool.acquire() as conn, conn.transaction():
        await reviews.erase(conn, [erased], services.clock.now())
        await reviews.hold_many(conn, [held], services.clock.now())
    await _recompute(services, embedder, m.id)
    left = {r for t in await _stored(services, m.id) for r in t["reviews"]}
    assert erased not in left and held not in left
    assert not await services.pool.fetchval("SELECT count(*) FROM clause_vectors WHERE review_id = $1", erased)


async def test_one_job_per_product_however_many_reviews_arrive(
        services: Services, merchant: tuple[Merchant, str]) -> None:
    m = merchant[0]
    ids = [await add(services, m.id, t, n=i, state="pending") for i, t in enumerate(PUBLISHED)]
    shop_review = await add(services, m.id, PUBLISHED[0], n=50, state="pending", product_id=None)
    async with services.pool.acquire() as conn:
        for review_id in [*ids, shop_review]:
            await reviews.publish(conn, review_id, services.clock.now())
            services.clock.advance(seconds=1)
    rows = await services.pool.fetch("SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", reviews.TOPICS_JOB)
    assert [r["payload"]["product_id"] for r in rows] == [PRODUCT, None]  # one for the product, one for the shop
    # A change in the next window, while this window's job may be running, gets a job of its own.
    services.clock.advance(reviews.TOPICS_WINDOW)
    async with services.pool.acquire() as conn:
        await reviews.withdraw(conn, ids[0], services.clock.now())
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", reviews.TOPICS_JOB) == 3


async def test_an_edited_review_is_embedded_again_and_only_it(
        services: Services, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    published, _ = await seed(services, m.id)
    await _recompute(services, embedder, m.id)
    await services.pool.execute("UPDATE reviews SET body = $2 WHERE id = $1", published[2],
                                "Envío lentísimo. La batería dura muchísimo.")
    outcome = await _recompute(services, embedder, m.id)
    assert outcome.embedded == 1 and outcome.reviews == len(PUBLISHED)


async def test_the_shop_reviews_have_topics_of_their_own(
        services: Services, client: httpx.AsyncClient, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    await seed(services, m.id)  # the product's
    for i, text in enumerate(PUBLISHED[:5]):  # and the shop's own, about the same things
        await add(services, m.id, Text(text.lang, text.rating, text.body), n=200 + i, product_id=None)
    assert (await _recompute(services, embedder, m.id, None)).reviews == 5
    shop = await _topics(client, "/widgets/v1/demo-shop/topics.json")
    assert shop["product_id"] is None and shop["reviews"] == 5 and shop["topics"]
    assert all(t["reviews"] <= 5 for t in shop["topics"])
    product_reviews = {r["id"] for r in await services.pool.fetch(
        "SELECT id FROM reviews WHERE product_id IS NOT NULL")}
    assert not product_reviews & {q["review_id"] for t in shop["topics"] for q in t["quotes"]}


def test_hidden_texts_really_speak_of_the_same_things() -> None:
    """The hidden reviews would be grouped with the others if they were read: so their absence above
    is the state filter's doing, not the grouping's."""
    assert all("delivery" in t.body and "battery" in t.body for t in HIDDEN.values())


async def test_the_job_runs_from_the_worker(
        services: Services, merchant: tuple[Merchant, str]) -> None:
    m = merchant[0]
    ids = [await add(services, m.id, t, n=i, state="pending") for i, t in enumerate(PUBLISHED)]
    async with services.pool.acquire() as conn:
        for review_id in ids:
            await reviews.publish(conn, review_id, services.clock.now())
    services.clock.advance(reviews.TOPICS_WINDOW + reviews.TOPICS_GRACE + timedelta(seconds=1))
    async with make_worker(services) as worker:
        await worker.drain()
    assert await services.pool.fetchval(
        "SELECT state FROM jobs WHERE kind = $1", reviews.TOPICS_JOB) == "done"
    assert await _stored(services, m.id)


async def test_with_the_multilingual_channel_off_jobs_only_forget_what_left(
        services: Services, merchant: tuple[Merchant, str], embedder: Embedder) -> None:
    m = merchant[0]
    published, _ = await seed(services, m.id)
    await _recompute(services, embedder, m.id)
    before = await _stored(services, m.id)
    services.settings = dataclasses.replace(services.settings, multilingual_model=None)
    async with services.pool.acquire() as conn:
        await reviews.withdraw(conn, published[0], services.clock.now())
    services.clock.advance(reviews.TOPICS_WINDOW + reviews.TOPICS_GRACE)
    async with make_worker(services) as worker:
        assert await worker.drain() == 1
    assert await services.pool.fetchval("SELECT state FROM jobs WHERE kind = $1", reviews.TOPICS_JOB) == "done"
    assert not await services.pool.fetchval(
        "SELECT count(*) FROM clause_vectors WHERE review_id = $1", published[0])
    assert await _stored(services, m.id) == before  # nothing recomputed (the quote filter still hides it)
