"""The query parameters of the widget endpoints, checked: each bad value is named in `fields`, which the
route turns into one 422 answer, never a 500."""

from __future__ import annotations

from urllib.parse import unquote

from starlette.datastructures import QueryParams

MAX_PRODUCT_ID = 200
_TRUE = {"1": True, "true": True, "0": False, "false": False, "": False}


class Fields(dict[str, str]):
    """What was wrong with the query, by parameter."""


def positive_int(q: QueryParams, name: str, default: int, maximum: int, fields: Fields) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        fields[name] = "must be a whole number"
        return default
    if value < 1:
        fields[name] = "must be at least 1"
    elif value > maximum:
        fields[name] = f"must be at most {maximum}"
    return value


def choice(q: QueryParams, name: str, choices: tuple[str, ...], fields: Fields) -> str | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        fields[name] = "must be one of " + ", ".join(choices)
        return None
    return raw


def stars(q: QueryParams, fields: Fields) -> int | None:
    raw = choice(q, "stars", ("1", "2", "3", "4", "5"), fields)
    return int(raw) if raw else None


def flag(q: QueryParams, name: str, fields: Fields) -> bool:
    raw = (q.get(name) or "").lower()
    if raw not in _TRUE:
        fields[name] = "must be true or false"
        return False
    return _TRUE[raw]


def language(q: QueryParams, name: str, supported: tuple[str, ...], fields: Fields) -> str | None:
    """A language as its primary subtag ("de" for "de-AT" or "de_AT"), one of `supported`."""
    raw = q.get(name)
    if not raw:
        return None
    lang = raw.replace("_", "-").split("-")[0].lower()
    if lang not in supported:
        fields[name] = "must be one of " + ", ".join(supported)
        return None
    return lang


def product_trouble(product: str) -> str | None:
    """Why a product id cannot be one (PostgreSQL stores no NUL), or None."""
    if len(product) > MAX_PRODUCT_ID:
        return f"at most {MAX_PRODUCT_ID} characters"
    if "\x00" in product:
        return "must not hold NUL characters"
    return None


def product_ids(query_string: bytes, maximum: int, fields: Fields) -> list[str]:
    """`products=a,b,c`: split on the commas of the raw query before decoding, so an id holding a comma
    is asked as `a%2Cb`. Empty items are skipped; each id at most MAX_PRODUCT_ID characters; repeats
    count once; at most `maximum` ids."""
    found: dict[str, None] = {}
    for pair in query_string.decode("latin-1").split("&"):
        name, _, value = pair.partition("=")
        if unquote(name.replace("+", " ")) != "products":
            continue
        for raw in value.split(","):
            product = unquote(raw.replace("+", " ")) if raw else ""
            if trouble := product_trouble(product):
                fields["products"] = "each id " + trouble
            elif product:
                found[product] = None
    if len(found) > maximum:
        fields["products"] = f"at most {maximum} products in one request"
    return list(found)
