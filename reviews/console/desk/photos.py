"""The Photos tab: the photos a shop reported, then every photo waiting for a moderator, oldest first,
as a grid of cards (the photo, its review's text, author, shop and product, the shop's reports, and
any evidence that the same photo is in another author's review), each approved (kept, when it was
reported), refused with a reason, or approved with the rest of its review's.
Keyboard-driven through console.js (j/k, a, r, A, ?); every action is also a button.

Only the moderator's shops: a photo of another shop is a 404, as a review of one is. The other
review of a copy's evidence is named only when the moderator moderates its shop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.console import params
from reviews.console.errors import PageNotFound
from reviews.console.guards import Desk, moderator_page, posted
from reviews.console.web import _, _n, first, render
from reviews.media import reasons, serving
from reviews.media import store as photo_store
from reviews.media.fingerprint import THRESHOLD
from reviews.media.store import Photo
from reviews.moderation import photos
from reviews.platform.errors import NotFound

ACTIONS = ("approve", "approve_review", "reject")


@dataclass(frozen=True)
class Shown:
    """A photo as a page shows it: its signed addresses and its size."""

    photo: Photo
    url: str
    thumb_url: str


@dataclass(frozen=True)
class Pair:
    """One piece of copy evidence for a card: the other photo, or only the distance when the moderator
    may not see the other shop's review (or the photo is gone)."""

    other: Shown | None
    other_review_id: int | None
    other_display_name: str | None
    other_merchant: str | None
    distance: int


def _shown(desk: Desk, photo: Photo) -> Shown:
    signer = desk.who.svc.signer
    return Shown(photo, serving.signed_path(signer, photo.id), serving.signed_path(signer, photo.id, thumb=True))


def _pairs(desk: Desk, photo_id: int, copies: list[photos.Copy]) -> list[Pair]:
    found = []
    for c in copies:
        if c.photo is None or c.photo.id != photo_id:
            continue
        visible = c.other is not None and (desk.merchants is None or c.other.merchant_id in desk.merchants)
        if visible and c.other is not None:
            found.append(Pair(_shown(desk, c.other), c.other_review_id, c.other_display_name, c.other_merchant,
                              c.distance))
        else:
            found.append(Pair(None, None, None, None, c.distance))
    return found


def in_file(desk: Desk, shown: list[Photo], copies: list[photos.Copy]) -> dict[str, Any]:
    """What a review's file shows of its photos (`_review_photos.html`): each with its state and copy evidence."""
    return {"review_photos": [{"shown": _shown(desk, p), "pairs": _pairs(desk, p.id, copies)} for p in shown],
            "photo_reasons": reasons.REASONS, "photo_threshold": THRESHOLD}


def _done(request: Request, locale: str) -> str | None:
    """What the moderator just did, said in place (`?done=` and its count or reason)."""
    q = request.query_params
    n = params.whole(q.get("n"), 0, 1000)
    n = 1 if n is None else n
    if q.get("done") == "approved":
        return _n(locale, "%(num)d photo approved.", "%(num)d photos approved.", n) % {"num": n}
    found = reasons.reason(q.get("code")) if q.get("done") == "rejected" else None
    if found is not None:
        return _(locale, "Photo rejected as %(reason)s; its author will be emailed.") % {
            "reason": _(locale, found.label)}
    return None


async def _page(request: Request, desk: Desk, *, status_code: int = 200, problem: str | None = None) -> Response:
    who = desk.who
    page = params.whole(request.query_params.get("page"), 1, 10_000) or 1
    async with who.svc.pool.acquire() as conn:
        waiting, total = await photos.waiting(conn, desk.merchants, page)
        # The shops' reports first, on the first page: a reported photo is usually one shoppers see.
        reported = await photos.reported(conn, desk.merchants) if page == 1 else []
        listed = reported + [w for w in waiting if w.photo.id not in {x.photo.id for x in reported}]
        copies = await photos.copies_of(conn, sorted({w.photo.review_id for w in listed if w.photo.review_id}))
        count = await photos.waiting_count(conn, desk.merchants)
    cards: list[dict[str, Any]] = [
        {"w": w, "shown": _shown(desk, w.photo),
         "pairs": _pairs(desk, w.photo.id, copies.get(w.photo.review_id or 0, []))} for w in listed]
    return render("photos.html", who, status_code=status_code, cards=cards, total=total, count=count, page=page,
                  pages=max(1, -(-total // photos.PAGE)), reasons=reasons.REASONS, threshold=THRESHOLD,
                  at=params.whole(request.query_params.get("at"), 0, photos.PAGE) or 0, problem=problem,
                  done=_done(request, who.locale))


@moderator_page
async def photos_page(request: Request, desk: Desk) -> Response:
    return await _page(request, desk)


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 19 else None


@moderator_page
async def decide(request: Request, desk: Desk) -> Response:
    """One card's decision. Enter on the reason's list sends the form without a button: a refusal."""
    who = desk.who
    form = await posted(request, who)
    assert who.user is not None
    code = first(form, "code")
    action = first(form, "do") or ("reject" if code else "")
    photo_id, review_id = _id(first(form, "photo")), _id(first(form, "review"))
    if photo_id is None:
        raise PageNotFound()
    if action not in ACTIONS or (action == "reject" and reasons.reason(code) is None):
        return await _page(request, desk, status_code=422,
                           problem=_(who.locale, "Choose approve, or reject with a reason."))
    moderator, now = who.user.email, who.svc.clock.now()
    try:
        async with who.svc.pool.acquire() as conn:
            if action == "reject":
                await photos.reject(conn, [photo_id], code, moderator=moderator, now=now, merchants=desk.merchants)
                done = {"done": "rejected", "code": code}
            elif action == "approve_review" and review_id is not None:
                photo = await photo_store.get(conn, photo_id)
                if photo is None or photo.review_id != review_id or (
                        desk.merchants is not None and photo.merchant_id not in desk.merchants):
                    raise NotFound("No such photo.")
                decided = await photos.approve_review(conn, review_id, moderator=moderator, now=now,
                                                      merchants=desk.merchants)
                done = {"done": "approved", "n": str(len(decided))}
            else:
                await photos.approve(conn, [photo_id], moderator=moderator, now=now, merchants=desk.merchants)
                done = {"done": "approved", "n": "1"}
    except NotFound:
        raise PageNotFound() from None
    # Back to the same place in the grid: the next photo has moved up into the decided one's.
    keep = {k: v for k in ("page", "at") if (v := first(form, k)).isdigit() and len(v) < 6}
    return RedirectResponse("/console/photos?" + urlencode({**done, **keep}), status_code=303)
