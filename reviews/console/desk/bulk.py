"""Deciding several reviews at once (ticked in the queue, or a whole campaign)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reviews.collection.reasons import BY_CODE, REASONS
from reviews.console.desk import done
from reviews.console.guards import Desk, moderator_page, posted
from reviews.console.web import _, _n, first, render
from reviews.moderation import claims, decisions, queue
from reviews.platform import audit
from reviews.platform.errors import ApiError, ValidationError


@moderator_page
async def bulk(request: Request, desk: Desk) -> Response:
    """Several reviews (ticked in the queue, or a whole campaign): first a confirmation saying how
    many and which merchants, then each decided and audited on its own, so each can be reversed."""
    who, merchants = desk.who, desk.merchants
    form = await posted(request, who)
    assert who.user is not None
    # A campaign's row in the queue sends its members as one value ("12,13,14").
    values = form.get("ids", []) + [v for c in form.get("campaign", []) for v in c.split(",")[:1000]]
    ids = sorted({int(v) for v in values if v.isdigit() and len(v) < 19})
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
    decided: list[int] = []
    refused = []
    now = who.svc.clock.now()
    async with who.svc.pool.acquire() as conn:
        for c in chosen:
            try:
                result = await decisions.decide(conn, c["id"], decision, moderator=who.user.email, now=now, code=code,
                                                note=note, user_id=who.user.id, merchants=merchants,
                                                cooling_off=who.svc.settings.appeal_cooling_off,
                                                grace=done.grace(who.svc))
                decided.append(int(result["decision_id"]))
            except (ApiError, ValidationError) as exc:
                refused.append((c["id"], getattr(exc, "message", str(exc))))
        await claims.release(conn, [c["id"] for c in chosen])
        await audit.record(conn, actor=who.user.email, action=f"moderation.bulk_{decision}", table="reviews",
                           row_id=None, now=now, after={"reviews": [c["id"] for c in chosen], "code": code,
                                                        "decided": len(decided)})
    seconds = who.svc.settings.undo_seconds
    undo = {"ids": decided, "seconds": seconds, "says": _n(
        who.locale, "Nothing leaves Attest for %(num)d more second.", "Nothing leaves Attest for %(num)d more seconds.",
        seconds) % {"num": seconds}} if decided and seconds > 0 else None
    return render("bulk_done.html", who, done=len(decided), refused=refused, decision=decision, undo=undo)
