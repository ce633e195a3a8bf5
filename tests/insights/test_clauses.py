"""Clauses: exact spans of the text (quotes are verbatim), cut where a review turns or lists, and
the ones that name nothing told apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviews.insights import clauses

DEV = Path(__file__).resolve().parents[1] / "data" / "dev.jsonl"


def texts(text: str, lang: str) -> list[str]:
    return [c.text for c in clauses.split(text, lang)]


def test_every_clause_is_an_exact_span_of_its_field() -> None:
    rows = [json.loads(line) for line in DEV.read_text().splitlines()]
    assert sum(bool(clauses.split_review(r["title"], r["body"], r["lang"])) for r in rows) > 0.9 * len(rows)
    for row in rows:
        found = clauses.split_review(row["title"], row["body"], row["lang"])
        for c in found:
            source = row["title"] if c.field == clauses.TITLE else row["body"]
            assert source[c.start:c.end] == c.text and c.text == c.text.strip()


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("en", "Sound is decent, but the touch controls are far too sensitive.",
     ["Sound is decent", "the touch controls are far too sensitive"]),
    ("es", "Cómodas sí, pero duran poco para lo que cuestan.", ["Cómodas sí", "duran poco para lo que cuestan"]),
    ("it", "Buona crema ma la tostatura è troppo scura", ["Buona crema", "la tostatura è troppo scura"]),
    ("pl", "Dźwięk w porządku, ale mikrofon słaby.", ["Dźwięk w porządku", "mikrofon słaby"]),
    ("de", "Super Kaffee, schnelle Lieferung", ["Super Kaffee", "schnelle Lieferung"]),
    ("fr", "Belle édition, mais la jaquette était déchirée.", ["Belle édition", "la jaquette était déchirée"]),
    ("ro", "Miroase frumos, dar nu hidratează suficient.", ["Miroase frumos", "nu hidratează suficient"]),
    # A lone word of praise before the turn is dropped, another one-word part stays with its neighbour.
    ("en", "Fine, but the titles are random.", ["the titles are random"]),
    ("de", "Kräftig, schokoladig, schöne Crema.", ["Kräftig, schokoladig", "schöne Crema"]),
    ("pl", "Super, polecam!", []),
    ("es", "comodísimas!!", ["comodísimas"]),
    # Abbreviations, initials and decimals end no sentence; a full stop before a small letter may.
    ("pl", "Ładuje w ok. 1,5 h. Wtyczka luźno siedzi.", ["Ładuje w ok. 1,5 h", "Wtyczka luźno siedzi"]),
    ("en", "Wrong initials (M.R. instead of M.K.) again.", ["Wrong initials (M.R. instead of M.K.) again"]),
    ("it", "buono per mia madre. arrivato in 3 giorni", ["buono per mia madre", "arrivato in 3 giorni"]),
    # A quote keeps its closing quotation mark.
    ("en", 'Described as "very good" but two were damp.', ['Described as "very good"', "two were damp"]),
])
def test_sentences_and_clauses(lang: str, text: str, expected: list[str]) -> None:
    assert texts(text, lang) == expected


@pytest.mark.parametrize(("lang", "text", "empty"), [
    ("en", "Great product", True), ("en", "Love it!", True), ("it", "Tutto ok, grazie", True),
    ("pl", "Super, polecam!", True), ("ro", "Recomand cu încredere", True), ("fr", "Parfait, merci", True),
    ("en", "fast delivery", False), ("it", "Ottimo caffè", False), ("es", "Muy buena calidad", False),
    ("de", "Akku hält lange", False), ("nl", "Snelle levering", False),  # no lists: every clause counts
])
def test_clauses_that_name_nothing(lang: str, text: str, empty: bool) -> None:
    assert clauses.is_empty(text, lang) is empty


def test_what_is_embedded_leaves_out_names_but_not_german_nouns() -> None:
    assert clauses.for_embedding("Spedizione in due giorni a Bergamo", "it") == "spedizione in due giorni a"
    assert clauses.for_embedding("Il corriere BRT è arrivato tardi", "it") == "il corriere è arrivato tardi"
    assert clauses.for_embedding("Die Lieferung nach Stuttgart", "de") == "die lieferung nach stuttgart"
    assert clauses.for_embedding("I wanted the books", "en") == "i wanted the books"
