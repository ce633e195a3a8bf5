"""A small product whose buyers write in six languages about two things (delivery, the battery),
with reviews in every state that must never be counted, for the insights tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reviews.platform.services import Services

PRODUCT = "LAMP-1"
AT = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Text:
    lang: str
    rating: int
    body: str
    title: str = ""


PUBLISHED = [
    Text("en", 5, "Fast delivery, and the battery lasts two full days.", "Great lamp"),
    Text("en", 1, "The battery died after a week. Delivery was quick though."),
    Text("es", 5, "Envío rápido. La batería dura muchísimo."),
    Text("it", 2, "Consegna veloce, ma la batteria dura pochissimo."),
    Text("pl", 4, "Szybka dostawa. Bateria trzyma bardzo długo."),
    Text("de", 5, "Schnelle Lieferung, der Akku hält zwei Tage."),
    Text("fr", 4, "Livraison rapide, la batterie tient deux jours."),
    Text("ro", 3, "Livrare rapidă, dar bateria ține doar o zi."),
]
# Each says the same two things, and must never be counted or quoted.
HIDDEN = {
    "held": Text("en", 1, "HIDDEN held: slow delivery and the battery is dead."),
    "pending": Text("en", 1, "HIDDEN pending: the delivery was fast, the battery weak."),
    "rejected": Text("en", 1, "HIDDEN rejected: delivery was fast and the battery lasts."),
    "withdrawn": Text("en", 1, "HIDDEN withdrawn: quick delivery, battery lasts long."),
}


async def add(svc: Services, merchant_id: int, text: Text, *, n: int, state: str = "published",
              product_id: str | None = PRODUCT, author: str | None = None) -> int:
    """A review by its own author (`author`, else one per `n`)."""
    at = AT + timedelta(minutes=n)
    return int(await svc.pool.fetchval(
        """INSERT INTO reviews (merchant_id, product_id, product_name, method, rating, title, body, display_name,
                                author_hash, locale, state, submitted_at, published_at)
           VALUES ($1, $2, 'Reading lamp', 'invited', $3, $4, $5, $6, $7, $8, $9, $10, $11)
           RETURNING id""",
        merchant_id, product_id, text.rating, text.title, text.body, f"Buyer {n}", author or f"author-{n}",
        text.lang, state, at, at if state == "published" else None))


async def seed(svc: Services, merchant_id: int, product_id: str | None = PRODUCT) -> tuple[list[int], dict[str, int]]:
    """The published reviews' ids, and the hidden ones' by state."""
    published = [await add(svc, merchant_id, t, n=i, product_id=product_id) for i, t in enumerate(PUBLISHED)]
    hidden = {state: await add(svc, merchant_id, t, n=100 + i, state=state, product_id=product_id)
              for i, (state, t) in enumerate(HIDDEN.items())}
    return published, hidden
