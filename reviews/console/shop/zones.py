"""The settings page's time-zone field: every zone the settings accept, each with its city and country
in the user's language, the shop's own country first; and a zone typed in any case read as its name.
The rule that refuses an unknown zone is the settings' own (`reviews.merchants.settings`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from babel.core import Locale, get_global

from reviews.merchants.model import Merchant
from reviews.platform import bodies
from reviews.platform.i18n import babel_locale

_BY_LOWER = {zone.lower(): zone for zone in bodies.ZONES}


@dataclass(frozen=True)
class Choice:
    zone: str
    label: str  # "Warsaw · Poland", in the user's language


def canonical(typed: str) -> str:
    """Europe/warsaw → Europe/Warsaw; anything unknown is left as typed, for the rule to refuse."""
    return _BY_LOWER.get(typed.strip().lower(), typed.strip())


def shop_country(merchant: Merchant) -> str | None:
    """Where the shop is, as well as can be told: its website's country domain (.pl), else its language's
    country (pl → PL; English says nothing), else its current time zone's."""
    zones = get_global("territory_zones")
    for host in merchant.domains:
        tld = host.rsplit(".", 1)[-1].upper()
        if len(tld) == 2 and tld in zones:
            return tld
    if merchant.locale != "en":
        territory = str(get_global("likely_subtags").get(merchant.locale, "")).rsplit("_", 1)[-1]
        if territory in zones:
            return territory
    return str(get_global("zone_territories").get(merchant.setting("timezone"), "")) or None


@cache
def _choices(locale: str, country: str | None) -> tuple[Choice, ...]:
    names = Locale.parse(babel_locale(locale)).territories
    territory_of = get_global("zone_territories")

    def choice(zone: str) -> Choice:
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        where = names.get(territory_of.get(zone, ""), "")
        return Choice(zone, f"{city} · {where}" if where else city)
    everything = [choice(zone) for zone in bodies.ZONES]
    return tuple(sorted(everything, key=lambda c: territory_of.get(c.zone) != country))


def choices(locale: str, merchant: Merchant) -> tuple[Choice, ...]:
    return _choices(locale, shop_country(merchant))
