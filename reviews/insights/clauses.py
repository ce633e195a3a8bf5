"""Reviews cut into clauses: sentences, then the parts a sentence turns on ("good, but ...") or
lists (commas, semicolons, dashes). Each clause is an exact span of the title or body, so whatever
is shown of it is the buyer's own words, verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from reviews.insights.lexicon import EMPTY, LINKS, TURNS

TITLE, BODY = "title", "body"
# A part of one word ("Kräftig, schokoladig, schöne Crema") is kept with its neighbour: alone it
# would be read out of context. A sentence of one word ("comodísimas!!") stays a clause.
MIN_WORDS = 2
# Bumped whenever splitting or the lexicon changes, so cached clause vectors are made again.
VERSION = "1"

_WORD = re.compile(r"[^\W\d_]+")
# A sentence ends at ! ? … (any number of them), at a full stop before a space (unless it ends an
# abbreviation: see `_is_abbreviation`), and at a line break.
_SENTENCE_END = re.compile(r"[!?…]+[\"'”»)]*\s+|\.+[\"'”»)]*\s+|\s*\n\s*")
# Inside a sentence: commas and semicolons before a space (not "1,5"), colons, and spaced dashes.
_PART_END = re.compile(r"[,;:]+(?=\s)|\s[–—-]+\s")
# Quotes stay: a clause that ends inside one ("described as "very good"") must not lose its close.
_TRIM_START = re.compile(r"^[\s,;:.!?…–—\-]+")
_TRIM_END = re.compile(r"[\s,;:.!?…–—\-]+$")
_LAST_WORD = re.compile(r"(\S+)$")


@dataclass(frozen=True)
class Clause:
    """A span of a review's title or body: text == (title or body)[start:end]."""

    field: str
    start: int
    end: int
    text: str


def words(text: str) -> list[str]:
    """The words of a text, lower case, without digits or punctuation."""
    return [w.lower() for w in _WORD.findall(text)]


def primary(lang: str | None) -> str:
    """'pt-BR' -> 'pt'; None -> ''."""
    return (lang or "").replace("_", "-").split("-")[0].lower()


def is_empty(text: str, lang: str | None) -> bool:
    """True when a clause says nothing about what was bought (only function words and bare praise)."""
    empty = EMPTY.get(primary(lang), frozenset())
    return all(w in empty for w in words(text))


@cache
def _turns(lang: str) -> re.Pattern[str] | None:
    turns = TURNS.get(lang)
    if not turns:
        return None
    alternatives = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(turns, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?=(?:{alternatives})(?![^\W_]))", re.IGNORECASE)


@cache
def _leading(lang: str) -> re.Pattern[str] | None:
    joins = TURNS.get(lang, frozenset()) | LINKS.get(lang, frozenset())
    if not joins:
        return None
    alternatives = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(joins, key=len, reverse=True))
    return re.compile(rf"(?:(?:{alternatives})(?![^\W_])[\s,]*)+", re.IGNORECASE)


def _is_abbreviation(text: str, dot: int, after: int) -> bool:
    """A full stop after a word with inner dots ("M.R. instead"), or after one of one or two letters
    when no capital follows ("ok. 1,5 h", "np. tak"), ends no sentence; after a longer word it
    does, capital or not ("normale. arrivato in 3 giorni")."""
    last = _LAST_WORD.search(text, 0, dot)
    if last is None or text[dot - 1] in ")\"'”»":
        return False
    word = last.group(1)
    letters = _WORD.findall(word)
    short = len(letters[-1]) <= 2 if letters else True
    return "." in word or (short and not text[after:after + 1].isupper())


def _cuts(text: str, pattern: re.Pattern[str], start: int, end: int,
          skip: Callable[[re.Match[str]], bool] | None = None) -> list[tuple[int, int]]:
    """The spans of text[start:end] between the matches of pattern (but those `skip` says)."""
    spans, at = [], start
    for m in pattern.finditer(text, start, end):
        if skip is not None and skip(m):
            continue
        spans.append((at, m.start()))
        at = m.end()
    spans.append((at, end))
    return spans


def _sentences(text: str) -> list[tuple[int, int]]:
    def abbreviation(m: re.Match[str]) -> bool:
        return text[m.start()] == "." and _is_abbreviation(text, m.start(), m.end())

    return _cuts(text, _SENTENCE_END, 0, len(text), abbreviation)


def _strip_joiner(text: str, start: int, end: int, lang: str) -> str:
    a, b = _trim(text, start, end, lang)
    return text[a:b]


def _trim(text: str, start: int, end: int, lang: str) -> tuple[int, int]:
    """Without surrounding punctuation and a leading "and"/"but" (the quote reads on its own)."""
    piece = text[start:end]
    lead = _TRIM_START.match(piece)
    if lead:
        start += lead.end()
    tail = _TRIM_END.search(text[start:end])
    if tail:
        end = start + tail.start()
    joiner = _leading(lang)
    if joiner is not None:
        m = joiner.match(text, start, end)
        if m and m.end() < end:
            start = m.end()
    return start, end


def _word_count(text: str, start: int, end: int) -> int:
    return len(_WORD.findall(text, start, end))


def _parts(text: str, start: int, end: int, lang: str) -> list[tuple[int, int]]:
    """A sentence's parts. A one-word part that only praises or blames ("Fine, but ...",
    "Perfectas, tal cual en la foto") is left out; another one-word part joins a neighbour."""
    parts: list[tuple[int, int]] = []
    for a, b in _cuts(text, _PART_END, start, end):
        turns = _turns(lang)
        parts += _cuts(text, turns, a, b) if turns is not None else [(a, b)]
    parts = [(a, b) for a, b in parts if _word_count(text, a, b) > 0]
    if len(parts) > 1:
        parts = [(a, b) for a, b in parts
                 if _word_count(text, a, b) >= MIN_WORDS or not is_empty(_strip_joiner(text, a, b, lang), lang)]
    if not parts:
        return []
    merged: list[tuple[int, int]] = []
    carry: int | None = None  # the start of one-word parts waiting for the next part
    for a, b in parts:
        a = carry if carry is not None else a
        carry = None
        if _word_count(text, a, b) < MIN_WORDS:
            carry = a
            continue
        merged.append((a, b))
    if carry is not None:
        if merged:
            merged[-1] = (merged[-1][0], parts[-1][1])
        else:
            merged.append((carry, parts[-1][1]))
    return merged


def split(text: str, lang: str | None, field: str = BODY) -> list[Clause]:
    """The clauses of one text, in order."""
    lang = primary(lang)
    found: list[Clause] = []
    for s, e in _sentences(text):
        for a, b in _parts(text, s, e, lang):
            a, b = _trim(text, a, b, lang)
            if b > a and _word_count(text, a, b) > 0:
                found.append(Clause(field, a, b, text[a:b]))
    return found


def split_review(title: str | None, body: str | None, lang: str | None) -> list[Clause]:
    """The clauses of a review's title, then of its body."""
    return split(title or "", lang, TITLE) + split(body or "", lang, BODY)


_TOKEN = re.compile(r"\S+")
# Languages that capitalise common nouns: a capital there says nothing of a name.
_CAPITALISED_NOUNS = frozenset({"de", "lb"})


def for_embedding(text: str, lang: str | None) -> str:
    """What is embedded of a clause: lower case, without names of places, brands and couriers
    (capitalised words after the first, where the language capitalises names only), which say
    nothing about the aspect and pull two clauses about delivery apart ("Spedizione in due giorni a
    Bergamo", "Die Lieferung nach Stuttgart hat vier Tage gedauert"). The quote stays verbatim."""
    keep_capitals = primary(lang) in _CAPITALISED_NOUNS
    kept = []
    for i, token in enumerate(_TOKEN.findall(text)):
        letters = _WORD.findall(token)
        if i > 0 and not keep_capitals and letters and letters[0][:1].isupper() and letters != ["I"]:
            continue
        kept.append(token)
    return " ".join(kept).lower() or text.lower()
