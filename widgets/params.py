"""The query parameters of the widget endpoints, checked: each bad value is named in `fields`, which the
route turns into one 422 answer, never a 500. A parameter given is checked as given (an empty value is
no value), exactly as the OpenAPI document describes it (reviews/intake/openapi.py): the patterns here
are the document's."""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.datastructures import QueryParams

from widgets import ids

MAX_PRODUCT_ID = 200
_FLAGS = {"true": True, "false": False}
_DIGITS = re.compile("[0-9]+")
# A language tag whose primary subtag is one the widgets speak ("de", "de-AT", "pl_PL"), any case.
VISITOR_LANGUAGE = "^(?:[eE][nN]|[eE][sS]|[iI][tT]|[pP][lL]|[rR][oO]|[dD][eE]|[fF][rR])(?:[-_][0-9A-Za-z]{1,8})*$"
# A review's language, as reviews.json names it: a primary subtag ("pl").
REVIEW_LANGUAGE = "^[a-z]{2,3}$"


class Fields(dict[str, str]):
    """What was wrong with the query, by parameter."""


def positive_int(q: QueryParams, name: str, default: int, maximum: int, fields: Fields) -> int:
    raw = q.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw):
        fields[name] = "must be a whole number"
        return default
    value = int(raw)
    if value < 1:
        fields[name] = "must be at least 1"
    elif value > maximum:
        fields[name] = f"must be at most {maximum}"
    return value


def choice(q: QueryParams, name: str, choices: tuple[str, ...], fields: Fields) -> str | None:
    raw = q.get(name)
    if raw is None:
        return None
    if raw not in choices:
        fields[name] = "must be one of " + ", ".join(choices)
        return None
    return raw


def stars(q: QueryParams, fields: Fields) -> int | None:
    raw = choice(q, "stars", ("1", "2", "3", "4", "5"), fields)
    return int(raw) if raw else None


def flag(q: QueryParams, name: str, fields: Fields) -> bool:
    raw = q.get(name)
    if raw is None:
        return False
    if raw not in _FLAGS:
        fields[name] = "must be true or false"
        return False
    return _FLAGS[raw]


def visitor_language(q: QueryParams, name: str, supported: tuple[str, ...], fields: Fields) -> str | None:
    """The visitor's language as its primary subtag ("de" for "de-AT" or "de_AT"), one of `supported`."""
    raw = q.get(name)
    if raw is None:
        return None
    lang = raw.replace("_", "-").split("-")[0].lower()
    if not re.fullmatch(VISITOR_LANGUAGE, raw) or lang not in supported:
        fields[name] = "must be a language tag of " + ", ".join(supported)
        return None
    return lang


def review_language(q: QueryParams, name: str, fields: Fields) -> str | None:
    """A review language to keep to ("pl"): any, not only those the widgets speak."""
    raw = q.get(name)
    if raw is None:
        return None
    if not re.fullmatch(REVIEW_LANGUAGE, raw):
        fields[name] = "must be a language code such as pl"
        return None
    return raw


def product_trouble(product: str) -> str | None:
    """Why a product id cannot be one (PostgreSQL stores no NUL), or None."""
    if len(product) > MAX_PRODUCT_ID:
        return f"at most {MAX_PRODUCT_ID} characters"
    if not ids.storable(product):
        return "must not contain control characters"
    return None


def product_ids(query_string: bytes, maximum: int, fields: Fields) -> list[str]:
    """`products=a,b,c`: split on the commas of the raw query before decoding, so an id holding a comma
    is asked as `a%2Cb`. An empty value asks for none; otherwise no id may be empty, each is at most
    MAX_PRODUCT_ID characters, repeats count once, and there are at most `maximum`."""
    found: dict[str, None] = {}
    for pair in query_string.decode("latin-1").split("&"):
        name, _, value = pair.partition("=")
        if unquote(name.replace("+", " ")) != "products" or not value:
            continue
        for raw in value.split(","):
            product = unquote(raw.replace("+", " "))
            if not product:
                fields["products"] = "no id may be empty"
            elif trouble := product_trouble(product):
                fields["products"] = "each id " + trouble
            else:
                found[product] = None
    if len(found) > maximum:
        fields["products"] = f"at most {maximum} products in one request"
    return list(found)
