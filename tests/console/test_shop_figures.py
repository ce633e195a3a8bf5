"""Issue 24, the merchant's figures told truthfully: the rating's trend by month as an accessible
SVG (a name, a description, the same figures in a table), drawn only for the months with reviews."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from reviews.console.shop import charts
from reviews.merchants.model import Merchant
from reviews.platform.services import Services
from tests.console.test_inbox import sign_in
from tests.helpers import add_review


async def _written(services: Services, review_id: int, when: datetime) -> None:
    await services.pool.execute("UPDATE reviews SET submitted_at = $2, published_at = $2 WHERE id = $1",
                                review_id, when)


async def test_the_inbox_draws_the_rating_by_month_with_a_table_that_says_the_same(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    m = merchant[0]
    # November 2025: 5 and 3; December: nothing; January 2026: 4. A held review counts for nothing.
    for rating, when in ((5, datetime(2025, 11, 3, tzinfo=UTC)), (3, datetime(2025, 11, 20, tzinfo=UTC)),
                         (4, datetime(2026, 1, 2, tzinfo=UTC))):
        await _written(services, await add_review(services, m.id, rating), when)
    await _written(services, await add_review(services, m.id, 1, state="held"), datetime(2025, 12, 1, tzinfo=UTC))
    # Older than the last 12 months (the clock says 2026-01-05): left out.
    await _written(services, await add_review(services, m.id, 1), datetime(2024, 12, 31, tzinfo=UTC))
    await sign_in(client, services, "viewer@example.com", "viewer")
    page = (await client.get("/console/m/demo-shop")).text
    svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg"'):]
    svg = svg[:svg.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="rating-trend-title rating-trend-desc"' in svg
    assert '<title id="rating-trend-title">Average rating by month, the last 12 months</title>' in svg
    assert svg.count("<circle") == 2  # the months with reviews only: no December at zero
    assert "Nov 2025: 4.0 from 2 reviews" in svg and "Jan 2026: 4.0 from 1 review" in svg
    table = page[page.index('id="rating-trend-table"'):page.index("</table>", page.index('id="rating-trend-table"'))]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>', table)
    assert rows == [("Nov 2025", "4.0", "2"), ("Jan 2026", "4.0", "1")]

    german = (await client.get("/console/m/demo-shop", headers={"Accept-Language": "de"})).text
    assert "Durchschnittliche Bewertung nach Monaten" in german and "4,0 aus 2 Bewertungen" in german


async def test_a_shop_without_reviews_has_no_empty_chart(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    await sign_in(client, services, "viewer@example.com", "viewer")
    page = (await client.get("/console/m/demo-shop")).text
    assert "rating-trend" not in page


def test_the_trend_is_on_a_fixed_scale_of_stars() -> None:
    low = charts.trend_chart([charts.Point("a", 1.0, "1"), charts.Point("b", 5.0, "5")], title="t",
                             description="d", chart_id="c")
    ys = [float(y) for y in re.findall(r'<circle cx="[^"]+" cy="([^"]+)"', low)]
    assert ys[0] > ys[1]  # five stars above one
    close = charts.trend_chart([charts.Point("a", 4.4, "x"), charts.Point("b", 4.6, "y")], title="<t>",
                               description="d", chart_id="c")
    near = [float(y) for y in re.findall(r'<circle cx="[^"]+" cy="([^"]+)"', close)]
    assert abs(near[0] - near[1]) < abs(ys[0] - ys[1]) / 10  # a small change looks small
    assert "&lt;t&gt;" in close and "<t>" not in close
