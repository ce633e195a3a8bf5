"""Topics as a recomputation leaves them (`reviews.insights.store.replace`), built by hand: which review
mentions each topic with which of its own words, so a test knows every count and every span."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reviews.insights import store
from reviews.insights.topics import Mention, Placed, Topic, band
from reviews.platform.services import Services


@dataclass(frozen=True)
class Said:
    review_id: int
    words: str  # verbatim, in the review's title or body
    field: str = "body"
    label: bool = False


async def save_topics(services: Services, merchant_id: int, product_id: str, topics: list[list[Said]]) -> list[int]:
    """The product's topics, most mentioned first; their ids."""
    built = []
    for position, said in enumerate(topics):
        placed = []
        for s in said:
            row = await services.pool.fetchrow("SELECT title, body, rating, locale, display_name FROM reviews "
                                               "WHERE id = $1", s.review_id)
            text = row[s.field]
            start = text.index(s.words)
            lang = (row["locale"] or "en")[:2]
            mention = Mention(s.review_id, s.field, start, start + len(s.words), s.words, lang, row["rating"],
                              row["display_name"])
            placed.append(Placed(mention, 1.0, label=s.label, quote_rank=None if s.label else 1))
        reviews = {p.mention.review_id: p.mention for p in placed}
        stars = Counter(band(m.rating) for m in reviews.values())
        languages = Counter(m.language for m in reviews.values())
        built.append(Topic(position, len(reviews), {b: stars[b] for b in ("high", "mid", "low")}, dict(languages),
                           languages.most_common(1)[0][0], placed))
    async with services.pool.acquire() as conn, conn.transaction():
        set_id = await store.replace(conn, merchant_id, product_id, "test", len(built), built,
                                     services.clock.now())
    return [r["id"] for r in await services.pool.fetch("SELECT id FROM topics WHERE set_id = $1 ORDER BY position",
                                                       set_id)]
