"""The shop's reviews exported (viewer and up), every state, as CSV for spreadsheets or JSON lines,
streamed; reading is `reviews.collection.listing.export`. Each export is audited.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from reviews.collection import listing
from reviews.collection.listing import EXPORT_FIELDS
from reviews.console.guards import shop_page
from reviews.console.shops import Shop
from reviews.platform import audit

CSV_ROWS_PER_CHUNK = 200
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made plain text with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def _csv_chunks(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # the byte order mark: spreadsheets then read the file as UTF-8
    writer.writerow(EXPORT_FIELDS)
    n = 0
    async for row in rows:
        writer.writerow(["" if row[k] is None else spreadsheet_safe(row[k]) for k in EXPORT_FIELDS])
        n += 1
        if n % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _jsonl_chunks(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    lines: list[str] = []
    async for row in rows:
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        if len(lines) >= CSV_ROWS_PER_CHUNK:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


async def _export(found: Shop, kind: str) -> Response:
    assert found.who.user is not None
    svc = found.who.svc
    await audit.record(svc.pool, actor=found.who.user.email, action="console.export", table="merchants",
                       row_id=found.merchant.id, after={"format": kind}, now=svc.clock.now())
    rows = listing.export(svc.pool, found.merchant.id)
    name = f"{found.merchant.slug}-reviews.{kind}"
    headers = {"Content-Disposition": f"attachment; filename=\"{quote(name, safe='')}\"; "
                                      f"filename*=UTF-8''{quote(name, safe='')}",
               "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if kind == "csv":
        return StreamingResponse(_csv_chunks(rows), media_type="text/csv; charset=utf-8", headers=headers)
    return StreamingResponse(_jsonl_chunks(rows), media_type="application/x-ndjson; charset=utf-8", headers=headers)


@shop_page("viewer")
async def export_csv(request: Request, found: Shop) -> Response:
    return await _export(found, "csv")


@shop_page("viewer")
async def export_jsonl(request: Request, found: Shop) -> Response:
    return await _export(found, "jsonl")
