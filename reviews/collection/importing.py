"""`attest import FILE`: reviews collected elsewhere, marked `imported` (never "verified buyer").

Formats: JSONL or CSV with Attest's own fields (id, merchant, product_id, order_id, lang,
rating, title, body, author_name, author_email, created_at), and Judge.me's review export
CSV, recognised by its headers. Imports are idempotent by (merchant, external id); a bad
line is reported with its number and reason and the rest still import.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from reviews.collection import store
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.db import Connection
from reviews.platform.errors import ValidationError
from reviews.platform.hashing import Hasher
from reviews.platform.text import clean

# Other platforms' column names → ours. Judge.me's export has no shop column (one file per
# shop: pass --merchant) and no review id (one is derived from the review's content).
ALIASES = {
    "review_date": "created_at", "reviewer_name": "author_name", "reviewer_email": "author_email",
    "product_handle": "product_handle", "external_id": "id", "review_id": "id",
    "date": "created_at", "stars": "rating", "content": "body", "text": "body", "language": "lang",
}
JUDGEME_HEADERS = {"title", "body", "rating", "review_date", "reviewer_name", "reviewer_email"}
MAX_TEXT = 10_000


@dataclass
class Record:
    line: int
    external_id: str
    merchant: str
    product_id: str | None
    order_id: str | None
    lang: str | None
    rating: int
    title: str
    body: str
    author_name: str
    author_email: str | None
    created_at: datetime


@dataclass
class Report:
    total: int = 0
    imported: int = 0
    already: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    merchants_created: list[str] = field(default_factory=list)
    format: str = ""

    def summary(self) -> dict[str, Any]:
        return {"format": self.format, "lines": self.total, "imported": self.imported,
                "already_imported": self.already, "errors": len(self.errors),
                "merchants_created": self.merchants_created}


def detect_format(path: Path, head: str) -> str:
    if path.suffix.lower() in (".jsonl", ".ndjson") or head.lstrip().startswith("{"):
        return "jsonl"
    first = next(csv.reader(io.StringIO(head.splitlines()[0] if head else "")), [])
    headers = {h.strip().lower() for h in first}
    return "judgeme" if JUDGEME_HEADERS <= headers and "merchant" not in headers else "csv"


def read_rows(path: Path) -> tuple[str, Iterator[tuple[int, dict[str, Any] | str]]]:
    """(format, rows): each row is (line number, fields) or (line number, error)."""
    text = path.read_text(encoding="utf-8-sig")
    fmt = detect_format(path, text[:4096])

    def jsonl() -> Iterator[tuple[int, dict[str, Any] | str]]:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, f"not valid JSON ({exc.msg})"
                continue
            yield (n, value) if isinstance(value, dict) else (n, "not a JSON object")

    def rows_csv() -> Iterator[tuple[int, dict[str, Any] | str]]:
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            fields = {ALIASES.get((k or "").strip().lower(), (k or "").strip().lower()): v for k, v in row.items()}
            yield reader.line_num, fields

    return fmt, (jsonl() if fmt == "jsonl" else rows_csv())


def _parse_time(value: Any) -> datetime:
    text = str(value or "").strip()
    if not text:
        raise ValueError("created_at is missing")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        raise ValueError(f"created_at is not an ISO 8601 date: {text[:40]!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _text(value: Any, name: str, *, required: bool = False) -> str:
    text = "" if value is None else (clean(str(value)) or "")
    if required and not text:
        raise ValueError(f"{name} is missing")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{name} is longer than {MAX_TEXT} characters")
    return text


def to_record(line: int, row: dict[str, Any], default_merchant: str | None) -> Record:
    merchant = _text(row.get("merchant"), "merchant") or (default_merchant or "")
    if not merchant:
        raise ValueError("merchant is missing (add the column or pass --merchant)")
    try:
        rating = int(float(str(row.get("rating", "")).strip()))
    except ValueError:
        raise ValueError(f"rating must be a number from 1 to 5, got {row.get('rating')!r}") from None
    if not 1 <= rating <= 5 or float(str(row.get("rating")).strip()) != rating:
        raise ValueError(f"rating must be a whole number from 1 to 5, got {row.get('rating')!r}")
    title, body = _text(row.get("title"), "title"), _text(row.get("body"), "body")
    if not title and not body:
        raise ValueError("title and body are both empty")
    created_at = _parse_time(row.get("created_at"))
    email = _text(row.get("author_email"), "author_email") or None
    product = _text(row.get("product_id"), "product_id") or _text(row.get("product_handle"), "product") or None
    external_id = _text(row.get("id"), "id")
    if not external_id:
        # Stable across re-imports of the same export, so a second run imports nothing twice.
        digest = hashlib.sha256(json.dumps([merchant, product, email, created_at.isoformat(), title, body],
                                           ensure_ascii=False).encode()).hexdigest()[:24]
        external_id = f"import-{digest}"
    lang = _text(row.get("lang"), "lang").lower() or None
    return Record(line, external_id, merchant.lower(), product, _text(row.get("order_id"), "order_id") or None,
                  lang, rating, title, body, _text(row.get("author_name"), "author_name"), email, created_at)


async def import_file(
    pool: asyncpg.Pool, path: Path, *, hasher: Hasher, now: datetime, create_merchants: bool = False,
    default_merchant: str | None = None, progress: Any = None,
) -> Report:
    report = Report()
    fmt, rows = read_rows(path)
    report.format = fmt
    records: list[Record] = []
    for line, row in rows:
        report.total += 1
        if isinstance(row, str):
            report.errors.append((line, row))
            continue
        try:
            records.append(to_record(line, row, default_merchant))
        except ValueError as exc:
            report.errors.append((line, str(exc)))
    # Scans run in id order: insert oldest first so "earlier" means what it says.
    records.sort(key=lambda r: (r.created_at, r.line))
    known: dict[str, Merchant | None] = {}
    async with pool.acquire() as conn:
        for chunk_start in range(0, len(records), 500):
            chunk = records[chunk_start:chunk_start + 500]
            async with conn.transaction():
                for rec in chunk:
                    if rec.merchant not in known:
                        known[rec.merchant] = await _merchant(conn, rec.merchant, create_merchants, report)
                    merchant = known[rec.merchant]
                    if merchant is None:
                        report.errors.append((rec.line, f"unknown merchant {rec.merchant!r} "
                                                        "(use --create-merchants)"))
                        continue
                    review_id = await store.add_imported(conn, store.Imported(
                        merchant_id=merchant.id, external_id=rec.external_id, product_id=rec.product_id,
                        order_id=rec.order_id, locale=rec.lang, rating=rec.rating, title=rec.title, body=rec.body,
                        display_name=rec.author_name[:60],
                        author_hash=hasher.address(rec.author_email) if rec.author_email else None,
                        submitted_at=rec.created_at), now)
                    if review_id is None:
                        report.already += 1
                    else:
                        report.imported += 1
                    if progress is not None:
                        progress.update(1)
    report.errors.sort()
    return report


async def _merchant(conn: Connection, slug: str, create: bool, report: Report) -> Merchant | None:
    merchant = await merchants.by_slug(conn, slug)
    if merchant is None and create:
        try:
            merchant, _ = await merchants.create(conn, name=slug, slug=slug)
        except ValidationError:
            return None  # not a valid slug: every line of it is reported as unknown
        report.merchants_created.append(slug)
    return merchant
