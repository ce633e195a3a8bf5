"""The dev corpus through the real pipeline (import, worker, pgvector, detector, flags):
fails if detection quality drops below the targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedding.evaluation import failures, score, spread
from reviews.collection.importing import import_file
from reviews.platform.services import Services
from reviews.screening.flags import flagged_reviews
from reviews.worker import make_worker

# The whole labeled corpus through the real model: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[1] / "data" / "dev.jsonl"
LABEL_FIELDS = ("label", "campaign", "variant")


@pytest.fixture(params=["burst", "spread"])
def corpus(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, list[dict[str, object]], Path]:
    """The corpus as it is ("burst": its campaigns posted within days) and with its campaigns
    posted over months ("spread")."""
    if not CORPUS.exists():
        pytest.fail(f"the labeled development corpus is missing: {CORPUS}")
    labeled = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    if request.param == "spread":
        labeled = spread(labeled)  # type: ignore[arg-type]
    unlabeled = tmp_path / "dev.jsonl"
    unlabeled.write_text("".join(json.dumps({k: v for k, v in r.items() if k not in LABEL_FIELDS}) + "\n"
                                 for r in labeled))
    return request.param, labeled, unlabeled


async def test_dev_corpus_meets_the_quality_targets(services: Services,
                                                    corpus: tuple[str, list[dict[str, object]], Path]) -> None:
    variant, labeled, path = corpus
    report = await import_file(services.pool, path, hasher=services.hasher, now=services.clock.now(),
                               create_merchants=True)
    assert report.imported == len(labeled) and not report.errors
    async with make_worker(services) as worker:
        await worker.drain()
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE state <> 'done'") == 0
    flagged = {e["external_id"] for e in await flagged_reviews(services.pool)}
    result = score(labeled, flagged)  # type: ignore[arg-type]
    print(json.dumps({k: v for k, v in result.items() if k not in ("missed",)}, indent=1))
    assert failures(result, variant) == []
    # Flagged reviews are held, never published, never rejected; the rest are published.
    states = dict(await services.pool.fetch("SELECT state, count(*) FROM reviews GROUP BY state"))
    assert set(states) <= {"published", "held"}
    assert states.get("held") == len(flagged)
