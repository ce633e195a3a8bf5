"""The merchants' inbox: every review of the shop whatever its state, filtered and searched; one review
with the shop's public reply and its reports to the moderators; the export of them all.

Routes only: reading is `reviews.collection.listing`, replying `reviews.collection.replies`,
reporting `reviews.collection.reports`. A merchant never edits, hides or deletes a review: it may
answer it in public (agent and up) or ask Attest's moderators to look at it (agent and up); the
moderators decide. Every role check is made here on the server, for each page and each POST.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from reviews.collection import listing, replies, reports
from reviews.collection.listing import EXPORT_FIELDS, STATES, Filters
from reviews.collection.reasons import reason as reject_reason
from reviews.console.shops import Shop, render_shop, shop, shop_not_found, shop_post
from reviews.console.web import _, first
from reviews.platform import audit
from reviews.platform.errors import NotFound, ValidationError

CSV_ROWS_PER_CHUNK = 200
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _int(value: str | None, low: int, high: int) -> int | None:
    if value and value.strip().isdigit():
        n = int(value)
        return n if low <= n <= high else None
    return None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_of(request: Request) -> Filters:
    """The inbox's filters from the URL; a value that makes no sense is left out, not an error."""
    q = request.query_params
    state = q.get("state") or None
    replied = {"yes": True, "no": False}.get(q.get("replied") or "")
    return Filters(stars=_int(q.get("stars"), 1, 5), product=(q.get("product") or "").strip()[:200] or None,
                   language=(q.get("lang_filter") or "").strip()[:10] or None,
                   state=state if state in STATES else None, replied=replied,
                   since=_date(q.get("from")), until=_date(q.get("to")),
                   text=(q.get("q") or "").strip()[:listing.QUERY_MAX] or None,
                   page=_int(q.get("page"), 1, 100_000) or 1)


def _reject_label(code: str | None) -> str | None:
    found = reject_reason(code)
    return found.label if found else code


async def inbox_page(request: Request) -> Response:
    found = await shop(request, "viewer")
    if isinstance(found, Response):
        return found
    f = filters_of(request)
    pool = found.who.svc.pool
    entries, total = await listing.inbox(pool, found.merchant.id, f)
    query = f.query()
    return render_shop("inbox.html", found, section="inbox", entries=entries, total=total, filters=f,
                       options=await listing.options(pool, found.merchant.id), states=STATES, shop_filter=listing.SHOP,
                       page=f.page, pages=max(1, -(-total // listing.PAGE)), query=urlencode(query),
                       reject_label=_reject_label)


def _review_id(request: Request) -> int | None:
    return _int(request.path_params.get("review_id"), 1, 2**62)


async def _review_page(found: Shop, review_id: int, *, status_code: int = 200, problem: str | None = None,
                       draft: str | None = None, saved: str | None = None) -> Response:
    page = await listing.review(found.who.svc.pool, found.merchant.id, review_id)
    if page is None:
        return shop_not_found(found)
    own = await replies.of_review(found.who.svc.pool, review_id)
    own = own if own is not None and not own.imported else None  # the shop's own: one it wrote or edited
    return render_shop("inbox_review.html", found, status_code=status_code, section="inbox", page=page,
                       r=page.review, reply=own, problem=problem, saved=saved,
                       draft=draft if draft is not None else (page.review.reply or ""),
                       may_reply=page.review.state in replies.REPLYABLE,
                       may_report=page.review.state in reports.REPORTABLE,
                       reject_label=_reject_label, reply_max=replies.MAX_LENGTH, note_max=reports.NOTE_MAX)


async def review_page(request: Request) -> Response:
    found = await shop(request, "viewer")
    if isinstance(found, Response):
        return found
    review_id = _review_id(request)
    if review_id is None:
        return shop_not_found(found)
    saved = request.query_params.get("saved")
    return await _review_page(found, review_id, saved=saved if saved in ("reply", "report") else None)


def _problem(locale: str, exc: ValidationError, field: str) -> str:
    fields = exc.fields
    if "review" in fields:
        return _(locale, "This review can no longer be answered or reported in its present state.")
    if field == "reply":
        return _(locale, "Please write a reply of at most %(max)s characters.") % {"max": replies.MAX_LENGTH}
    if "reason" in fields:
        return _(locale, "Please choose why you report this review.")
    return _(locale, "Please keep the note to at most %(max)s characters.") % {"max": reports.NOTE_MAX}


async def reply(request: Request) -> Response:
    posted = await shop_post(request, "agent")
    if isinstance(posted, Response):
        return posted
    found, form = posted
    review_id = _review_id(request)
    if review_id is None:
        return shop_not_found(found)
    assert found.who.user is not None
    text = first(form, "reply")
    try:
        async with found.who.svc.pool.acquire() as conn:
            await replies.save(conn, merchant_id=found.merchant.id, review_id=review_id, text=text,
                               author=found.who.user.email, user_id=found.who.user.id, now=found.who.svc.clock.now())
    except NotFound:
        return shop_not_found(found)
    except ValidationError as exc:
        return await _review_page(found, review_id, status_code=422, problem=_problem(found.who.locale, exc, "reply"),
                                  draft=text)
    return RedirectResponse(_review_url(found, review_id, "reply"), status_code=303)


async def report(request: Request) -> Response:
    posted = await shop_post(request, "agent")
    if isinstance(posted, Response):
        return posted
    found, form = posted
    review_id = _review_id(request)
    if review_id is None:
        return shop_not_found(found)
    assert found.who.user is not None
    try:
        async with found.who.svc.pool.acquire() as conn:
            await reports.report(conn, merchant_id=found.merchant.id, review_id=review_id,
                                 reason=first(form, "reason"), note=first(form, "note"),
                                 reporter=found.who.user.email, user_id=found.who.user.id,
                                 now=found.who.svc.clock.now())
    except NotFound:
        return shop_not_found(found)
    except ValidationError as exc:
        return await _review_page(found, review_id, status_code=422,
                                  problem=_problem(found.who.locale, exc, "report"))
    return RedirectResponse(_review_url(found, review_id, "report"), status_code=303)


def _review_url(found: Shop, review_id: int, saved: str) -> str:
    return f"/console/m/{quote(found.merchant.slug, safe='')}/reviews/{review_id}?saved={saved}"


# --- the export ------------------------------------------------------------------------------


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


async def _export(request: Request, kind: str) -> Response:
    found = await shop(request, "viewer")
    if isinstance(found, Response):
        return found
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


async def export_csv(request: Request) -> Response:
    return await _export(request, "csv")


async def export_jsonl(request: Request) -> Response:
    return await _export(request, "jsonl")


def routes() -> list[Route]:
    return [
        Route("/console/m/{slug}", inbox_page, methods=["GET"]),
        Route("/console/m/{slug}/reviews/{review_id}", review_page, methods=["GET"]),
        Route("/console/m/{slug}/reviews/{review_id}/reply", reply, methods=["POST"]),
        Route("/console/m/{slug}/reviews/{review_id}/report", report, methods=["POST"]),
        Route("/console/m/{slug}/export.csv", export_csv, methods=["GET"]),
        Route("/console/m/{slug}/export.jsonl", export_jsonl, methods=["GET"]),
    ]
