"""What a topic shows a visitor: its label in the visitor's language where buyers wrote one (else
in the language most of its reviews are in, marked as such), its counted figures, and two or three
verbatim quotes, the visitor's language first, good and bad where both exist.

Pure functions over the rows `queries.topics` reads; nothing here writes or invents a word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

MAX_QUOTES = 3
# A row of `queries.topics` (an asyncpg Record) or a dict with the same keys (tests, the benchmark).
Row = Any
_BANDS = {"high": "4-5", "mid": "3", "low": "1-2"}


def _preference(visitor: str, main: str) -> Callable[[Row], tuple[int, int, float, int]]:
    def key(phrase: Row) -> tuple[int, int, float, int]:
        lang = phrase["language"]
        rank = 0 if lang == visitor else 1 if lang == main else 2
        return rank, phrase["quote_rank"] or 0, -phrase["centrality"], phrase["review_id"]

    return key


def _band(rating: int) -> str:
    return "high" if rating >= 4 else "mid" if rating == 3 else "low"


def label(phrases: Iterable[Row], visitor: str, main: str) -> Row | None:
    """The label in the visitor's language, else in the topic's main language, else any."""
    labels = {p["language"]: p for p in phrases if p["is_label"]}
    return labels.get(visitor) or labels.get(main) or (labels[min(labels)] if labels else None)


def quotes(phrases: Iterable[Row], visitor: str, main: str,
           limit: int = MAX_QUOTES) -> list[Row]:
    """Up to `limit` quotes from distinct reviews: the best 4-5★ and the best 1-2★ when the topic
    has both, then the most representative of the rest; the visitor's language first throughout."""
    ordered = sorted((p for p in phrases if p["quote_rank"] is not None), key=_preference(visitor, main))
    chosen: list[Row] = []
    good = next((p for p in ordered if _band(p["rating"]) == "high"), None)
    bad = next((p for p in ordered if _band(p["rating"]) == "low"), None)
    if good is not None and bad is not None:
        chosen = [good, bad]
    for p in ordered:
        if len(chosen) >= limit:
            break
        if all(p["review_id"] != c["review_id"] for c in chosen):
            chosen.append(p)
    return sorted(chosen, key=_preference(visitor, main))[:limit]


def _quote(p: Row) -> dict[str, Any]:
    return {"review_id": p["review_id"], "text": p["text"], "lang": p["language"], "rating": p["rating"]}


def shape(topics: list[Row], phrases: list[Row], visitor: str,
          language_name: Callable[[str], str]) -> list[dict[str, Any]]:
    """The `topics` list of topics.json: each topic with its label and quotes for this visitor.
    A topic whose every phrase left the published reviews since it was computed is left out."""
    by_topic: dict[int, list[Row]] = {}
    for p in phrases:
        by_topic.setdefault(p["topic_id"], []).append(p)
    shaped = []
    for t in topics:
        mine = by_topic.get(t["id"], [])
        chosen = label(mine, visitor, t["main_language"])
        if chosen is None:
            continue
        shaped.append({
            "id": t["id"],
            "label": {"text": chosen["text"], "lang": chosen["language"], "review_id": chosen["review_id"],
                      "in_visitor_language": chosen["language"] == visitor,
                      "language_name": language_name(chosen["language"])},
            "reviews": t["review_count"],
            "stars": {_BANDS[b]: t[f"stars_{b}"] for b in ("high", "mid", "low")},
            "languages": t["languages"],
            "quotes": [_quote(q) for q in quotes(mine, visitor, t["main_language"])],
        })
    return shaped
