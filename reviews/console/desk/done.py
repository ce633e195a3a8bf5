"""What a moderator just decided, said in place on the page they land on next ("#8 rejected as
Copied or bought review; the author will be emailed"), with the way back to it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from reviews.collection.reasons import reason
from reviews.console.guards import Desk
from reviews.console.web import _
from reviews.moderation import decisions


def reject_label(locale: str, code: str | None) -> str | None:
    """A reject reason's label in the moderator's language."""
    found = reason(code)
    return _(locale, found.label) if found else code


async def done_message(request: Request, desk: Desk) -> dict[str, Any] | None:
    """What the moderator just decided (`?decided=` names their decision), said in place."""
    raw = request.query_params.get("decided", "")
    if not raw.isdigit() or len(raw) > 18 or desk.who.user is None:
        return None
    found = await decisions.by_id(desk.who.svc.pool, int(raw))
    if found is None or found.user_id != desk.who.user.id:
        return None
    locale = desk.who.locale
    if found.decision == "publish":
        message = (_(locale, "#%(id)s published; the author will be emailed.") if found.on_appeal
                   else _(locale, "#%(id)s published.")) % {"id": found.review_id}
    else:
        label = reject_label(locale, found.code) or ""
        message = _(locale, "#%(id)s rejected as %(reason)s; the author will be emailed.") % {
            "id": found.review_id, "reason": label}
    return {"message": message, "review_id": found.review_id}
