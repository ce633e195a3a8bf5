"""ratings.json: the star snippets of a whole collection page in one request."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.helpers import add_review
from tests.widgets.storefront import Storefront, storefront

URL = "/widgets/v1/demo-shop/ratings.json"


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Storefront:
    return await storefront(services, merchant[0])


async def test_one_request_answers_every_product_asked_and_the_shop(client: httpx.AsyncClient, shop: Storefront):
    r = await client.get(URL + "?products=SKU-1,SKU-2,NOPE")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert r.json() == {
        "shop": {"average": 3.43, "count": 7},  # published only, of this shop only
        "products": {"SKU-1": {"average": 3.0, "count": 5}, "SKU-2": {"average": 4.0, "count": 1},
                     "NOPE": {"average": None, "count": 0}},
    }
    assert (await client.get(URL)).json() == {"shop": {"average": 3.43, "count": 7}, "products": {}}


@pytest.mark.parametrize("product", ["a,b", "shoes/trail", "..", "50% off?#&", "żółw", "a+b", " spaced "])
async def test_any_product_id_can_be_asked(client: httpx.AsyncClient, services: Services, shop: Storefront,
                                           product: str):
    await add_review(services, shop.merchant.id, 2, product_id=product)
    # As embed.js asks: each id encoded, the commas between them not.
    r = await client.get(URL + "?products=" + ",".join(quote(p, safe="") for p in ("SKU-2", product)))
    assert r.json()["products"] == {"SKU-2": {"average": 4.0, "count": 1}, product: {"average": 2.0, "count": 1}}


async def test_repeats_count_once_and_an_empty_id_is_refused(client: httpx.AsyncClient, shop: Storefront):
    r = await client.get(URL + "?products=SKU-2,SKU-2&products=SKU-1")
    assert list(r.json()["products"]) == ["SKU-2", "SKU-1"]
    for query in ("products=SKU-2,,SKU-1", "products=SKU-2,", "products=,"):
        r = await client.get(f"{URL}?{query}")
        assert r.status_code == 422 and r.json()["error"]["fields"] == {"products": "no id may be empty"}, query


async def test_at_most_100_products_in_one_request(client: httpx.AsyncClient, shop: Storefront):
    hundred = ",".join(f"P{i}" for i in range(100))
    r = await client.get(f"{URL}?products={hundred}")
    assert r.status_code == 200 and len(r.json()["products"]) == 100
    r = await client.get(f"{URL}?products={hundred},P100")
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "invalid", "message": "The request has invalid fields.",
                                 "fields": {"products": "at most 100 products in one request"}}
    long = await client.get(f"{URL}?products=SKU-1,{'x' * 201}")
    assert long.status_code == 422 and long.json()["error"]["fields"] == {"products": "each id at most 200 characters"}


async def test_unknown_shop_and_caching(client: httpx.AsyncClient, services: Services, shop: Storefront):
    assert (await client.get("/widgets/v1/no-shop/ratings.json?products=SKU-1")).status_code == 404
    first = await client.get(URL + "?products=SKU-2")
    assert first.headers["cache-control"].startswith("public, max-age=60")
    again = await client.get(URL + "?products=SKU-2", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    await add_review(services, shop.merchant.id, 1, product_id="SKU-2")
    changed = await client.get(URL + "?products=SKU-2", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["products"]["SKU-2"] == {"average": 2.5, "count": 2}
