"""The strings embed.js shows, one language at a time (`/widgets/v1/i18n/{lang}.json`), taken from
the same gettext catalog as the server-rendered widgets, so a phrase is translated once.

Placeholders become `{name}` (`%(num)d` → `{num}`). A plural message becomes one key per CLDR plural
category the language has (`count_one`, `count_few`, `count_many`, `count_other`), which the script
picks with `Intl.PluralRules`; each is what the catalog's plural formula gives for a number of that
category.
"""

from __future__ import annotations

import json
import re

from widgets.config import Catalog

SINGULAR = {
    "title": "Customer reviews",
    "none": "No reviews yet",
    "stars": "Rated %(rating)s out of 5",
    "verified": "Verified buyer",
    "imported": "Imported review",
    "edited": "Edited %(date)s",
    "anonymous": "Anonymous",
    "how": "How reviews are verified",
    "reply": "Reply from %(name)s",
    "written": "Written in %(language)s",
    "filter": "Filter by rating",
    "all": "All ratings",
    "sort": "Sort by",
    "newest": "Newest",
    "highest": "Highest rated",
    "lowest": "Lowest rated",
    "more": "Show more reviews",
    "page": "All reviews of %(name)s",
    "prev": "Previous review",
    "next": "Next review",
    "pause": "Pause",
    "play": "Play",
    "carousel": "carousel",
    "slide": "slide",
    "slideof": "%(index)s of %(count)s",
    "by": "Verified by Attest",
    "warn": "Seal not valid on this website",
    "notreg": "%(host)s is not a website registered by %(name)s.",
    "close": "Close",
    "mention": "What buyers mention",
    "mentioned": "Mentioned in %(language)s",
    "split": "%(high)s of them 4-5★, %(low)s of them 1-2★",
}
PLURAL = {
    "rated": ("Rated %(avg)s out of 5 from %(num)d review", "Rated %(avg)s out of 5 from %(num)d reviews"),
    "count": ("%(num)d review", "%(num)d reviews"),
    "nstars": ("%(num)d star", "%(num)d stars"),
    "showing": ("Showing %(shown)s of %(num)d review", "Showing %(shown)s of %(num)d reviews"),
    "vcount": ("%(num)d verified review", "%(num)d verified reviews"),
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _js(text: str) -> str:
    return _PLACEHOLDER.sub(r"{\1}", text)


def samples(catalog: Catalog, lang: str) -> dict[str, int]:
    """A whole number of each CLDR plural category the language has. "other" is always there: the
    script falls back to it (in Polish it holds only fractions, which no count is; its form then is
    that of "many")."""
    locale = catalog.babel_locale(lang)
    found: dict[str, int] = {}
    # French, Spanish and Italian have "many" only for round millions ("1 000 000 d'avis").
    for n in (*range(200), 10**6):
        found.setdefault(locale.plural_form(n), n)
    found.setdefault("other", 5)
    return found


def strings(catalog: Catalog, lang: str) -> dict[str, str]:
    t = catalog.translations(lang)
    out = {key: _js(t.gettext(msgid)) for key, msgid in SINGULAR.items()}
    for key, (one, other) in PLURAL.items():
        for category, n in samples(catalog, lang).items():
            out[f"{key}_{category}"] = _js(t.ngettext(one, other, n))
    return out


def json_of(catalog: Catalog, lang: str) -> bytes:
    return json.dumps(strings(catalog, lang), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
