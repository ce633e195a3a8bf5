"""Issue 25's "done when" for the Insights page, as a new user would try it: the development corpus
imported through the importer, the worker run (screening, then each product's topics with the
real multilingual model), then a constructed burst of 1-2★ reviews about one aspect (late
deliveries of the espresso blend, in three languages, from five buyers) imported the same way. The
merchant's Insights page then shows that topic first, its complaints risen, in counted figures.

The clock stands just after the corpus's last review (27 February 2025), so the last 90 days and
the 90 before them both hold corpus reviews."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reviews.accounts import manage
from reviews.collection import importing
from reviews.platform.clock import FrozenClock
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.helpers import FormParser

pytestmark = pytest.mark.slow

DEV = Path(__file__).resolve().parents[1] / "data" / "dev.jsonl"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DELIVERY = r"deliver|consegn|spedizion|lieferung|shipping"
SHOP, PRODUCT = "torrefazione-navigli", "TN-ESP-01"
BURST = [  # (day of February 2025, language, stars, body, author): the delivery, and nothing else
    (3, "it", 1, "Consegna in ritardo di due settimane.", "Luca B."),
    (8, "en", 2, "The delivery took three weeks.", "Aoife K."),
    (12, "de", 1, "Die Lieferung kam zwei Wochen zu spät.", "Jonas W."),
    (17, "it", 2, "Spedizione lentissima, quasi un mese di attesa.", "Giulia M."),
    (21, "en", 1, "Shipping was very slow, the parcel arrived after 20 days.", "Ciara D."),
]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


async def _import(svc: Services, path: Path) -> None:
    report = await importing.import_file(svc.pool, path, hasher=svc.hasher, now=svc.clock.now(),
                                         create_merchants=True)
    assert not report.errors, report.errors
    async with make_worker(svc) as worker:
        await worker.drain()  # screening
        svc.clock.advance(minutes=2)  # type: ignore[attr-defined]  # past the recomputation's debounce
        await worker.drain()


def _burst(tmp_path: Path) -> Path:
    path = tmp_path / "burst.jsonl"
    path.write_text("".join(json.dumps({
        "id": f"burst-{n}", "merchant": SHOP, "product_id": PRODUCT, "order_id": f"TN-B-{n}", "lang": lang,
        "rating": stars, "title": "", "body": body, "author_name": author,
        "author_email": f"burst{n}@example.org", "created_at": f"2025-02-{day:02d}T10:00:00Z"}) + "\n"
        for n, (day, lang, stars, body, author) in enumerate(BURST, 1)), encoding="utf-8")
    return path


def _cards(page: str) -> list[tuple[str, str]]:
    """Each topic card's label and its sentence of figures, in the page's order."""
    labels = re.findall(r'<h2><a href="[^"]+">“<span lang="\w+">(.*?)</span>”</a>', page)
    sentences = re.findall(r'<p class="trend">(.*?)</p>', page)
    return list(zip(labels, sentences, strict=True))


async def test_the_insights_page_shows_a_topic_whose_complaints_rose(
        client: httpx.AsyncClient, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await _import(services, DEV)
    _user, link = await manage.invite(services, "owner@torrefazione.example", "owner", SHOP, actor="test")
    path = link.removeprefix(services.settings.base_url)
    parser = FormParser()
    parser.feed((await client.get(path)).text)
    r = await client.post(path, data={**dict(parser.fields), "password": "correct horse battery staple"})
    assert r.status_code == 303
    before = _cards((await client.get(f"/console/m/{SHOP}/insights")).text)

    await _import(services, _burst(tmp_path))
    published = await services.pool.fetchval(
        "SELECT count(*) FROM reviews WHERE external_id LIKE 'burst-%' AND state = 'published'")
    page = (await client.get(f"/console/m/{SHOP}/insights")).text
    after = _cards(page)
    with capsys.disabled():
        print(f"\nburst reviews published: {published} of {len(BURST)}")
        print("before the burst:", *(f"  {label!r}: {sentence}" for label, sentence in before), sep="\n")
        print("after the burst:", *(f"  {label!r}: {sentence}" for label, sentence in after), sep="\n")
    # The delivery's complaints rose: its topic comes first; before the burst no topic had.
    label, sentence = after[0]
    assert re.search(DELIVERY, label, re.IGNORECASE), after
    assert 'data-rising' in page[:page.index('<p class="trend">')]
    assert sentence.startswith("Mentioned in 1-2★ reviews"), after
    assert not [s for _, s in before if s.startswith("Mentioned in 1-2★ reviews")], before
