"""The merchant as every package sees it: a typed row, with its settings' defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from reviews.merchants.settings import DEFAULT_SETTINGS, SECRET_SETTINGS


@dataclass(frozen=True)
class Merchant:
    id: int
    slug: str
    name: str
    locale: str
    settings: dict[str, Any]

    def setting(self, key: str) -> Any:
        return self.settings.get(key, DEFAULT_SETTINGS.get(key))

    @property
    def domains(self) -> tuple[str, ...]:
        """The website host names the shop registered (settings key `domains`), lowercase and
        IDNA-encoded: where its trust badge may show the rating, named on its public page."""
        return tuple(self.settings.get("domains") or ())

    def public_settings(self) -> dict[str, Any]:
        merged = {**DEFAULT_SETTINGS, **self.settings, "domains": list(self.domains)}
        return {k: ("set" if v else None) if k in SECRET_SETTINGS else v for k, v in merged.items()}

    def public(self) -> dict[str, Any]:
        """What the API and `attest merchant show` say of the shop."""
        return {"slug": self.slug, "name": self.name, "locale": self.locale, "settings": self.public_settings()}


def from_row(row: asyncpg.Record) -> Merchant:
    return Merchant(id=row["id"], slug=row["slug"], name=row["name"], locale=row["locale"], settings=row["settings"])
