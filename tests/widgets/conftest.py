"""Each widget test starts from the same review times: `tests.helpers.add_review` dates reviews a minute
apart from one counter for the whole process, so a test that adds many would move the dates (the day,
after 1440) of every test that runs after it in the same worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import helpers


@pytest.fixture(autouse=True)
def _same_review_times() -> Iterator[None]:
    before = helpers._seq
    yield
    helpers._seq = before
