"""Text PostgreSQL cannot hold (a NUL, a lone surrogate) is refused where it enters the app, whatever the
route: the URLs that once answered 500 answer 404 (path) or 400 (query), as JSON or as a page."""

from __future__ import annotations

import httpx
import pytest

from reviews.merchants.model import Merchant

SLUG = "demo-shop"
REFUSED = [
    (f"/widgets/v1/{SLUG}/summary.json?product=%00", 400),
    (f"/widgets/v1/{SLUG}/reviews.json?product=%00", 400),
    (f"/widgets/v1/{SLUG}/badge.svg?product=%00", 400),
    (f"/widgets/v1/{SLUG}/widget.html?product=%00", 400),
    (f"/widgets/v1/{SLUG}/jsonld.json?product=%00", 400),
    ("/widgets/v1/%00/feed.xml", 404),
    (f"/widgets/v1/{SLUG}/products/a%00b/summary.json", 404),
    ("/verification/a%00", 404),
    ("/console/queue?merchant=%00", 400),
    (f"/console/m/{SLUG}%00", 404),
]


@pytest.mark.parametrize(("url", "status"), REFUSED)
async def test_unstorable_text_in_a_url_is_refused_not_a_500(client: httpx.AsyncClient, merchant: tuple[Merchant, str],
                                                            url: str, status: int) -> None:
    r = await client.get(url)
    assert r.status_code == status
    if url.startswith("/widgets/") and r.status_code >= 400:
        assert r.json()["error"]["code"] in ("not_found", "bad_request")
    elif r.status_code >= 400:
        assert "text/html" in r.headers["content-type"]


@pytest.mark.parametrize("path", ["/hooks/shopify/%00", "/hooks/woocommerce/%00"])
async def test_platform_webhooks_with_a_nul_slug_are_404s(client: httpx.AsyncClient, path: str) -> None:
    r = await client.post(path, content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_an_encoded_lone_surrogate_is_read_as_a_replacement_character(client: httpx.AsyncClient,
                                                                           merchant: tuple[Merchant, str]) -> None:
    # Percent-decoding turns the bytes of a UTF-16 surrogate into U+FFFD: storable text, just an unknown product.
    r = await client.get(f"/widgets/v1/{SLUG}/summary.json?product=%ED%A0%80")
    assert r.status_code == 200
    assert r.json()["count"] == 0
