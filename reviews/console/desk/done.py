"""What a moderator just decided, said in place on the page they land on next ("#8 rejected as
Copied or bought review; the author will be emailed"), with the way back to it, and, while the
decision's grace period runs (ATTEST_UNDO_SECONDS), an Undo that takes it back before anyone
outside hears of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.collection.reasons import reason
from reviews.console.errors import PageNotFound
from reviews.console.guards import Desk, moderator_page, posted
from reviews.console.web import _, _n, message_page
from reviews.moderation import decisions
from reviews.platform.errors import NotFound
from reviews.platform.services import Services


def grace(svc: Services) -> timedelta:
    """How long a console decision may be undone (its email and webhooks wait that long)."""
    return timedelta(seconds=svc.settings.undo_seconds)


def reject_label(locale: str, code: str | None) -> str | None:
    """A reject reason's label in the moderator's language."""
    found = reason(code)
    return _(locale, found.label) if found else code


async def done_message(request: Request, desk: Desk) -> dict[str, Any] | None:
    """What the moderator just decided (`?decided=` names their decision) or undid (`?undone=` the
    review), said in place."""
    locale = desk.who.locale
    undone = request.query_params.get("undone", "")
    if undone.isdigit() and len(undone) < 19:
        return {"message": _(locale, "Undone: #%(id)s is back as it was, and nobody was told.") % {"id": undone},
                "review_id": int(undone), "undo": None}
    raw = request.query_params.get("decided", "")
    if not raw.isdigit() or len(raw) > 18 or desk.who.user is None:
        return None
    found = await decisions.by_id(desk.who.svc.pool, int(raw))
    if found is None or found.user_id != desk.who.user.id:
        return None
    if found.decision == "publish":
        message = (_(locale, "#%(id)s published; the author will be emailed.") if found.on_appeal
                   else _(locale, "#%(id)s published.")) % {"id": found.review_id}
    else:
        label = reject_label(locale, found.code) or ""
        message = _(locale, "#%(id)s rejected as %(reason)s; the author will be emailed.") % {
            "id": found.review_id, "reason": label}
    left = int((found.decided_at + grace(desk.who.svc) - desk.who.svc.clock.now()).total_seconds())
    undo = None
    if found.released_at is None and left > 0:
        undo = {"id": found.id, "seconds": left,
                "says": _n(locale, "Nothing leaves Attest for %(num)d more second.",
                           "Nothing leaves Attest for %(num)d more seconds.", left) % {"num": left}}
    return {"message": message, "review_id": found.review_id, "undo": undo}


@moderator_page
async def undo(request: Request, desk: Desk) -> Response:
    """Take back one's own decision while its grace runs, then show the review as it is again."""
    who = desk.who
    await posted(request, who)
    assert who.user is not None
    try:
        async with who.svc.pool.acquire() as conn:
            found = await decisions.undo(conn, request.path_params["decision_id"], user_id=who.user.id,
                                         now=who.svc.clock.now())
    except NotFound:
        raise PageNotFound() from None
    except decisions.Conflict:
        return message_page(who, 409, _(who.locale, "Too late to undo"),
                            _(who.locale, "The grace period is over: the decision stands and has been sent on. "
                                          "Open the review to decide it again."))
    return RedirectResponse(f"/console/reviews/{found.review_id}?undone={found.review_id}", status_code=303)


@moderator_page
async def undo_many(request: Request, desk: Desk) -> Response:
    """Take back several of one's decisions at once (a whole campaign's) while their grace runs."""
    who = desk.who
    form = await posted(request, who)
    assert who.user is not None
    ids = sorted({int(v) for v in form.get("ids", []) if v.isdigit() and len(v) < 19})[:1000]
    undone = 0
    async with who.svc.pool.acquire() as conn:
        for decision_id in ids:
            try:
                await decisions.undo(conn, decision_id, user_id=who.user.id, now=who.svc.clock.now())
                undone += 1
            except (NotFound, decisions.Conflict):
                continue  # not theirs, or already sent on: said in the count below
    if not undone:
        return message_page(who, 409, _(who.locale, "Too late to undo"),
                            _(who.locale, "The grace period is over: the decision stands and has been sent on. "
                                          "Open the review to decide it again."))
    return message_page(who, 200, _(who.locale, "Undone"), _n(
        who.locale, "%(num)d review is back as it was, and nobody was told.",
        "%(num)d reviews are back as they were, and nobody was told.", undone) % {"num": undone})
