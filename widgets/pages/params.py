"""The query of a public page, checked: filters, sort and page, and the links that keep them.

Whatever bytes a query holds, the answer is a page: a value that cannot mean anything is a
`BadRequest` (400), a page past the last one is `PastTheEnd` (404). Nothing of the query reaches SQL
or a link unchecked: the links are rebuilt from the checked values only, so unknown parameters
(tracking tags and the like) fall away.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.datastructures import QueryParams

from widgets.ids import valid_product_id
from widgets.listing import SORTS, ReviewFilter
from widgets.pages.language import primary

PER_PAGE = 20
# A page number longer than this is past the last page of any shop (20 × 10^7 reviews).
MAX_PAGE_DIGITS = 7
MAX_TOPIC = 2**63 - 1
SHOP_ONLY = "shop"
PRODUCT_PREFIX = "p:"
_DIGITS = re.compile(r"[0-9]+")
# A registered website: a lowercase (IDNA-encoded) host name with a dot, no scheme, port or path.
_HOST = re.compile(r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class BadRequest(Exception):
    """A query value that means nothing (the field's name is the message)."""


class PastTheEnd(Exception):
    """A page number beyond the last page."""


def valid_host(host: str) -> bool:
    return _HOST.fullmatch(host) is not None


@dataclass(frozen=True)
class Listing:
    """Which reviews a page lists and how. `about` is only the shop page's: the shop's own reviews
    ("shop") or one product's ("p:<id>")."""

    about: str | None = None
    stars: int | None = None
    language: str | None = None
    replied: bool = False
    sort: str = "newest"
    page: int = 1
    photos: bool = False  # only the reviews with photos
    topic: int | None = None  # only the reviews that mention this topic (a chip of the product page)

    @property
    def filtered(self) -> bool:
        """A variant of the page (noindex): anything but every review, newest first."""
        return (self.about, self.stars, self.language, self.replied, self.sort, self.photos, self.topic) != (
            None, None, None, False, "newest", False, None)

    @property
    def product_id(self) -> str | None:
        return self.about[len(PRODUCT_PREFIX):] if self.about and self.about.startswith(PRODUCT_PREFIX) else None

    def but(self, **changes: object) -> Listing:
        """This listing with some values changed; a change of filter or sort starts again at page 1."""
        if "page" not in changes:
            changes["page"] = 1
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def params(self) -> list[tuple[str, str]]:
        """The values that differ from the defaults, in a fixed order (one address per listing)."""
        out: list[tuple[str, str]] = []
        if self.about:
            out.append(("about", self.about))
        if self.stars:
            out.append(("stars", str(self.stars)))
        if self.language:
            out.append(("language", self.language))
        if self.replied:
            out.append(("replied", "1"))
        if self.photos:
            out.append(("photos", "1"))
        if self.topic:
            out.append(("topic", str(self.topic)))
        if self.sort != "newest":
            out.append(("sort", self.sort))
        if self.page > 1:
            out.append(("page", str(self.page)))
        return out

    def review_filter(self, product_id: str | None, first_language: str) -> ReviewFilter:
        return ReviewFilter(product_id=product_id or self.product_id, shop_only=self.about == SHOP_ONLY,
                            stars=self.stars, language=self.language, with_reply=self.replied,
                            with_photos=self.photos, topic_id=self.topic, sort=self.sort, first_language=first_language)


def href(path: str, listing: Listing | None, lang: str | None) -> str:
    """A link to `path` with the listing's values and the explicit language, if any."""
    params = ([("lang", lang)] if lang else []) + (listing.params() if listing else [])
    return path + ("?" + urlencode(params, quote_via=quote) if params else "")


def parse(query: QueryParams, *, allow_about: bool) -> Listing:
    """The checked listing of a query. Raises BadRequest or PastTheEnd."""
    about = _about(query.get("about")) if allow_about else None
    stars = None
    if raw := query.get("stars"):
        if raw not in ("1", "2", "3", "4", "5"):
            raise BadRequest("stars")
        stars = int(raw)
    language = None
    if raw := query.get("language"):
        language = primary(raw)
        if language is None or language != raw.strip().lower():
            raise BadRequest("language")
    replied = query.get("replied") or ""
    if replied not in ("", "1"):
        raise BadRequest("replied")
    photos = query.get("photos") or ""
    if photos not in ("", "1"):
        raise BadRequest("photos")
    sort = query.get("sort") or "newest"
    if sort not in SORTS:
        raise BadRequest("sort")
    return Listing(about, stars, language, replied == "1", sort, _page(query.get("page")), photos == "1",
                   _topic(query.get("topic")))


def _topic(raw: str | None) -> int | None:
    if not raw:
        return None
    # A topic id is a bigint: a longer number is none (no reviews, an empty list), never an error.
    if not _DIGITS.fullmatch(raw) or int(raw) < 1:
        raise BadRequest("topic")
    return min(int(raw), MAX_TOPIC)


def _about(raw: str | None) -> str | None:
    if not raw:
        return None
    if raw == SHOP_ONLY:
        return raw
    if raw.startswith(PRODUCT_PREFIX) and valid_product_id(raw[len(PRODUCT_PREFIX):]):
        return raw
    raise BadRequest("about")


def _page(raw: str | None) -> int:
    if not raw:
        return 1
    if not _DIGITS.fullmatch(raw):
        raise BadRequest("page")
    if len(raw.lstrip("0")) > MAX_PAGE_DIGITS:
        raise PastTheEnd
    page = int(raw)
    if page < 1:
        raise BadRequest("page")
    return page


def shop_path(slug: str) -> str:
    return f"/shops/{quote(slug, safe='')}"


def product_path(slug: str, product_id: str) -> str:
    # Every reserved character encoded, "/" too: the route takes the whole rest of the path.
    return f"{shop_path(slug)}/products/{quote(product_id, safe='')}"
