"""Issue 24, the merchant's figures told truthfully: the rating's trend by month as an accessible
SVG (a name, a description, the same figures in a table), drawn only for the months with reviews;
the invitation funnel's rates, its orders not yet invited, and the review links buyers opened."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from reviews.console.shop import charts
from reviews.merchants.model import Merchant
from reviews.platform import tokens
from reviews.platform.services import Services
from tests.console.test_inbox import sign_in
from tests.console.test_shop_pages import SHOP, _drain, _order
from tests.helpers import add_review, form_of

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not


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


async def test_the_funnel_gives_rates_explains_waiting_orders_and_counts_opened_links(
        client: httpx.AsyncClient, services: Services, merchant: tuple[Merchant, str]) -> None:
    shop, key = merchant
    await _order(client, key, "O-1", email="a@example.com", locale="en")
    link = "/r/" + services.signer.sign(tokens.REVIEW, {"i": await services.pool.fetchval(
        "SELECT max(id) FROM invitations")})
    await _order(client, key, "O-2", email="b@example.com", locale="de")
    await _order(client, key, "O-3", email="c@example.com", locale="pl", consent=False)  # skipped
    await _order(client, key, "O-4", email="d@example.com", status="placed")  # not fulfilled: no invitation
    await _drain(services)  # O-1 and O-2 are sent

    # A GET (a mail scanner's too) counts nothing; the page's script posts with the form's token.
    form = await form_of(client, link)
    assert await services.pool.fetchval("SELECT sum(link_opens) FROM invitations") == 0
    assert (await client.post(link + "/opened", data={"csrf": "forged"})).status_code == 403
    for _ in range(2):  # two tabs: two opens of one link, one buyer who opened it
        assert (await client.post(link + "/opened", data={"csrf": form.fields["csrf"]})).status_code == 204
    assert (await client.post("/r/not-a-token/opened", data={"csrf": form.fields["csrf"]})).status_code == 404
    counted = await services.pool.fetchrow("SELECT link_opens, link_opened_at FROM invitations WHERE link_opens > 0")
    assert counted["link_opens"] == 2 and counted["link_opened_at"] == services.clock.now()
    # O-1's buyer reviewed.
    review = await add_review(services, shop.id, 5)
    await services.pool.execute("UPDATE reviews SET invitation_id = (SELECT min(id) FROM invitations) WHERE id = $1",
                                review)

    await sign_in(client, services, "viewer@example.com", "viewer")
    page = (await client.get(SHOP + "/invitations")).text
    totals = dict(re.findall(r'data-total="([a-z_]+)">(\d+)<', page))
    assert (totals["ordered"], totals["awaiting"], totals["sent"], totals["opened"]) == ("4", "1", "2", "1")
    assert "the order is not fulfilled yet" in page
    overall = page[page.index('id="funnel-totals"'):page.index('id="per-week"')]
    assert dict(re.findall(r'data-rate="([a-z]+)">([^<]+)<', overall)) == {"sent": "100%", "reviewed": "50%"}
    # Per week: only the week with orders; per language, each its rates.
    week_table = page[page.index('id="per-week"'):page.index('id="per-language"')]
    assert len(re.findall(r'<tr><th scope="row">\d{4}-\d\d-\d\d</th>', week_table)) == 1
    language_table = page[page.index('id="per-language"'):page.index('id="recent"')]
    rows = dict(re.findall(r'<tr><th scope="row">([^<]*)</th>.*?data-rate="reviewed">([^<]+)<', language_table))
    assert rows == {"en": "100%", "de": "0%", "pl": "—"}  # nothing sent in Polish: no rate, not 0%
    german = (await client.get(SHOP + "/invitations", headers={"Accept-Language": "de"})).text
    assert "Noch nicht eingeladen" in german and "100\u00a0%" in german
