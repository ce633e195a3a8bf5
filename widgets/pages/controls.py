"""The links that filter, sort and page a list of reviews, each a plain <a> (no script): the
histogram's bars, the sort and language choices, "with a reply", the product choice and the pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel import Locale

from widgets.listing import SORTS
from widgets.pages import language
from widgets.pages.params import PRODUCT_PREFIX, SHOP_ONLY, Listing, href

# Page links around the current one; the first and last are always there.
PAGE_SPAN = 2


@dataclass(frozen=True)
class Bar:
    stars: int
    count: int
    percent: int  # of all the reviews summarised, rounded
    href: str  # filters by these stars, or clears the filter when it is the current one
    current: bool


@dataclass(frozen=True)
class Choice:
    key: str  # a sort, a language code, a product's `about` value; "" for "all"
    label: str  # a language's or product's name; the template words the others
    count: int | None
    href: str
    current: bool


@dataclass(frozen=True)
class Pager:
    pages: int
    previous: str | None
    next: str | None
    items: list[tuple[int, str, bool] | None]  # (number, link, current), None for a gap


class Links:
    """Links to one page (a shop's or a product's) in one language, from the listing shown."""

    def __init__(self, path: str, listing: Listing, lang: str | None) -> None:
        self.path, self.listing, self.lang = path, listing, lang

    def to(self, listing: Listing | None) -> str:
        return href(self.path, listing, self.lang)

    def histogram(self, summary: dict[str, Any]) -> list[Bar]:
        count = summary["count"]
        bars = []
        for n in range(5, 0, -1):
            found = summary["distribution"][str(n)]
            current = self.listing.stars == n
            bars.append(Bar(n, found, round(100 * found / count) if count else 0,
                            self.to(self.listing.but(stars=None if current else n)), current))
        return bars

    def sorts(self) -> list[Choice]:
        return [Choice(key, "", None, self.to(self.listing.but(sort=key)), self.listing.sort == key) for key in SORTS]

    def languages(self, counts: dict[str, int], locale: Locale) -> list[Choice]:
        """"All languages" and each language reviews are written in, the most frequent first."""
        found = sorted(((n, code) for code, n in counts.items() if code), key=lambda item: (-item[0], item[1]))
        choices = [Choice("", "", None, self.to(self.listing.but(language=None)), self.listing.language is None)]
        choices += [Choice(code, language.name_in(locale, code) or code, n, self.to(self.listing.but(language=code)),
                           self.listing.language == code) for n, code in found]
        return choices

    def replied(self) -> str:
        return self.to(self.listing.but(replied=not self.listing.replied))

    def photos(self) -> str:
        return self.to(self.listing.but(photos=not self.listing.photos))

    def topic(self, topic_id: int) -> str:
        """A topic chip's link: the reviews that mention it, or all of them again from the current chip."""
        return self.to(self.listing.but(topic=None if self.listing.topic == topic_id else topic_id))

    def products(self, facets: dict[str, Any]) -> list[Choice]:
        """The product choice of the shop page: everything, the shop itself, then each product by name."""
        about = self.listing.about
        choices = [Choice("", "", None, "", about is None)]
        if facets["shop"]:
            choices.append(Choice(SHOP_ONLY, "", facets["shop"], "", about == SHOP_ONLY))
        for product_id, name, n in facets["products"]:
            value = PRODUCT_PREFIX + product_id
            choices.append(Choice(value, name, n, "", about == value))
        return choices

    def kept(self) -> list[tuple[str, str]]:
        """The hidden fields a filter form sends along to keep the rest of the listing."""
        fields = [("lang", self.lang)] if self.lang else []
        return fields + [(k, v) for k, v in self.listing.but(about=None).params() if k != "about"]

    def pager(self, total: int, per_page: int) -> Pager:
        pages = max(1, -(-total // per_page))
        page = self.listing.page
        numbers = sorted({1, pages, *range(max(1, page - PAGE_SPAN), min(pages, page + PAGE_SPAN) + 1)})
        items: list[tuple[int, str, bool] | None] = []
        for i, n in enumerate(numbers):
            if i and n - numbers[i - 1] > 1:
                items.append(None)
            items.append((n, self.to(self.listing.but(page=n)), n == page))
        return Pager(pages, self.to(self.listing.but(page=page - 1)) if page > 1 else None,
                     self.to(self.listing.but(page=page + 1)) if page < pages else None, items)

    def clear(self) -> str:
        return self.to(None)
