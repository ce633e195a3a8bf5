"""The perceptual fingerprint of a photo, and the distance between two: how a photo reused in another
review is found again after it was re-encoded, resized, cropped, brightened or stamped with a logo.

Chosen by measurement (`tests/media/test_fingerprint.py` on generated phone photos of one product
kind; the figures are in docs/architecture.md). A single pHash of the whole picture (`imagehash`)
keeps re-encoding, resizing and brightening within a few bits, but a crop of 10% or a logo in a
corner moves it as far as two different photos of the same kind of shoe are apart. So:

- the light is taken out first (the grey picture minus a wide blur of itself): two photos of one
  product differ in their light, and a brightened copy keeps the same structure;
- the picture and nine windows of 90% of it (three by three positions) each get a pHash and a
  dHash (64 bits each, `imagehash`);
- the distance is the smallest, over the pairs that line the two up, of the pHash and dHash bits
  that differ: whole against whole, whole against a window and a window against whole (one photo
  is a crop of the other), and each window against the same window (a logo falls outside one).

`THRESHOLD` is the distance at or below which two photos are one.
"""

from __future__ import annotations

from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image, ImageChops, ImageFilter

WINDOW = 0.9
OFFSETS = (0.0, 0.05, 0.10)
WINDOWS = 1 + len(OFFSETS) ** 2
# The longest side hashed: pHash looks at 32 × 32 pixels, dHash at 9 × 8.
HASHED_SIDE = 192
THRESHOLD = 27
SIZE = WINDOWS * 2 * 8  # bytes: every window's pHash, then every window's dHash


def _pairs() -> tuple[np.ndarray, np.ndarray]:
    """The (window of one, window of the other) pairs compared: see the module docstring."""
    pairs = [(0, j) for j in range(WINDOWS)] + [(i, 0) for i in range(1, WINDOWS)] + \
        [(i, i) for i in range(1, WINDOWS)]
    return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])


_LEFT, _RIGHT = _pairs()


@dataclass(frozen=True)
class Fingerprint:
    phash: tuple[int, ...]  # per window, the whole picture first
    dhash: tuple[int, ...]

    def to_bytes(self) -> bytes:
        return np.array(self.phash + self.dhash, dtype=">u8").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        values = [int(v) for v in np.frombuffer(data, dtype=">u8")]
        return cls(tuple(values[:WINDOWS]), tuple(values[WINDOWS:]))


def of(img: Image.Image) -> Fingerprint:
    grey = img.convert("L")
    grey.thumbnail((HASHED_SIDE, HASHED_SIDE), Image.Resampling.LANCZOS)
    blur = grey.filter(ImageFilter.GaussianBlur(max(grey.size) / 8))
    structure = ImageChops.subtract(grey, blur, 1.0, 128)
    pictures = [structure, *_windows(structure)]
    return Fingerprint(tuple(_bits(imagehash.phash(p)) for p in pictures),
                       tuple(_bits(imagehash.dhash(p)) for p in pictures))


def _windows(img: Image.Image) -> list[Image.Image]:
    w, h = img.size
    return [img.crop((round(w * x), round(h * y), round(w * (x + WINDOW)), round(h * (y + WINDOW))))
            for x in OFFSETS for y in OFFSETS]


def _bits(h: imagehash.ImageHash) -> int:
    return int(str(h), 16)


def distance(a: Fingerprint, b: Fingerprint) -> int:
    return int(distances(a, matrix([b]))[0])


def matrix(prints: list[Fingerprint]) -> np.ndarray:
    """Fingerprints as rows of uint64 (pHashes then dHashes), as `distances` takes them."""
    return np.array([p.phash + p.dhash for p in prints], dtype=np.uint64).reshape(len(prints), 2 * WINDOWS)


def from_rows(blobs: list[bytes]) -> np.ndarray:
    """Stored fingerprints (`Fingerprint.to_bytes`) as rows for `distances`, without a Python object each."""
    if not blobs:
        return np.zeros((0, 2 * WINDOWS), dtype=np.uint64)
    return np.frombuffer(b"".join(blobs), dtype=">u8").astype(np.uint64).reshape(len(blobs), 2 * WINDOWS)


def distances(a: Fingerprint, rows: np.ndarray) -> np.ndarray:
    """The distance from `a` to each row of `rows`, at once."""
    mine = np.array(a.phash + a.dhash, dtype=np.uint64)
    p = np.bitwise_count(mine[_LEFT][None, :] ^ rows[:, _RIGHT])
    d = np.bitwise_count(mine[WINDOWS + _LEFT][None, :] ^ rows[:, WINDOWS + _RIGHT])
    found: np.ndarray = (p.astype(np.int32) + d.astype(np.int32)).min(axis=1)
    return found
