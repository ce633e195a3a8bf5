"""Photos everywhere a review is shown (issue 23): reviews.json, its "with photos" filter, the public
shop and product pages, the SEO fragment, the JSON-LD `image` and the product feed's `reviewer_images`.
Only a photo a moderator approved, of a published review, is ever shown; a waiting or refused one never."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from reviews.platform.settings import Settings
from tests.helpers import HOSTILE
from tests.widgets.feed_support import BASE_URL, order, parse, product_feed_schema, review, settings_at
from tests.widgets.photo_support import add_photo

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

WRITTEN = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PHOTO_URL = re.compile(re.escape(BASE_URL) + r"/photos/([A-Za-z0-9_-]+)/(photo|thumb)\.webp")


@pytest.fixture
def settings(tmp_path: Path, dsn: str) -> Settings:
    return settings_at(tmp_path, dsn)


class Shop:
    def __init__(self, merchant: Merchant, shown: list[str], hidden: list[str], captioned: int, plain: int) -> None:
        self.merchant, self.shown, self.hidden, self.captioned, self.plain = merchant, shown, hidden, captioned, plain


@pytest.fixture
async def shop(services: Services, merchant: tuple[Merchant, str]) -> Shop:
    """demo-shop's shoes: a review with two approved photos (one captioned) and a waiting one, a review whose
    only photo was refused, one without photos; and a held review whose approved photo must not show."""
    m = merchant[0]
    pk = await order(services, m, "A-1")
    captioned = await review(services, m, 5, written=WRITTEN, order_pk=pk, display_name="Anna K.", locale="en")
    first = await add_photo(services, m.id, captioned, caption="Sole after 200 km")
    second = await add_photo(services, m.id, captioned, size=(1500, 2000))
    waiting = await add_photo(services, m.id, captioned, "pending")
    refused_review = await review(services, m, 4, written=WRITTEN.replace(day=15), locale="en", title="Refused photo")
    refused = await add_photo(services, m.id, refused_review, "rejected")
    plain = await review(services, m, 3, written=WRITTEN.replace(day=16), locale="en", title="No photo")
    held = await review(services, m, 1, written=WRITTEN, state="held", title="HIDDEN")
    held_photo = await add_photo(services, m.id, held)
    return Shop(m, [first.public_key, second.public_key], [waiting.public_key, refused.public_key,
                                                          held_photo.public_key], captioned, plain)


def _no_hidden(text: str, shop: Shop) -> None:
    for key in shop.hidden:
        assert key not in text


async def test_reviews_json_lists_approved_photos_with_sizes_and_alt_text(client: httpx.AsyncClient,
                                                                         shop: Shop) -> None:
    r = await client.get("/widgets/v1/demo-shop/reviews.json", params={"product": "SKU-1", "lang": "en"})
    assert r.status_code == 200
    _no_hidden(r.text, shop)
    by_id = {x["id"]: x for x in r.json()["reviews"]}
    photos = by_id[shop.captioned]["photos"]
    assert [PHOTO_URL.fullmatch(p["url"]).group(1) for p in photos] == shop.shown  # type: ignore[union-attr]
    assert [p["thumb_url"] for p in photos] == [f"{BASE_URL}/photos/{k}/thumb.webp" for k in shop.shown]
    # The sizes the processing recorded: 1600 px at most on the long side, the thumbnail 400.
    assert [(p["width"], p["height"]) for p in photos] == [(1600, 1200), (1200, 1600)]
    assert [(p["thumb_width"], p["thumb_height"]) for p in photos] == [(400, 300), (300, 400)]
    assert [p["alt"] for p in photos] == ["Sole after 200 km", "Photo by Anna K. of Trail shoes"]
    assert by_id[shop.plain]["photos"] == [] and all(not x["photos"] for i, x in by_id.items() if i != shop.captioned)
    polish = (await client.get("/widgets/v1/demo-shop/reviews.json", params={"product": "SKU-1", "lang": "pl"})).json()
    alts = {x["id"]: [p["alt"] for p in x["photos"]] for x in polish["reviews"]}
    assert alts[shop.captioned] == ["Sole after 200 km", "Zdjęcie: Trail shoes, autor: Anna K."]


async def test_the_listed_photo_addresses_are_served_and_the_hidden_ones_are_not(client: httpx.AsyncClient,
                                                                                shop: Shop) -> None:
    body = (await client.get("/widgets/v1/demo-shop/reviews.json")).json()
    urls = [u for x in body["reviews"] for p in x["photos"] for u in (p["url"], p["thumb_url"])]
    assert len(urls) == 4
    for url in urls:
        r = await client.get(url.removeprefix(BASE_URL))
        assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    for key in shop.hidden:
        assert (await client.get(f"/photos/{key}/photo.webp")).status_code == 404


async def test_with_photos_filters_to_the_reviews_that_have_one(client: httpx.AsyncClient, shop: Shop) -> None:
    r = await client.get("/widgets/v1/demo-shop/reviews.json", params={"with_photos": "true"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1 and [x["id"] for x in body["reviews"]] == [shop.captioned]
    everything = (await client.get("/widgets/v1/demo-shop/reviews.json", params={"with_photos": "false"})).json()
    assert everything["total"] == 3
    bad = await client.get("/widgets/v1/demo-shop/reviews.json", params={"with_photos": "yes"})
    assert bad.status_code == 422 and "with_photos" in bad.json()["error"]["fields"]


async def test_the_public_pages_show_thumbnails_linked_to_the_photos(client: httpx.AsyncClient, shop: Shop) -> None:
    for path in ("/shops/demo-shop", "/shops/demo-shop/products/SKU-1"):
        r = await client.get(path, params={"lang": "en"})
        assert r.status_code == 200
        _no_hidden(r.text, shop)
        imgs = re.findall(r'<a href="(/photos/[^"]+/photo\.webp)"><img src="(/photos/[^"]+/thumb\.webp)" '
                          r'width="(\d+)" height="(\d+)" alt="([^"]*)" loading="lazy"', r.text)
        assert imgs == [(f"/photos/{shop.shown[0]}/photo.webp", f"/photos/{shop.shown[0]}/thumb.webp", "400", "300",
                         "Sole after 200 km"),
                        (f"/photos/{shop.shown[1]}/photo.webp", f"/photos/{shop.shown[1]}/thumb.webp", "300", "400",
                         "Photo by Anna K. of Trail shoes")], path
        # The "with photos" filter link, with its count, then the filtered page.
        assert re.search(r'<a href="[^"]*photos=1[^"]*">With photos \(1\)</a>', r.text), path
        only = await client.get(path, params={"lang": "en", "photos": "1"})
        assert only.status_code == 200 and only.text.count('<li class="review">') == 1
        assert 'aria-current="true">With photos (1)</a>' in only.text and "noindex" in only.text
    assert (await client.get("/shops/demo-shop", params={"photos": "2"})).status_code == 400


async def test_the_iframe_page_shows_the_photos(client: httpx.AsyncClient, shop: Shop) -> None:
    r = await client.get("/widgets/v1/demo-shop/widget.html", params={"product": "SKU-1", "lang": "en"})
    assert r.status_code == 200
    _no_hidden(r.text, shop)
    strip = re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener"><img src="([^"]+)" width="(\d+)" '
                       r'height="(\d+)" alt="([^"]*)" loading="lazy"></a>', r.text)
    assert strip == [(f"/photos/{k}/photo.webp", f"/photos/{k}/thumb.webp", w, h, alt)
                     for k, w, h, alt in ((shop.shown[0], "400", "300", "Sole after 200 km"),
                                          (shop.shown[1], "300", "400", "Photo by Anna K. of Trail shoes"))]


async def test_the_fragment_and_the_json_ld_carry_the_photos(client: httpx.AsyncClient, shop: Shop) -> None:
    r = await client.get("/widgets/v1/demo-shop/products/SKU-1/reviews.html", params={"lang": "en"})
    assert r.status_code == 200
    _no_hidden(r.text, shop)
    strip = re.findall(r'<a href="([^"]+)"><img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]*)" '
                       r'loading="lazy"></a>', r.text)
    assert strip == [(f"{BASE_URL}/photos/{k}/photo.webp", f"{BASE_URL}/photos/{k}/thumb.webp", w, h, alt)
                     for k, w, h, alt in ((shop.shown[0], "400", "300", "Sole after 200 km"),
                                          (shop.shown[1], "300", "400", "Photo by Anna K. of Trail shoes"))]
    full = [f"{BASE_URL}/photos/{k}/photo.webp" for k in shop.shown]
    doc = (await client.get("/widgets/v1/demo-shop/jsonld.json", params={"product": "SKU-1"})).json()
    images = {x.get("name"): x.get("image") for x in doc["review"]}
    assert images == {"Great grip": full, "Refused photo": None, "No photo": None}
    page = (await client.get("/shops/demo-shop/products/SKU-1")).text
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert [x.get("image") for x in ld["review"]] == [None, None, full]  # newest first; only the first has photos
    _no_hidden(json.dumps(ld) + json.dumps(doc), shop)


async def test_the_product_feed_names_the_reviewer_images(client: httpx.AsyncClient, shop: Shop) -> None:
    r = await client.get("/widgets/v1/demo-shop/feed.xml")
    assert r.status_code == 200
    product_feed_schema().validate(r.content)
    _no_hidden(r.text, shop)
    images = {el.findtext("review_id"): [u.text for u in el.findall("reviewer_images/reviewer_image/url")]
              for el in parse(r.content).findall("reviews/review")}
    assert images[str(shop.captioned)] == [f"{BASE_URL}/photos/{k}/photo.webp" for k in shop.shown]
    assert images[str(shop.plain)] == []


async def test_a_hostile_caption_is_text_everywhere(client: httpx.AsyncClient, services: Services,
                                                   shop: Shop) -> None:
    await services.pool.execute("UPDATE photos SET caption = $1 WHERE public_key = $2", HOSTILE, shop.shown[0])
    await services.pool.execute("UPDATE reviews SET updated_at = now() WHERE id = $1", shop.captioned)  # a new version
    for path in ("/shops/demo-shop", "/shops/demo-shop/products/SKU-1", "/widgets/v1/demo-shop/widget.html",
                 "/widgets/v1/demo-shop/products/SKU-1/reviews.html"):
        text = (await client.get(path)).text
        assert HOSTILE not in text and "&lt;script&gt;" in text, path
    body = (await client.get("/widgets/v1/demo-shop/reviews.json")).json()
    assert next(p["alt"] for x in body["reviews"] for p in x["photos"]) == HOSTILE.strip()
