"""Pure text utilities for duplicate detection: normalisation, shingles, lexical
similarity and how informative a text is.

Everything here is language-agnostic: no stop-word lists, no stemming. How common a
word is comes from document frequencies observed in the operator's own corpus.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np

# Letters that NFKD does not decompose into base + combining mark.
_FOLD = str.maketrans(
    {
        "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
        "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "ð": "d",
    }
)
_NON_WORD = re.compile(r"[\W_]+")  # punctuation, emoji, symbols (unicode-aware)

SHINGLE_SIZE = 4


# A scan normalises its review and each of its twenty-odd neighbours, which come back scan after
# scan: the latest texts are kept.
@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Casefolded, accent-free, punctuation- and emoji-free text, single-spaced."""
    text = text or ""
    if text.isascii():  # nothing to decompose or fold, and casefold is lower
        return " ".join(_NON_WORD.sub(" ", text.lower()).split())
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    # casefold may reintroduce composed forms (e.g. "İ"); fold once more.
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text).split())


def tokens(norm: str) -> list[str]:
    """Word tokens of a normalised text."""
    return norm.split()


# As for normalize; a set of a few hundred shingles takes some tens of kilobytes.
@lru_cache(maxsize=1024)
def shingles(norm: str, k: int = SHINGLE_SIZE) -> frozenset[str]:
    """Character k-grams of a normalised text, padded so that short words count."""
    padded = f" {norm} "
    if len(padded) <= k:
        return frozenset([padded])
    return frozenset(padded[i : i + k] for i in range(len(padded) - k + 1))


_FNV_OFFSET, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


@lru_cache(maxsize=1024)
def shingle_ids(norm: str, k: int = SHINGLE_SIZE) -> np.ndarray:
    """`shingles(norm)` as sorted distinct 64-bit ids, for set arithmetic in matrices. Two
    distinct shingles share an id with a probability of about 2**-64 per pair."""
    codes = np.frombuffer(f" {norm} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = min(k, len(codes))  # a text shorter than a shingle is one shingle
    ids = np.full(len(codes) - width + 1, _FNV_OFFSET, dtype=np.uint64)
    for i in range(width):  # FNV-1a over the code points of each window
        ids = (ids ^ codes[i:len(codes) - width + 1 + i]) * _FNV_PRIME
    return distinct(ids)


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values, as `np.unique` gives them. numpy 2's `unique` costs several
    times a sort on the few hundred values of a text, and a scan takes a text's ids for each
    of its forty-odd neighbours."""
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def ranks(values: np.ndarray) -> np.ndarray:
    """Each value's rank among the distinct values (`np.unique(values, return_inverse=True)[1]`),
    through one sort: `unique` takes several times as long on a scan's few thousand ids."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.empty(len(ordered), dtype=np.intp)
    new[:1] = 0
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:], casting="unsafe")
    out = np.empty(len(values), dtype=np.intp)
    out[order] = np.cumsum(new)
    return out


# MinHash bands of the shingles, for the lexical candidate path (`embedding.shingles`): BANDS
# keys of ROWS values each.
BANDS = 24
ROWS = 3


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on 64-bit integers that scatters every input bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# One seed per MinHash function, derived by formula (no random generator whose stream could change
# between numpy releases): every process and every release computes the same bands.
_SEEDS = _mix(np.arange(1, BANDS * ROWS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))


def minhash(norm: str) -> np.ndarray:
    """The MinHash values of a normalised text's shingles: BANDS * ROWS of them (uint64 arithmetic
    wraps, as the hash wants)."""
    ids = shingle_ids(norm)
    return _mix(np.add.outer(_SEEDS, ids)).min(axis=1)


def minhash_bands(norm: str) -> list[int]:
    """The text's band keys, as signed 64-bit integers (PostgreSQL's bigint)."""
    rows = minhash(norm).reshape(BANDS, ROWS)
    key = _mix(np.arange(BANDS, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15))
    for column in range(ROWS):
        key = _mix(key ^ rows[:, column])
    return key.astype(np.int64).tolist()


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    # Shingle sets arrive as frozensets; copying them cost a quarter of a scan.
    sa = a if isinstance(a, frozenset | set) else set(a)
    sb = b if isinstance(b, frozenset | set) else set(b)
    if not sa and not sb:
        return 0.0
    inter = len(sa & sb)
    return inter / (len(sa) + len(sb) - inter)


# How many documents a word must be rarer than to count as one full unit of
# information: a word in at most 1 review out of 100 is "content".
FULL_WEIGHT_RATE = 100.0


def token_weight(df: int, n_docs: int) -> float:
    """Weight in [0, 1] of a word seen in `df` of `n_docs` documents.

    Smoothed IDF relative to log(FULL_WEIGHT_RATE), with FULL_WEIGHT_RATE empty
    pseudo-documents as prior, so that on an empty corpus every word counts fully and
    words shared by many reviews fade as evidence accumulates.
    """
    idf = math.log((n_docs + FULL_WEIGHT_RATE) / (df + 1.0))
    return max(0.0, min(1.0, idf / math.log(FULL_WEIGHT_RATE)))


def informativeness(
    words: Iterable[str], df: Mapping[str, int] | None = None, n_docs: int = 0
) -> float:
    """Effective number of distinct content words: sum of IDF weights of the distinct
    words. "Todo perfecto envio rapido" is worth ~1-2, a specific review ~10 or more.
    """
    df = df or {}
    return sum(token_weight(df.get(w, 0), n_docs) for w in set(words))


class Weights:
    """`informativeness` against fixed document frequencies, each word's weight worked out once:
    a scan weighs the words of some forty texts, most of them several times."""

    def __init__(self, df: Mapping[str, int], n_docs: int) -> None:
        self.df, self.n_docs = df, n_docs
        self._memo: dict[str, float] = {}

    def informativeness(self, words: Iterable[str]) -> float:
        memo, total = self._memo, 0.0
        for w in words if isinstance(words, frozenset | set) else set(words):
            weight = memo.get(w)
            if weight is None:
                weight = memo[w] = token_weight(self.df.get(w, 0), self.n_docs)
            total += weight
        return total


def shared_informativeness(
    a: Iterable[str], b: Iterable[str], df: Mapping[str, int] | None = None, n_docs: int = 0
) -> float:
    """Informativeness of the words two texts have in common."""
    return informativeness(set(a) & set(b), df, n_docs)
