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

    def public_settings(self) -> dict[str, Any]:
        merged = {**DEFAULT_SETTINGS, **self.settings}
        return {k: ("set" if v else None) if k in SECRET_SETTINGS else v for k, v in merged.items()}


def from_row(row: asyncpg.Record) -> Merchant:
    return Merchant(id=row["id"], slug=row["slug"], name=row["name"], locale=row["locale"], settings=row["settings"])
