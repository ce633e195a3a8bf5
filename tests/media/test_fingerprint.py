"""The perceptual fingerprint, measured on generated phone photos of one product kind (a trail shoe):
each photo re-encoded, resized, cropped by 10% three ways, brightened, stamped with a logo, and all of
those at once, must stay within `THRESHOLD` of itself; every two different photos must be further
apart. Run with -s to see the distances (bench/photos.py --hashes measures 160 scenes)."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image

from reviews.media import fingerprint, processing
from reviews.media.fingerprint import THRESHOLD, Fingerprint
from tests.media import generated

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

SEEDS = range(100, 110)


def _print(img: Image.Image) -> Fingerprint:
    """As the pipeline takes it: from the thumbnail of the processed photo."""
    return processing.process(generated.jpeg(img)).fingerprint


@pytest.fixture(scope="module")
def originals() -> dict[int, tuple[Image.Image, Fingerprint]]:
    return {seed: (img := generated.scene(seed, (960, 720)), _print(img)) for seed in SEEDS}


def test_every_edit_of_a_photo_stays_within_the_threshold(
        originals: dict[int, tuple[Image.Image, Fingerprint]]) -> None:
    worst: dict[str, int] = {}
    for seed, (img, original) in originals.items():
        for name, edit in generated.EDITS.items():
            found = fingerprint.distance(_print(edit(img)), original)
            worst[name] = max(worst.get(name, 0), found)
            assert found <= THRESHOLD, (seed, name, found)
    print("\nfarthest edit, by kind:", worst, "threshold", THRESHOLD)


def test_different_photos_of_the_same_kind_are_further_apart(
        originals: dict[int, tuple[Image.Image, Fingerprint]]) -> None:
    apart = sorted(fingerprint.distance(a[1], b[1]) for a, b in itertools.combinations(originals.values(), 2))
    print("\nclosest different photos:", apart[:5], "median", apart[len(apart) // 2])
    assert apart[0] > THRESHOLD


def test_a_fingerprint_keeps_in_bytes_and_compares_in_bulk(
        originals: dict[int, tuple[Image.Image, Fingerprint]]) -> None:
    prints = [p for _, p in originals.values()]
    stored = [p.to_bytes() for p in prints]
    assert all(len(b) == fingerprint.SIZE for b in stored)
    assert [Fingerprint.from_bytes(b) for b in stored] == prints
    rows = fingerprint.from_rows(stored)
    assert list(fingerprint.distances(prints[0], rows)) == [fingerprint.distance(prints[0], p) for p in prints]
    assert fingerprint.distance(prints[0], prints[0]) == 0


def test_the_same_photo_sent_twice_is_the_same_bytes() -> None:
    data = generated.jpeg(generated.scene(111, (640, 480)))
    first, second = processing.process(data), processing.process(data)
    assert first.image.digest == second.image.digest and first.fingerprint == second.fingerprint
    assert Image.open(io.BytesIO(first.thumb.data)).size == (400, 300)
