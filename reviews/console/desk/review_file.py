"""One review's file (the text, its flags with their evidence laid out, its timeline, its neighbours
in the held tab for j and k) and deciding it: publish, or reject with a reason code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.collection.reasons import REASONS, reason
from reviews.console.desk import done, evidence
from reviews.console.desk import photos as desk_photos
from reviews.console.desk.done import reject_label
from reviews.console.desk.queue import filters_of, score_words
from reviews.console.errors import PageNotFound
from reviews.console.guards import Desk, moderator_page, posted
from reviews.console.web import _, first, render
from reviews.moderation import claims, decisions, queue
from reviews.moderation.queue import Filters
from reviews.platform.errors import NotFound, ValidationError
from reviews.screening import score


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


def kind_name(locale: str, kind: str) -> str:
    """A flag's kind in words (the queue's pills say the same)."""
    names = {"exact_duplicate": _(locale, "exact copy"), "near_duplicate": _(locale, "near copy"),
             "campaign": _(locale, "campaign"), "self_duplicate": _(locale, "same buyer twice"),
             "burst": _(locale, "burst"), "import_moderation": _(locale, "held by its source"),
             "photo_copy": _(locale, "same photo as another author's")}
    return names.get(kind, kind.replace("_", " "))


def decision_words(locale: str, decision: str, code: str | None) -> str:
    """"published", or "rejected (Copied or bought review)": a decision as the moderator reads it."""
    if decision == "publish":
        return _(locale, "published")
    found = reason(code)
    words = _(locale, "rejected")
    return f"{words} ({_(locale, found.label)})" if found else words


def _window(value: Any) -> list[datetime]:
    """A burst's first and last instants, read from the evidence's ISO strings."""
    if not isinstance(value, list) or not value:
        return []
    try:
        return [datetime.fromisoformat(str(value[0])), datetime.fromisoformat(str(value[-1]))]
    except ValueError:
        return []


def _text(title: str | None, body: str | None) -> str:
    return " ".join(x for x in ((title or "").strip(), (body or "").strip()) if x)


async def _neighbours(desk: Desk, review_id: int, request: Request) -> dict[str, Any]:
    """The previous and next review of the held tab, for j and k."""
    f = filters_of(request)
    entries, *_ = await queue.held(desk.who.svc.pool, desk.merchants, Filters(**{**f.__dict__, "page": 1}))
    ids = [m.review_id for e in entries for m in (e.members or [e])]
    if review_id not in ids:
        return {"prev": None, "next": ids[0] if ids else None}
    i = ids.index(review_id)
    return {"prev": ids[i - 1] if i > 0 else None, "next": ids[i + 1] if i + 1 < len(ids) else None}


def appeal_rule(found: queue.ReviewFile, user_id: int, now: datetime, cooling: timedelta | None
                ) -> dict[str, Any] | None:
    """Who decided the review that is now appealed, and whether this moderator may decide the appeal
    (another moderator may; the first one only after the install's cooling-off period, if any)."""
    if found.appeal is None or found.appeal["state"] != "open" or not found.decisions:
        return None
    first = found.decisions[-1]
    mine = [d["decided_at"] for d in found.decisions if d["user_id"] == user_id]
    rule: dict[str, Any] = {"who": first["moderator"], "when": first["decided_at"], "hours": None, "until": None}
    if not mine:
        return {**rule, "case": "other", "may": True}
    if cooling is None:
        return {**rule, "case": "mine", "may": False}
    until = max(mine) + cooling
    hours = f"{cooling.total_seconds() / 3600:g}"
    if now < until:
        return {**rule, "case": "mine_waiting", "may": False, "until": until, "hours": hours}
    return {**rule, "case": "mine_allowed", "may": True, "hours": hours}


@moderator_page
async def review_page(request: Request, desk: Desk) -> Response:
    return await _file(request, desk, request.path_params["review_id"])


async def _file(request: Request, desk: Desk, review_id: int, *, status_code: int = 200,
                problem: str | None = None) -> Response:
    """The review's file, claimed for this moderator while they read it."""
    who, merchants = desk.who, desk.merchants
    pool, now = who.svc.pool, who.svc.clock.now()
    found = await queue.review_file(pool, review_id, merchants)
    if found is None:
        raise PageNotFound()
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
        window = _window(ev.get("window"))
        flags.append({"row": f, "evidence": ev, "pairs": pairs, "chart": chart, "members": members,
                      "window": window})
    timeline: list[tuple[datetime, str]] = [(r["submitted_at"], _(who.locale, "Submitted"))]
    for f in found.flags:
        timeline.append((f["created_at"],
                         _(who.locale, "Flagged: %(kind)s") % {"kind": kind_name(who.locale, f["kind"])}))
    for v in found.versions:
        timeline.append((v["saved_at"], _(who.locale, "Edited (earlier version kept)")))
    for d in found.decisions:
        timeline.append((d["decided_at"], _(who.locale, "Decided: %(decision)s by %(who)s") % {
            "decision": decision_words(who.locale, d["decision"], d["code"]), "who": d["moderator"]}))
    if found.appeal is not None:
        timeline.append((found.appeal["created_at"], _(who.locale, "Appealed by the author")))
    if claim is not None:
        timeline.append((claim.until - claims.CLAIM, _(who.locale, "Claimed by %(who)s") % {"who": claim.email}))
    timeline.sort(key=lambda t: t[0])
    version = f"{r['state']}:{(r['edited_at'] or r['submitted_at']).isoformat()}"
    campaign: dict[str, Any] | None = next((f for f in flags if f["row"]["kind"] == "campaign"), None)
    return render("review.html", who, status_code=status_code, r=found.review, file=found, flags=flags,
                  timeline=timeline, version=version, reasons=REASONS, problem=problem,
                  reject_label=reject_label(who.locale, r["reject_reason"]),
                  claimed_by=claim.email if claim and claim.user_id != who.user.id else None,
                  campaign_ids=[m.id for m in campaign["members"]] + [review_id] if campaign else [],
                  why=score_words(who.locale, score.of_flags((f["kind"], f["score"], f["evidence"])
                                                             for f in found.flags if f["state"] == "open")
                                  if any(f["state"] == "open" for f in found.flags) else None),
                  appeal_rule=appeal_rule(found, who.user.id, now, who.svc.settings.appeal_cooling_off),
                  nav=await _neighbours(desk, review_id, request), done=await done.done_message(request, desk),
                  query=urlencode(filters_of(request).query()), **desk_photos.in_file(desk, found.photos, found.copies))


@moderator_page
async def decide_one(request: Request, desk: Desk) -> Response:
    who, merchants = desk.who, desk.merchants
    form = await posted(request, who)
    assert who.user is not None
    review_id: int = request.path_params["review_id"]
    try:
        async with who.svc.pool.acquire() as conn:
            result = await decisions.decide(conn, review_id, first(form, "decision"), moderator=who.user.email,
                                   now=who.svc.clock.now(), code=first(form, "code") or None,
                                   note=first(form, "note") or None, user_id=who.user.id,
                                   version=first(form, "version"), merchants=merchants,
                                   grace=done.grace(who.svc), cooling_off=who.svc.settings.appeal_cooling_off)
            await claims.release(conn, [review_id])
    except NotFound:
        raise PageNotFound() from None
    except (decisions.Conflict, ValidationError) as exc:
        if isinstance(exc, decisions.Conflict) and exc.reason == "same_moderator":
            message = _(who.locale, "An appeal is decided by a different moderator than the first.")
        elif isinstance(exc, decisions.Conflict):
            message = _(who.locale, "The review changed after you opened it (edited, or decided by someone else). "
                                    "Nothing was applied: look at it again.")
        else:
            message = _(who.locale, "Choose publish, or reject with a reason.")
        return await _file(request, desk, review_id,
                           status_code=409 if isinstance(exc, decisions.Conflict) else 422, problem=message)
    target = first(form, "next")
    query = "&".join(x for x in (first(form, "query"), f"decided={int(result['decision_id'])}") if x)
    if target.isdigit():
        return RedirectResponse(f"/console/reviews/{target}" + (f"?{query}" if query else ""), status_code=303)
    return RedirectResponse("/console/queue" + (f"?{query}" if query else ""), status_code=303)
