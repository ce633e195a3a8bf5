"""The shop's public reply on the buyer's own review page (/r/<token>): shown under the review it
answers, escaped, with its label in the buyer's language; not under a withdrawn review."""

from __future__ import annotations

import html

import httpx
import pytest

from reviews.collection import replies
from reviews.collection import store as reviews
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import SUPPORTED_LOCALES
from tests.helpers import HOSTILE, form_of, invite

Fixture = tuple[Merchant, str]
LABELS = {"en": "Reply from Demo Shop", "de": "Antwort von Demo Shop", "es": "Respuesta de Demo Shop",
          "it": "Risposta di Demo Shop", "pl": "Odpowiedź sklepu Demo Shop", "ro": "Răspunsul magazinului Demo Shop",
          "fr": "Réponse de Demo Shop"}


async def _reviewed(client: httpx.AsyncClient, services: Services, key: str) -> tuple[str, int, int]:
    """A buyer's published review of the product and of the shop: (their link, product review, shop review)."""
    path = await invite(client, services, key, locale="de")
    form = await form_of(client, path)
    r = await client.post(path, data={**form.fields, "rating_0": "4", "body_0": "Bequeme Schuhe, gut verpackt.",
                                      "rating_shop": "5", "body_shop": "Schnelle Lieferung, netter Kontakt."})
    assert r.status_code == 200
    rows = {r["product_id"]: r["id"] for r in await services.pool.fetch("SELECT id, product_id FROM reviews")}
    async with services.pool.acquire() as conn:
        for review_id in rows.values():
            await reviews.publish(conn, review_id, services.clock.now())
    return path, next(v for k, v in rows.items() if k is not None), rows[None]


def _item(page: str, key: str) -> str:
    """The page's part about one review (a product's position, or "shop"), up to the next one."""
    start = page.index(f'id="item-{key}"')
    ends = [i for i in (page.find('<fieldset class="item"', start), page.find("<section", start)) if i != -1]
    return page[start:min(ends)]


@pytest.mark.slow
async def test_the_shops_reply_is_shown_escaped_under_the_review_it_answers(
        client: httpx.AsyncClient, merchant: Fixture, services: Services) -> None:
    path, product_review, _shop_review = await _reviewed(client, services, merchant[1])
    before = (await client.get(path)).text
    assert "Antwort von" not in before and 'class="reply"' not in before

    text = f"Danke, Anna! {HOSTILE}\nWir freuen uns."
    async with services.pool.acquire() as conn:
        await replies.save(conn, merchant_id=merchant[0].id, review_id=product_review, text=text,
                           author="agent@example.com", user_id=None, now=services.clock.now())
    page = (await client.get(path)).text
    assert HOSTILE not in page and "<script>alert" not in page  # escaped, never markup
    product = _item(page, "0")
    assert "Antwort von Demo Shop" in product
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in product and "Wir freuen uns." in product
    assert html.unescape(product).count(HOSTILE) == 1  # the whole text, as written
    # Under the review: after the buyer's own text, inside its fieldset; the shop review has none.
    assert product.index("Bequeme Schuhe") < product.index('class="reply"')
    assert 'class="reply"' not in _item(page, "shop")
    assert page.count('class="reply"') == 1


@pytest.mark.slow
async def test_the_reply_label_speaks_every_language(client: httpx.AsyncClient, merchant: Fixture,
                                                     services: Services) -> None:
    path, _product_review, shop_review = await _reviewed(client, services, merchant[1])
    async with services.pool.acquire() as conn:
        await replies.save(conn, merchant_id=merchant[0].id, review_id=shop_review, text="Thank you!",
                           author="agent@example.com", user_id=None, now=services.clock.now())
    for lang in SUPPORTED_LOCALES:
        page = (await client.get(f"{path}?lang={lang}")).text
        shop = _item(page, "shop")
        assert LABELS[lang] in shop and "Thank you!" in shop, lang
        if lang != "en":
            assert LABELS["en"] not in page, lang


@pytest.mark.slow
async def test_a_withdrawn_review_shows_no_reply(client: httpx.AsyncClient, merchant: Fixture,
                                                 services: Services) -> None:
    path, product_review, _shop_review = await _reviewed(client, services, merchant[1])
    async with services.pool.acquire() as conn:
        await replies.save(conn, merchant_id=merchant[0].id, review_id=product_review, text="Danke für das Lob!",
                           author="agent@example.com", user_id=None, now=services.clock.now())
        assert "Danke für das Lob!" in (await client.get(path)).text
        invitation_id = await conn.fetchval("SELECT invitation_id FROM reviews WHERE id = $1", product_review)
        product_id = await conn.fetchval("SELECT product_id FROM reviews WHERE id = $1", product_review)
        await reviews.withdraw_by_buyer(conn, invitation_id=invitation_id, product_id=product_id,
                                        now=services.clock.now())
    page = (await client.get(path)).text
    assert "Danke für das Lob!" not in page and 'class="reply"' not in page
