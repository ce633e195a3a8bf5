"""Campaigns as one item of the desk: one row of the held queue (members, shops, languages, dates,
strongest link; its reviews behind a disclosure), a page of its own with the texts side by side and
the decision for all of them at the top, the bulk bar above the list, and a confirmation that lists
the texts with a destructive-looking button."""

from __future__ import annotations

import re

import httpx
import pytest

from embedding.detect import Flag
from reviews.merchants.model import Merchant
from reviews.moderation.decisions import RELEASE_JOB
from reviews.platform.services import Services
from reviews.screening import flags
from tests.console.campaign_seed import PRAISE, seed_campaign
from tests.console.test_console import _form, _sign_in
from tests.helpers import add_review

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]


async def test_a_campaign_is_one_row_of_the_queue_and_one_decision(
        client: httpx.AsyncClient, services: Services, merchant: Fixture) -> None:
    seeded = await seed_campaign(services, merchant[0])
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get("/console/queue")).text
    rows = re.findall(r'<tr data-href="([^"]+)"', page)
    assert rows == [f"/console/campaigns/{seeded.campaign[0]}",
                    f"/console/reviews/{seeded.single}?tab=held"]  # ten held reviews, two items
    assert "Campaign of 9 reviews" in page and '<p class="muted">10 reviews</p>' in page
    assert "Languages: Deutsch, English, Français" in page
    assert f"Strongest link: #{seeded.campaign[0]} and #{seeded.campaign[1]}: a near copy (92% of the text the same)" \
        in page
    assert "Written from <time" in page
    # Its reviews, behind the disclosure, each to its own file.
    for rid in seeded.campaign:
        assert f'href="/console/reviews/{rid}?tab=held"' in page
    # The bulk bar and select-all are above the list.
    assert page.index("Decide the selected reviews") < page.index("<table data-list>")
    assert "data-select-all" in page

    # The review's file links to its campaign's page; the page decides all nine at once.
    file = (await client.get(f"/console/reviews/{seeded.campaign[4]}")).text
    assert f'href="/console/campaigns/{seeded.campaign[4]}"' in file
    campaign = await client.get(f"/console/campaigns/{seeded.campaign[4]}")
    assert campaign.status_code == 200
    assert campaign.text.count('<article class="side"') == 9
    assert campaign.text.index("decide-bar") < campaign.text.index("The texts side by side")
    fields = _form(campaign.text, "/console/bulk")
    assert fields["decision"] == "reject" and '<option value="bought" selected>' in campaign.text
    confirm = await client.post("/console/bulk", data={**fields, "code": "bought",
                                                       "ids": [str(i) for i in seeded.campaign]})
    assert confirm.status_code == 200
    assert confirm.text.count(PRAISE.format("!")) == 3  # the texts themselves, not only their numbers
    assert '<button type="submit" class="danger" autofocus>Reject 9 reviews</button>' in confirm.text
    done = await client.post("/console/bulk", data={
        "csrf": fields["csrf"], "ids": [str(i) for i in seeded.campaign], "decision": "reject", "code": "bought",
        "confirmed": "1"})
    assert done.status_code == 200 and "9 reviews decided." in done.text
    states = await services.pool.fetch("SELECT id, state, reject_reason FROM reviews ORDER BY id")
    assert {r["id"]: (r["state"], r["reject_reason"]) for r in states} == {
        **{rid: ("rejected", "bought") for rid in seeded.campaign}, seeded.single: ("held", None)}
    assert re.findall(r'<tr data-href="([^"]+)"', (await client.get("/console/queue")).text) == [
        f"/console/reviews/{seeded.single}?tab=held"]


async def test_the_campaign_row_sends_its_members_and_unknown_campaigns_are_not_found(
        client: httpx.AsyncClient, services: Services, merchant: Fixture) -> None:
    seeded = await seed_campaign(services, merchant[0], size=4)
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get("/console/queue")).text
    box = re.search(r'<input type="checkbox" name="campaign" value="([0-9,]+)"', page)
    assert box is not None and [int(i) for i in box.group(1).split(",")] == seeded.campaign
    fields = _form(page, "/console/bulk")
    confirm = await client.post("/console/bulk", data={"csrf": fields["csrf"], "campaign": box.group(1),
                                                       "decision": "reject", "code": "bought"})
    assert confirm.status_code == 200 and "Reject 4 reviews" in confirm.text
    # A review with no campaign has no campaign page.
    assert (await client.get(f"/console/campaigns/{seeded.single}")).status_code == 404
    assert (await client.get("/console/campaigns/999999")).status_code == 404


async def test_the_queue_orders_by_the_graded_score_and_says_why(
        client: httpx.AsyncClient, services: Services, merchant: Fixture) -> None:
    burst = await add_review(services, merchant[0].id, 1, state="pending", body="Broke on the first day, avoid.")
    async with services.pool.acquire() as conn, conn.transaction():
        await flags.save(conn, [Flag(burst, "burst", 4.0, {"related": [burst], "count": 5, "rating": 1})],
                         services.clock.now())
    seeded = await seed_campaign(services, merchant[0])
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get("/console/queue")).text
    assert re.findall(r'<tr data-href="([^"]+)"', page) == [
        f"/console/campaigns/{seeded.campaign[0]}", f"/console/reviews/{seeded.single}?tab=held",
        f"/console/reviews/{burst}?tab=held"]
    assert "0.87: one of a campaign by 9 authors" in page
    assert "0.62: a near copy of another review (70% the same)" in page
    assert "0.34: one of a burst of 5 reviews of 1 stars" in page
    oldest = (await client.get("/console/queue?sort=oldest")).text
    assert re.findall(r'<tr data-href="([^"]+)"', oldest)[0] == f"/console/reviews/{burst}?tab=held&amp;sort=oldest"
    assert '<option value="oldest" selected>' in oldest
    weak_out = (await client.get("/console/queue?min_score=0.5")).text
    assert f"/console/reviews/{burst}?" not in weak_out and "Campaign of 9 reviews" in weak_out
    file = (await client.get(f"/console/reviews/{seeded.single}")).text
    assert "0.62: a near copy of another review (70% the same)" in file


async def test_a_whole_campaign_decided_at_once_is_undone_at_once(
        client: httpx.AsyncClient, services: Services, merchant: Fixture) -> None:
    seeded = await seed_campaign(services, merchant[0], size=4)
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get(f"/console/campaigns/{seeded.campaign[0]}")).text
    done = await client.post("/console/bulk", data={
        **_form(page, "/console/bulk"), "code": "bought", "ids": [str(i) for i in seeded.campaign], "confirmed": "1"})
    assert "4 reviews decided." in done.text and "Undo 4 decisions (u)" in done.text
    assert "Nothing leaves Attest for 30 more seconds." in done.text
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", RELEASE_JOB) == 4
    undone = await client.post("/console/decisions/undo", data=_form(done.text, "/console/decisions/undo")
                               | {"ids": re.findall(r'name="ids" value="(\d+)"', done.text)})
    assert undone.status_code == 200 and "4 reviews are back as they were, and nobody was told." in undone.text
    states = await services.pool.fetch("SELECT state FROM reviews WHERE id = ANY($1)", seeded.campaign)
    assert [r["state"] for r in states] == ["held"] * 4
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", RELEASE_JOB) == 0
    assert await services.pool.fetchval("SELECT count(*) FROM moderation_decisions") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'moderation.undo'") == 4
    again = await client.post("/console/decisions/undo", data=_form(done.text, "/console/decisions/undo")
                              | {"ids": re.findall(r'name="ids" value="(\d+)"', done.text)})
    assert again.status_code == 409 and "Too late to undo" in again.text
