"""jsonld.json within Google's review-snippet rules: a product's stars only where it has reviews, its
name and image as its orders gave them, no self-serving stars for the shop, and a 404 for a
product the shop does not have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.widgets.feed_support import SHOES, order, review

WRITTEN = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
IMPORTED = datetime(2024, 11, 2, 14, 3, 11, tzinfo=UTC)
JSONLD = "/widgets/v1/demo-shop/jsonld.json"


async def _shop(services: Services, merchant: tuple[Merchant, str]) -> Merchant:
    shop = merchant[0]
    a1 = await order(services, shop, "A-1", products=[SHOES, {"id": "SKU-3", "name": "Gaiters"}])
    await review(services, shop, 5, written=WRITTEN, order_pk=a1, edited=WRITTEN + timedelta(days=2))
    await review(services, shop, 3, written=IMPORTED, method="imported", title="Okay", body="Fine shoes.")
    await review(services, shop, 1, written=WRITTEN, state="held", title="HIDDEN", body="HIDDEN")
    await review(services, shop, 4, written=WRITTEN, product_id=None, product_name=None, title="The shop",
                 body="Fast shipping.")
    return shop


async def test_a_product_has_its_orders_name_and_its_reviews_stars(client: httpx.AsyncClient, services: Services,
                                                                   merchant: tuple[Merchant, str]) -> None:
    await _shop(services, merchant)
    r = await client.get(f"{JSONLD}?product=SKU-1")
    assert r.status_code == 200 and r.headers["content-type"] == "application/ld+json; charset=utf-8"
    doc = r.json()
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "Product"
    assert doc["name"] == "Trail running shoes"  # what the orders call it, not the reviews' "Trail shoes"
    assert doc["image"] == "https://shop.example/i/1.jpg" and doc["url"] == "https://shop.example/p/1"
    assert (doc["productID"], doc["sku"], doc["gtin"], doc["mpn"]) == ("SKU-1", "TLA-39-PET", "4006381333931",
                                                                        "TR-39")
    assert doc["brand"] == {"@type": "Brand", "name": "Bergwerk"}
    assert doc["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.0, "reviewCount": 2,
                                      "bestRating": 5, "worstRating": 1}
    newest, older = doc["review"]
    assert newest["datePublished"] == "2025-03-14" and newest["dateModified"] == "2025-03-16"
    assert newest["author"] == {"@type": "Person", "name": "Lena H."} and newest["name"] == "Great grip"
    assert newest["reviewRating"] == {"@type": "Rating", "ratingValue": 5, "bestRating": 5, "worstRating": 1}
    assert older["datePublished"] == "2024-11-02"  # the imported review's own date, not the import's
    assert "HIDDEN" not in r.text


async def test_a_product_without_published_reviews_carries_no_rating(client: httpx.AsyncClient,
                                                                     services: Services,
                                                                     merchant: tuple[Merchant, str]) -> None:
    await _shop(services, merchant)
    doc = (await client.get(f"{JSONLD}?product=SKU-3")).json()
    assert doc["@type"] == "Product" and doc["name"] == "Gaiters"
    assert "aggregateRating" not in doc and "review" not in doc


async def test_an_unknown_product_is_a_404(client: httpx.AsyncClient, services: Services,
                                           merchant: tuple[Merchant, str]) -> None:
    await _shop(services, merchant)
    for path in (f"{JSONLD}?product=NOPE", f"{JSONLD}?product=HIDDEN-only"):
        r = await client.get(path)
        assert r.status_code == 404
        assert r.json() == {"error": {"code": "not_found", "message": "No such product in this shop.", "fields": {}}}
        assert r.headers["access-control-allow-origin"] == "*"
    # A product with only a held review is not one the shop shows.
    await review(services, merchant[0], 1, written=WRITTEN, product_id="HELD-ONLY", state="held")
    assert (await client.get(f"{JSONLD}?product=HELD-ONLY")).status_code == 404


async def test_the_shop_gets_no_self_serving_stars(client: httpx.AsyncClient, services: Services,
                                                   merchant: tuple[Merchant, str]) -> None:
    shop = await _shop(services, merchant)
    doc = (await client.get(JSONLD)).json()
    assert doc == {"@context": "https://schema.org", "@type": "Organization", "name": "Demo Shop"}
    async with services.pool.acquire() as conn:
        await merchants.update_settings(conn, shop, {"name": "Bergwerk Outdoor", "domains": ["bergwerk.example"]})
    doc = (await client.get(JSONLD)).json()
    assert doc == {"@context": "https://schema.org", "@type": "Organization", "name": "Bergwerk Outdoor",
                   "url": "https://bergwerk.example/"}


async def test_jsonld_cannot_close_a_script_tag(client: httpx.AsyncClient, services: Services,
                                                merchant: tuple[Merchant, str]) -> None:
    await review(services, merchant[0], 5, written=WRITTEN, body="</script><script>alert(1)</script>",
                 product_name="<b>&</b>")
    r = await client.get(f"{JSONLD}?product=SKU-1")
    assert "<" not in r.text and ">" not in r.text and "&" not in r.text
    assert r.json()["review"][0]["reviewBody"] == "</script><script>alert(1)</script>"
    assert r.json()["name"] == "<b>&</b>"


async def test_the_openapi_document_says_what_the_widgets_answer(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    jsonld = paths["/widgets/v1/{slug}/jsonld.json"]["get"]
    assert set(jsonld["responses"]) >= {"200", "304", "404", "422"}
    assert "application/ld+json" in jsonld["responses"]["200"]["content"]
    assert "self-serving" in jsonld["description"]
    for feed in ("feed.xml", "merchant-feed.xml"):
        answer = paths[f"/widgets/v1/{{slug}}/{feed}"]["get"]
        assert set(answer["responses"]) >= {"200", "304", "404", "503"}
        assert "application/xml" in answer["responses"]["200"]["content"]


async def test_a_product_id_no_product_can_have_is_refused_not_a_500(client: httpx.AsyncClient,
                                                                    merchant: tuple[Merchant, str]) -> None:
    # A NUL is refused where text enters the app (400 in a query, 404 in a path); a long id by the widgets.
    for path, status in (("jsonld.json?product=a%00b", 400), ("summary.json?product=%00", 400),
                         ("reviews.json?product=x%00", 400), ("products/a%00b/summary.json", 404)):
        r = await client.get(f"/widgets/v1/demo-shop/{path}")
        assert r.status_code == status, path
        assert r.json()["error"]["code"] in ("bad_request", "not_found")
    r = await client.get(f"/widgets/v1/demo-shop/jsonld.json?product={'x' * 201}")
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"product"}


async def test_a_new_order_renames_the_product_at_once(client: httpx.AsyncClient, services: Services,
                                                       merchant: tuple[Merchant, str]) -> None:
    shop = await _shop(services, merchant)
    first = await client.get(f"{JSONLD}?product=SKU-1")
    assert first.json()["name"] == "Trail running shoes"
    services.clock.advance(minutes=1)  # type: ignore[attr-defined]
    await order(services, shop, "A-2", products=[{**SHOES, "name": "Trail running shoes II",
                                                  "image_url": "https://shop.example/i/2.jpg"}])
    again = await client.get(f"{JSONLD}?product=SKU-1", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.json()["name"] == "Trail running shoes II" and again.json()["image"] == "https://shop.example/i/2.jpg"
