"""The moderators' console: home, the queue's tabs, one review with its evidence, decisions one by
one or in bulk, and the shortcut setting. Routes only: reading is `reviews.moderation.queue`,
deciding `reviews.moderation.decisions`, claiming `reviews.moderation.claims`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.accounts import users
from reviews.collection.reasons import BY_CODE, REASONS
from reviews.console import evidence
from reviews.console.web import Visitor, _, _n, bad_form, csrf_ok, first, not_found, read_form, render, signed_in
from reviews.moderation import claims, decisions, queue
from reviews.moderation.queue import TABS, Filters
from reviews.platform import audit
from reviews.platform.errors import ApiError, NotFound, ValidationError

_STATIC = Path(__file__).resolve().parent / "static"


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


def _float(value: str | None) -> float | None:
    try:
        n = float(value) if value else None
    except ValueError:
        return None
    return n if n is not None and 0.0 <= n <= 1.0 else None


def filters_of(request: Request) -> Filters:
    """The queue's filters from the URL; a value that makes no sense is left out, not an error."""
    q = request.query_params
    return Filters(merchant=(q.get("merchant") or "").strip()[:100] or None, kind=(q.get("kind") or "").strip()[:50]
                   or None, stars=_int(q.get("stars"), 1, 5), language=(q.get("lang_filter") or q.get("language")
                                                                        or "").strip()[:10] or None,
                   since=_date(q.get("from")), until=_date(q.get("to")), min_score=_float(q.get("min_score")),
                   page=_int(q.get("page"), 1, 10_000) or 1)


async def _scope(who: Visitor) -> list[int] | Response | None:
    """The merchants whose queue this user moderates (None: all), or a 404 for non-moderators."""
    assert who.user is not None
    merchants = await users.moderated_merchants(who.svc.pool, who.user)
    if merchants == []:
        return not_found(who)
    return merchants


def _age(locale: str, since: datetime | None, now: datetime) -> str | None:
    if since is None:
        return None
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 120:
        return _n(locale, "%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
    hours = minutes // 60
    if hours < 48:
        return _n(locale, "%(num)d hour", "%(num)d hours", hours) % {"num": hours}
    return _n(locale, "%(num)d day", "%(num)d days", hours // 24) % {"num": hours // 24}


async def home(request: Request) -> Response:
    who = await signed_in(request)
    if isinstance(who, Response):
        return who
    assert who.user is not None
    shops = [m for m in await users.memberships(who.svc.pool, who.user.id) if m.role != "moderator"]
    merchants = await users.moderated_merchants(who.svc.pool, who.user)
    if merchants == []:
        return render("home.html", who, counts=None, oldest=None, shops=shops)
    counts = await queue.counts(who.svc.pool, merchants)
    oldest = await queue.oldest_held(who.svc.pool, merchants)
    return render("home.html", who, counts=counts, oldest=_age(who.locale, oldest, who.svc.clock.now()), shops=shops)


async def queue_page(request: Request) -> Response:
    who = await signed_in(request)
    if isinstance(who, Response):
        return who
    merchants = await _scope(who)
    if isinstance(merchants, Response):
        return merchants
    tab = request.query_params.get("tab", "held")
    if tab not in TABS:
        tab = "held"
    f = filters_of(request)
    pool = who.svc.pool
    if tab == "held":
        entries, total = await queue.held(pool, merchants, f)
    elif tab == "appealed":
        entries, total = await queue.appealed(pool, merchants, f)
    elif tab == "decided":
        entries, total = await queue.decided(pool, merchants, f)
    elif tab == "reported":
        entries, total = await queue.reported(pool, merchants, f)
    else:
        entries, total = [], 0
    now = who.svc.clock.now()
    held_by = await claims.holders(pool, [e.review_id for e in entries], now)
    return render("queue.html", who, tab=tab, tabs=TABS, counts=await queue.counts(pool, merchants), entries=entries,
                  total=total, filters=f, query=f.query(), options=await queue.filter_options(pool, merchants),
                  held_by={k: v for k, v in held_by.items() if who.user and v != who.user.email},
                  page=f.page, pages=max(1, -(-total // queue.PAGE)), reasons=REASONS,
                  ages={e.review_id: _age(who.locale, e.since, now) for e in entries},
                  tab_query=urlencode(f.query()), next_query=urlencode({**f.query(), "tab": tab}))


def _figure(locale: str, link: dict[str, Any]) -> str:
    """What a link's figure means, in one sentence."""
    kind = link.get("kind")
    if kind == "exact":
        return _(locale, "The same text, once case, accents and punctuation are set aside.")
    if kind == "near":
        return _(locale, "%(share)s of the two texts' character sequences are the same: a copy with small edits.") % {
            "share": f"{link.get('lexical', 0):.0%}"}
    z = link.get("z", 0.0)
    if kind == "multilingual":
        return _(locale, "In the multilingual model (which sees through translation) the texts are %(z)s standard "
                         "deviations more alike than is ordinary for them.") % {"z": f"{z:.1f}"}
    return _(locale, "In meaning the texts are %(z)s standard deviations more alike than is ordinary for them "
                     "(a paraphrase).") % {"z": f"{z:.1f}"}


def _text(title: str | None, body: str | None) -> str:
    return " ".join(x for x in ((title or "").strip(), (body or "").strip()) if x)


async def _neighbours(who: Visitor, merchants: list[int] | None, review_id: int, request: Request) -> dict[str, Any]:
    """The previous and next review of the held tab, for j and k."""
    f = filters_of(request)
    entries, _total = await queue.held(who.svc.pool, merchants, Filters(**{**f.__dict__, "page": 1}))
    ids = [e.review_id for e in entries]
    if review_id not in ids:
        return {"prev": None, "next": ids[0] if ids else None}
    i = ids.index(review_id)
    return {"prev": ids[i - 1] if i > 0 else None, "next": ids[i + 1] if i + 1 < len(ids) else None}


async def review_page(request: Request, *, status_code: int = 200, problem: str | None = None) -> Response:
    who = await signed_in(request)
    if isinstance(who, Response):
        return who
    merchants = await _scope(who)
    if isinstance(merchants, Response):
        return merchants
    review_id = _int(request.path_params.get("review_id"), 1, 2**62)
    pool, now = who.svc.pool, who.svc.clock.now()
    found = await queue.review_file(pool, review_id or 0, merchants) if review_id else None
    if found is None or review_id is None:
        return not_found(who)
    assert who.user is not None
    claim = await claims.claim(pool, review_id, who.user.id, now)
    r = found.review
    own = _text(r["title"], r["body"])
    flags: list[dict[str, Any]] = []
    for f in found.flags:
        ev: dict[str, Any] = f["evidence"] or {}
        pairs = []
        shown: set[int] = set()
        for link in ev.get("links", []):
            other_id = link["b"] if link.get("a") == review_id else link["a"] if link.get("b") == review_id else None
            if other_id is None or other_id not in found.related or other_id in shown:
                continue
            shown.add(other_id)
            other = found.related[other_id]
            other_text = _text(other.title, other.body)
            pairs.append({"other": other, "link": link, "figure": _figure(who.locale, link),
                          "mine": evidence.shared_passages(own, other_text),
                          "theirs": evidence.shared_passages(other_text, own)})
        for rid in ev.get("related", []):  # pairs flags and bursts name their reviews without links
            if rid in found.related and rid not in shown and f["kind"] != "burst":
                shown.add(rid)
                other = found.related[rid]
                other_text = _text(other.title, other.body)
                pairs.append({"other": other, "link": {}, "figure": "",
                              "mine": evidence.shared_passages(own, other_text),
                              "theirs": evidence.shared_passages(other_text, own)})
        chart = None
        if f["kind"] == "burst" and ev.get("window"):
            start, end = (datetime.fromisoformat(ev["window"][0]), datetime.fromisoformat(ev["window"][-1]))
            days = queue.day_range(end, 35)
            counts = await queue.daily_counts(pool, r["merchant_id"], r["rating"],
                                              datetime.combine(days[0], datetime.min.time(), tzinfo=end.tzinfo),
                                              end + timedelta(days=1))
            usual = float(ev.get("history_count", 0)) / max(float(ev.get("history_days", 1) or 1), 1.0)
            chart = evidence.burst_svg(days, counts, (start.date(), end.date()), usual, _(
                who.locale, "Reviews of %(stars)s stars per day, against the shop's usual pace (dashed line)")
                % {"stars": r["rating"]})
        members = [found.related[i] for i in ev.get("related", []) if i in found.related]
        flags.append({"row": f, "evidence": ev, "pairs": pairs, "chart": chart, "members": members})
    timeline: list[tuple[datetime, str]] = [(r["submitted_at"], _(who.locale, "Submitted"))]
    for f in found.flags:
        timeline.append((f["created_at"], _(who.locale, "Flagged: %(kind)s") % {"kind": f["kind"]}))
    for v in found.versions:
        timeline.append((v["saved_at"], _(who.locale, "Edited (earlier version kept)")))
    for d in found.decisions:
        timeline.append((d["decided_at"], _(who.locale, "Decided: %(decision)s by %(who)s") % {
            "decision": d["decision"] + (f" ({d['code']})" if d["code"] else ""), "who": d["moderator"]}))
    if found.appeal is not None:
        timeline.append((found.appeal["created_at"], _(who.locale, "Appealed by the author")))
    if claim is not None:
        timeline.append((claim.until - claims.CLAIM, _(who.locale, "Claimed by %(who)s") % {"who": claim.email}))
    timeline.sort(key=lambda t: t[0])
    version = f"{r['state']}:{(r['edited_at'] or r['submitted_at']).isoformat()}"
    campaign: dict[str, Any] | None = next((f for f in flags if f["row"]["kind"] == "campaign"), None)
    return render("review.html", who, status_code=status_code, r=found.review, file=found, flags=flags,
                  timeline=timeline, version=version, reasons=REASONS, problem=problem,
                  claimed_by=claim.email if claim and claim.user_id != who.user.id else None,
                  campaign_ids=[m.id for m in campaign["members"]] + [review_id] if campaign else [],
                  nav=await _neighbours(who, merchants, review_id, request),
                  query=urlencode(filters_of(request).query()))


async def _moderator_post(request: Request) -> tuple[Visitor, list[int] | None, dict[str, list[str]]] | Response:
    """What every moderator's POST checks first: signed in, a moderator, the form and its CSRF token."""
    who = await signed_in(request)
    if isinstance(who, Response):
        return who
    merchants = await _scope(who)
    if isinstance(merchants, Response):
        return merchants
    form = await read_form(request)
    if form is None or not csrf_ok(who.svc, first(form, "csrf"), who.binding()):
        return bad_form(who)
    return who, merchants, form


async def decide_one(request: Request) -> Response:
    posted = await _moderator_post(request)
    if isinstance(posted, Response):
        return posted
    who, merchants, form = posted
    assert who.user is not None
    review_id = _int(request.path_params.get("review_id"), 1, 2**62) or 0
    try:
        async with who.svc.pool.acquire() as conn:
            await decisions.decide(conn, review_id, first(form, "decision"), moderator=who.user.email,
                                   now=who.svc.clock.now(), code=first(form, "code") or None,
                                   note=first(form, "note") or None, user_id=who.user.id,
                                   version=first(form, "version"), merchants=merchants)
            await claims.release(conn, [review_id])
    except NotFound:
        return not_found(who)
    except (decisions.Conflict, ValidationError) as exc:
        if isinstance(exc, decisions.Conflict) and exc.reason == "same_moderator":
            message = _(who.locale, "An appeal is decided by a different moderator than the first.")
        elif isinstance(exc, decisions.Conflict):
            message = _(who.locale, "The review changed after you opened it (edited, or decided by someone else). "
                                    "Nothing was applied: look at it again.")
        else:
            message = _(who.locale, "Choose publish, or reject with a reason.")
        return await review_page(request, status_code=409 if isinstance(exc, decisions.Conflict) else 422,
                                 problem=message)
    target = first(form, "next")
    query = first(form, "query")
    if target.isdigit():
        return RedirectResponse(f"/console/reviews/{target}" + (f"?{query}" if query else ""), status_code=303)
    return RedirectResponse("/console/queue" + (f"?{query}" if query else ""), status_code=303)


async def bulk(request: Request) -> Response:
    """Several reviews (ticked in the queue, or a whole campaign): first a confirmation saying how
    many and which merchants, then each decided and audited on its own, so each can be reversed."""
    posted = await _moderator_post(request)
    if isinstance(posted, Response):
        return posted
    who, merchants, form = posted
    assert who.user is not None
    ids = sorted({int(v) for v in form.get("ids", []) if v.isdigit() and len(v) < 19})
    decision, code, note = first(form, "decision"), first(form, "code") or None, first(form, "note") or None
    chosen = await queue.summaries(who.svc.pool, ids, merchants)
    problem = None
    if not chosen:
        problem = _(who.locale, "Select at least one review.")
    elif decision not in ("publish", "reject") or (decision == "reject" and code not in BY_CODE):
        problem = _(who.locale, "Choose publish, or reject with a reason.")
    if problem is not None or first(form, "confirmed") != "1":
        return render("confirm.html", who, status_code=422 if problem else 200, chosen=chosen, decision=decision,
                      code=code, note=note or "", reasons=REASONS, problem=problem,
                      merchant_names=sorted({c["name"] for c in chosen}))
    done, refused = 0, []
    now = who.svc.clock.now()
    async with who.svc.pool.acquire() as conn:
        for c in chosen:
            try:
                await decisions.decide(conn, c["id"], decision, moderator=who.user.email, now=now, code=code, note=note,
                                       user_id=who.user.id, merchants=merchants)
                done += 1
            except (ApiError, ValidationError) as exc:
                refused.append((c["id"], getattr(exc, "message", str(exc))))
        await claims.release(conn, [c["id"] for c in chosen])
        await audit.record(conn, actor=who.user.email, action=f"moderation.bulk_{decision}", table="reviews",
                           row_id=None, now=now, after={"reviews": [c["id"] for c in chosen], "code": code,
                                                        "decided": done})
    return render("bulk_done.html", who, done=done, refused=refused, decision=decision)


async def shortcuts(request: Request) -> Response:
    who = await signed_in(request)
    if isinstance(who, Response):
        return who
    form = await read_form(request)
    if form is None or not csrf_ok(who.svc, first(form, "csrf"), who.binding()):
        return bad_form(who)
    assert who.user is not None
    await users.set_shortcuts(who.svc.pool, who.user.id, first(form, "shortcuts") == "on")
    return RedirectResponse("/console", status_code=303)


_SCRIPT = (_STATIC / "console.js").read_bytes() if (_STATIC / "console.js").exists() else b""


async def script(request: Request) -> Response:
    return Response(_SCRIPT, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})
