"""`attest import FILE`: reviews collected elsewhere, marked `imported` (never "verified buyer").

Formats, recognised by their headers: JSONL or CSV with Attest's own fields (id, merchant,
merchant_name, product_id, product_name, order_id, lang, rating, title, body, author_name,
display_name, author_email, created_at), and the review exports of Judge.me, Yotpo and Trustpilot. Imports are
idempotent by (merchant, external id); a bad line is reported with its number and reason and the
rest still import.

What an export says about its reviews is kept, not lost on the way in:

- its moderation state: a review the source had not approved (Judge.me `curated` other than
  `ok`, Yotpo `published` other than `true`) is stored with that state, and screening holds it
  with a flag saying why (`reviews.screening.scanning`), so it is never published straight away;
- the public name: the same rule as collected reviews (first name and initial), unless the
  export's name is one the reviewer chose to show (Attest's `display_name`, a Trustpilot user name);
- the language (detected when the export has none) and the product's name;
- the merchant's public reply: it becomes the review's public reply (`reviews.collection.replies`,
  at the reply's own time when the export has one), shown under the review once it is published,
  and the shop may edit it in the console;
- the photos (Judge.me's `picture_urls`, Yotpo's image columns): their addresses are kept on the
  review, and the worker fetches them (`reviews.media.imports`), processes them like uploads and
  holds each for a moderator.
- the date its author wrote it (`submitted_at`), which every public surface shows, not the day of
  the import, and the platform it came from (`import_source`: "Imported from Judge.me");
- the shop's name (`merchant_name`, Trustpilot's "Webshop Name"): a shop that `--create-merchants`
  creates is named so, not after its slug. An existing shop is never renamed by an import.

The summary says how many of each.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from reviews.collection import contacts, language, replies, store
from reviews.collection.authors import default_display_name
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform.db import Connection
from reviews.platform.errors import ValidationError
from reviews.platform.hashing import Hasher
from reviews.platform.text import clean

MAX_TEXT = 10_000
MAX_PHOTOS = 20
_URL = re.compile(r"https?://[^\s,\"'<>]+")

# Each platform's export, recognised by headers no other format has (compared lower-cased).
# Judge.me: its review export and import template. Yotpo: its review export (see
# tests/collection/fixtures/README.md for where each header comes from).
JUDGEME_HEADERS = {"title", "body", "rating", "review_date", "reviewer_name", "reviewer_email"}
YOTPO_HEADERS = {"review_title", "review_content", "review_score", "display_name", "published"}
TRUSTPILOT_HEADERS = {"review created (utc)", "review stars", "review content"}


@dataclass
class Record:
    line: int
    external_id: str
    merchant: str
    product_id: str | None
    product_name: str | None
    order_id: str | None
    lang: str | None
    rating: int
    title: str
    body: str
    display_name: str
    author_email: str | None
    created_at: datetime
    source_state: str | None = None
    reply: str | None = None
    reply_at: datetime | None = None
    photos: list[str] = field(default_factory=list)
    merchant_name: str | None = None


@dataclass
class Report:
    total: int = 0
    imported: int = 0
    already: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    merchants_created: list[str] = field(default_factory=list)
    format: str = ""
    held: dict[str, int] = field(default_factory=dict)
    languages_detected: int = 0
    replies_imported: int = 0
    photos_to_fetch: int = 0

    def summary(self) -> dict[str, Any]:
        notes = []
        if self.held:
            notes.append(f"{sum(self.held.values())} review(s) the source had not approved are held for a "
                         "moderator (attest flags), never published straight away.")
        if self.replies_imported:
            notes.append(f"{self.replies_imported} merchant reply(ies) are their reviews' public replies, shown "
                         "under them once published; the shop can edit them in the console.")
        if self.photos_to_fetch:
            notes.append(f"{self.photos_to_fetch} review(s) have photos: the worker fetches them, and each waits "
                         "for a moderator (Photos) before it is shown.")
        return {"format": self.format, "lines": self.total, "imported": self.imported,
                "already_imported": self.already, "errors": len(self.errors),
                "merchants_created": self.merchants_created, "held_by_source_state": dict(sorted(self.held.items())),
                "languages_detected": self.languages_detected, "replies_imported": self.replies_imported,
                "photos_to_fetch": self.photos_to_fetch, "notes": notes}


def _headers(head: str) -> set[str]:
    first = next(csv.reader(io.StringIO(head.splitlines()[0] if head else "")), [])
    return {h.strip().lower() for h in first}


def detect_format(path: Path, head: str) -> str:
    if path.suffix.lower() in (".jsonl", ".ndjson") or head.lstrip().startswith("{"):
        return "jsonl"
    headers = _headers(head)
    if "merchant" in headers:
        return "csv"
    for fmt, needed in (("judgeme", JUDGEME_HEADERS), ("yotpo", YOTPO_HEADERS), ("trustpilot", TRUSTPILOT_HEADERS)):
        if needed <= headers:
            return fmt
    return "csv"


def read_rows(path: Path) -> tuple[str, Iterator[tuple[int, dict[str, Any] | str]]]:
    """(format, rows): each row is (line number, Attest's fields) or (line number, error)."""
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
        mapping = MAPPINGS[fmt]
        for row in reader:
            fields = {(k or "").strip().lower(): v for k, v in row.items() if k is not None}
            yield reader.line_num, mapping(fields)

    return fmt, (jsonl() if fmt == "jsonl" else rows_csv())


# --- each platform's columns → Attest's fields --------------------------------------------------

# Attest's own CSV also takes the column names other tools commonly write.
ALIASES = {
    "review_date": "created_at", "reviewer_name": "author_name", "reviewer_email": "author_email",
    "external_id": "id", "review_id": "id", "date": "created_at", "stars": "rating", "content": "body",
    "text": "body", "language": "lang",
}


def _own(row: dict[str, Any]) -> dict[str, Any]:
    return {ALIASES.get(k, k): v for k, v in row.items()}


def _photos(value: Any) -> list[str]:
    return _URL.findall(str(value or ""))[:MAX_PHOTOS]


def _judgeme(row: dict[str, Any]) -> dict[str, Any]:
    # `curated` is Judge.me's moderation state: "ok" is approved; spam and anything not yet
    # curated is held. An export without the column says nothing, so nothing is held for it.
    curated = str(row.get("curated") or "").strip().lower()
    return {
        "merchant": None, "id": None, "title": row.get("title"), "body": row.get("body"), "rating": row.get("rating"),
        "created_at": row.get("review_date"), "author_name": row.get("reviewer_name"),
        "author_email": row.get("reviewer_email"),
        "product_id": row.get("product_id") or row.get("product_handle"),
        "product_name": row.get("product_title") or row.get("product_handle"),
        "source_state": None if "curated" not in row or curated == "ok" else f"curated={curated or '(empty)'}",
        "reply": row.get("reply"), "reply_at": row.get("reply_date"), "photos": _photos(row.get("picture_urls")),
    }


def _yotpo(row: dict[str, Any]) -> dict[str, Any]:
    published = str(row.get("published") or "").strip().lower()
    # A comment that is not public is the merchant's note, not a reply anyone saw.
    public = str(row.get("comment_public") or "").strip().lower() == "true"
    return {
        "merchant": None, "id": None, "title": row.get("review_title"), "body": row.get("review_content"),
        "rating": row.get("review_score"), "created_at": row.get("date"), "author_name": row.get("display_name"),
        "author_email": row.get("email"), "product_id": row.get("sku"), "product_name": row.get("product_title"),
        "source_state": None if published == "true" else f"published={published or '(empty)'}",
        "reply": row.get("comment_content") if public else None,
        "reply_at": row.get("comment_created_at") if public else None,
        # Every photo waits for a moderator here, so the ones Yotpo had not published come too.
        "photos": (_photos(row.get("published_image_url")) + _photos(row.get("unpublished_image_url")))[:MAX_PHOTOS],
    }


def _trustpilot(row: dict[str, Any]) -> dict[str, Any]:
    # Service reviews of the shop itself: no product. Trustpilot publishes what it keeps, so the
    # export carries no moderation state; the user name is the one the reviewer shows on Trustpilot.
    return {
        "merchant": None, "id": row.get("review id"), "title": row.get("review title"),
        "body": row.get("review content"), "rating": row.get("review stars"),
        "created_at": row.get("review created (utc)"), "display_name": row.get("review username"),
        "author_email": row.get("review user email"), "order_id": row.get("reference id"),
        "merchant_name": row.get("webshop name"),
        "lang": row.get("review language"), "reply": row.get("company response"),
        "reply_at": row.get("company reply date (utc)") or row.get("business reply date (utc)"),
    }


# The formats that are another platform's export, as `reviews.import_source` records it: Attest's own
# CSV and JSONL name no platform.
PLATFORMS = frozenset({"judgeme", "yotpo", "trustpilot"})

MAPPINGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "csv": _own, "judgeme": _judgeme, "yotpo": _yotpo, "trustpilot": _trustpilot,
}


# --- checking one row ---------------------------------------------------------------------------

def _parse_time(value: Any, name: str = "created_at") -> datetime:
    text = str(value or "").strip()
    if not text:
        raise ValueError(f"{name} is missing")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 date: {text[:40]!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _text(value: Any, name: str, *, required: bool = False) -> str:
    text = "" if value is None else (clean(str(value)) or "")
    if required and not text:
        raise ValueError(f"{name} is missing")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{name} is longer than {MAX_TEXT} characters")
    return text


def _lang(value: Any) -> str | None:
    tag = _text(value, "lang").lower().replace("_", "-")
    return tag.split("-")[0][:8] or None


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
    # A name the reviewer chose to show stays; a plain name follows the rule collected reviews do.
    chosen = _text(row.get("display_name"), "display_name")
    display = chosen or default_display_name(_text(row.get("author_name"), "author_name"))
    reply = _text(row.get("reply"), "reply") or None
    try:
        reply_at = _parse_time(row.get("reply_at"), "reply_date") if reply else None
    except ValueError:
        reply_at = None  # the reply is what matters; an odd date on it is no reason to refuse the review
    photos = row.get("photos")
    merchant_name = _text(row.get("merchant_name"), "merchant_name")[:200] or None
    return Record(line, external_id, merchant.lower(), product,
                  _text(row.get("product_name"), "product_name")[:500] or None,
                  _text(row.get("order_id"), "order_id") or None, _lang(row.get("lang")), rating, title, body,
                  display[:60], email, created_at, _text(row.get("source_state"), "state")[:200] or None, reply,
                  reply_at, [str(p) for p in photos][:MAX_PHOTOS] if isinstance(photos, list) else [],
                  merchant_name)


# --- importing ----------------------------------------------------------------------------------

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
    if progress is not None:  # the lines counted before parsing include a CSV's header and its quoted line breaks
        progress.reset(total=len(records))
    known: dict[str, Merchant | None] = {}
    async with pool.acquire() as conn:
        for chunk_start in range(0, len(records), 500):
            chunk = records[chunk_start:chunk_start + 500]
            async with conn.transaction():
                for rec in chunk:
                    if rec.merchant not in known:
                        known[rec.merchant] = await _merchant(conn, rec.merchant, create_merchants, report,
                                                              _name_of(records, rec.merchant))
                    merchant = known[rec.merchant]
                    if merchant is None:
                        report.errors.append((rec.line, f"unknown merchant {rec.merchant!r} "
                                                        "(use --create-merchants)"))
                        continue
                    await _add(conn, rec, merchant, report, fmt=fmt, hasher=hasher, now=now)
                    if progress is not None:
                        progress.update(1)
    report.errors.sort()
    return report


def _contact(email: str | None, hasher: Hasher) -> str | None:
    found = contacts.shape(email, hasher) if email else None
    return found.stored() if found else None


async def _add(conn: Connection, rec: Record, merchant: Merchant, report: Report, *, fmt: str, hasher: Hasher,
               now: datetime) -> None:
    detected = None if rec.lang else language.detect(f"{rec.title}\n{rec.body}")
    review_id = await store.add_imported(conn, store.Imported(
        merchant_id=merchant.id, external_id=rec.external_id, product_id=rec.product_id,
        product_name=rec.product_name, order_id=rec.order_id, locale=rec.lang or detected or merchant.locale,
        rating=rec.rating, title=rec.title, body=rec.body, display_name=rec.display_name,
        author_hash=hasher.address(rec.author_email) if rec.author_email else None, submitted_at=rec.created_at,
        source_state=rec.source_state, media_urls=rec.photos, source=fmt if fmt in PLATFORMS else None,
        author_contact=_contact(rec.author_email, hasher)), now)
    if review_id is None:
        report.already += 1
        return
    report.imported += 1
    report.languages_detected += detected is not None
    if rec.reply is not None:
        report.replies_imported += await replies.add_imported(
            conn, merchant_id=merchant.id, review_id=review_id, text=rec.reply, at=rec.reply_at, now=now)
    report.photos_to_fetch += bool(rec.photos)
    if rec.source_state:
        report.held[rec.source_state] = report.held.get(rec.source_state, 0) + 1


def _name_of(records: list[Record], slug: str) -> str | None:
    """The shop's name as the file gives it: its first line that names the shop (in file order)."""
    named = [r for r in records if r.merchant == slug and r.merchant_name]
    return min(named, key=lambda r: r.line).merchant_name if named else None


async def _merchant(conn: Connection, slug: str, create: bool, report: Report, name: str | None) -> Merchant | None:
    merchant = await merchants.by_slug(conn, slug)
    if merchant is None and create:
        try:
            merchant = await merchants.create_keyless(conn, name=name or slug, slug=slug)
        except ValidationError:
            return None  # not a valid slug: every line of it is reported as unknown
        report.merchants_created.append(slug)
    return merchant
