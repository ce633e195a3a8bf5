"""A shop as the storefront tests see it: reviews in three languages, a reply, an import with its own old
date, an edit, hidden reviews and another shop's; and its registered websites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from reviews.collection import replies
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import HOSTILE, add_review

WRITTEN_2024 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@dataclass
class Storefront:
    merchant: Merchant
    ids: dict[str, int]


async def set_domains(services: Services, merchant_id: int, domains: object) -> None:
    """The shop's registered websites, as the `domains` setting holds them (written here directly: any
    value, malformed ones too, to check that the widgets read it defensively)."""
    await services.pool.execute("UPDATE merchants SET settings = settings || $2::jsonb WHERE id = $1",
                                merchant_id, {"domains": domains})


async def written_at(services: Services, review_id: int, when: datetime) -> None:
    await services.pool.execute("UPDATE reviews SET submitted_at = $2 WHERE id = $1", review_id, when)


async def storefront(services: Services, merchant: Merchant) -> Storefront:
    """demo-shop, in order of writing: on SKU-1 (Trail shoes) an imported German 3 written in 2024, an
    English 5 with the shop's reply, a Polish 4, an edited English 1 and a hostile 2; a shop review (5);
    SKU-2 (Merino socks) an English 4; and reviews that must never show."""
    m = merchant
    ids = {
        "imported_de": await add_review(services, m.id, 3, product_id="SKU-1", product_name="Trail shoes",
                                        method="imported", title="Alte Bewertung", body="Gut.", locale="de-DE",
                                        display_name="Jonas"),
        "replied_en": await add_review(services, m.id, 5, product_id="SKU-1", product_name="Trail shoes",
                                       title="Great grip", body="Held on wet rock.", display_name="Anna K."),
        "polish": await add_review(services, m.id, 4, product_id="SKU-1", product_name="Trail shoes",
                                   title="Dobre buty", body="Wygodne.", locale="pl-PL", display_name="Ola"),
        "edited_en": await add_review(services, m.id, 1, product_id="SKU-1", product_name="Trail shoes",
                                      title="Fell apart", body="Sole came off.", edited=True, display_name="Ben"),
        "hostile": await add_review(services, m.id, 2, product_id="SKU-1", product_name="Trail shoes",
                                    title=HOSTILE, body=HOSTILE, display_name=HOSTILE),
        "shop": await add_review(services, m.id, 5, title="Fast delivery", body="Two days.", display_name="Eve"),
        "socks": await add_review(services, m.id, 4, product_id="SKU-2", product_name="Merino socks",
                                  title="Warm", body="Warm socks."),
    }
    await written_at(services, ids["imported_de"], WRITTEN_2024)
    for state in ("held", "pending", "rejected", "withdrawn"):
        await add_review(services, m.id, 1, state=state, product_id="SKU-1", title=f"HIDDEN-{state}")
    async with services.pool.acquire() as conn:
        other, _ = await merchants.create(conn, name="Other Shop", slug="other-shop", locale="de")
        await replies.save(conn, merchant_id=m.id, review_id=ids["replied_en"], text="Thank you, Anna!",
                           author="Demo Shop", user_id=None, now=services.clock.now())
    await add_review(services, other.id, 1, product_id="SKU-1", title="LEAKED-other-shop")
    return Storefront(m, ids)
