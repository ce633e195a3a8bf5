"""/metrics gives volumes per route and queue: only a scraper holding ATTEST_METRICS_TOKEN reads them."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from reviews.app import create_app
from reviews.platform.services import Services
from tests.conftest import METRICS_HEADERS


@pytest.mark.slow
async def test_metrics_need_the_bearer_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics", headers=METRICS_HEADERS)).status_code == 200
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert "attest_http_requests_total" not in anonymous.text
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer test-metrics-tokex"})
    assert wrong.status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": "Basic dGVzdA=="})).status_code == 401


@pytest.mark.slow
async def test_metrics_are_not_served_without_a_configured_token(services: Services) -> None:
    app = create_app(dataclasses.replace(services, settings=dataclasses.replace(services.settings,
                                                                                metrics_token=None)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for headers in ({}, METRICS_HEADERS, {"Authorization": "Bearer "}):
                r = await c.get("/metrics", headers=headers)
                assert r.status_code == 404
                assert "attest_" not in r.text
