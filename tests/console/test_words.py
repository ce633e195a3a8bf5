"""Words, not codes: the desk and the shop pages say flag kinds, reasons, states and languages in
words, and dates as people read them, in the browser's time zone, with the exact time on hover."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reviews.console import dates
from reviews.platform.i18n import babel_locale
from reviews.platform.services import Services
from tests.console.test_console import _campaign, _form, _sign_in

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # near_duplicate, import_moderation, not_experience...


def _visible(page: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes, no script or style."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_a_date_is_words_in_the_zone_with_the_exact_instant() -> None:
    when = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    en = babel_locale("en")
    assert dates.text(when, "UTC", en) == "Jan 5, 2026 11:30\u202fPM"
    assert dates.text(when, "Europe/Berlin", en) == "Jan 6, 2026 12:30\u202fAM"
    element = str(dates.element(when, "Europe/Berlin", babel_locale("de")))
    assert element.startswith('<time datetime="2026-01-05T23:30:00Z" title="6. Januar 2026')
    assert "(Europe/Berlin)" in element and ">06.01.2026 00:30</time>" in element
    assert dates.zone_of("Europe%2FWarsaw") == "Europe/Warsaw"
    assert dates.zone_of("Mars/Olympus") == "UTC" and dates.zone_of(None) == "UTC"


async def test_the_desk_speaks_words_before_and_after_a_decision(client: httpx.AsyncClient, services: Services,
                                                                 tmp_path: Path) -> None:
    held = await _campaign(services, tmp_path)
    await _sign_in(client, services, "mod@example.com")
    client.cookies.set(dates.ZONE_COOKIE, "Europe%2FBerlin", path="/console")
    page = await client.get(f"/console/reviews/{held[0]}")
    text = _visible(page.text)
    assert not CODE.findall(text), CODE.findall(text)
    assert "Flagged: campaign" in text and "Browser family: ?" not in text and "Browser family: not recorded" in text
    assert "Language: English" in text and "As it would be published" in text
    assert "Publish: the flags were wrong (p)" in text
    assert "x: select the review" in text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="[^"]+\(Europe/Berlin\)">', page.text)
    assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", text)  # no ISO timestamp in what is read
    queue = _visible((await client.get("/console/queue?tab=held")).text)
    assert not CODE.findall(queue) and "x: select the review" in queue
    form = _form(page.text, f"/console/reviews/{held[0]}/decision")
    r = await client.post(f"/console/reviews/{held[0]}/decision",
                          data={**form, "decision": "reject", "code": "not_experience"})
    assert r.status_code == 303
    page = await client.get(f"/console/reviews/{held[0]}")
    text = _visible(page.text)
    assert "As it would be published" not in text and "As its author wrote it (not published)" in text
    assert "(Not about an experience of the product)" in text
    assert "Decided: rejected (Not about an experience of the product) by mod@example.com" in text
    assert not CODE.findall(text), CODE.findall(text)
    decided = _visible((await client.get("/console/queue?tab=decided")).text)
    assert "rejected (Not about an experience of the product)" in decided and "reject:" not in decided


async def test_an_unflagged_review_is_not_offered_publish_as_the_flags_were_wrong(
        client: httpx.AsyncClient, services: Services, tmp_path: Path) -> None:
    await _campaign(services, tmp_path)
    plain = await services.pool.fetchval(
        "SELECT r.id FROM reviews r WHERE NOT EXISTS (SELECT 1 FROM flags f WHERE f.review_id = r.id) ORDER BY r.id")
    await _sign_in(client, services, "mod@example.com")
    text = _visible((await client.get(f"/console/reviews/{plain}")).text)
    assert "As published" in text and "Publish (p)" in text and "the flags were wrong" not in text


async def test_the_decision_bar_comes_first_and_the_decision_is_said_in_place(
        client: httpx.AsyncClient, services: Services, tmp_path: Path) -> None:
    held = await _campaign(services, tmp_path)
    await _sign_in(client, services, "mod@example.com")
    page = (await client.get(f"/console/reviews/{held[0]}?tab=held")).text
    bar = page.index('class="decide-bar"')
    assert bar < page.index('id="as-published"') < page.index('id="timeline"')  # above the evidence
    form = _form(page, f"/console/reviews/{held[0]}/decision")
    r = await client.post(f"/console/reviews/{held[0]}/decision", data={**form, "decision": "reject", "code": "bought"})
    assert r.status_code == 303 and "decided=" in r.headers["location"]
    landed = await client.get(r.headers["location"])
    said = _visible(landed.text)
    assert f"#{held[0]} rejected as Copied or bought review; the author will be emailed." in said
    assert f'href="/console/reviews/{held[0]}"' in landed.text
    # Another moderator's address bar with that decision's id says nothing.
    decided = r.headers["location"].split("decided=")[1]
    await _sign_in(client, services, "lea@example.com")
    other = _visible((await client.get(f"/console/queue?decided={decided}")).text)
    assert "rejected as" not in other
