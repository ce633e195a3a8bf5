"""The buyer's review page at /r/<token>: GET shows the form, POST stores the reviews; the buyer may
withdraw one (POST /r/<token>/withdraw), and a rejected review's author may appeal once
(POST /r/<token>/appeal). The shop's public reply to a review (`reviews.collection.replies`) is
shown under it, as the widgets show it.

The routes only parse, call and answer: `review_context` loads what the link is about,
`review_guard` lets a POST through, `review_photos` takes the photos sent with it, `review_form`
checks what was typed, the owners in `reviews.collection` store it (`reviews.screening.photo_copies`
looks for its photos in other reviews in the same transaction), and `review_view` says it. A GET
never changes anything (mail scanners prefetch links).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from reviews.buyer import review_context, review_form, review_guard, review_photos, review_view
from reviews.buyer.pages import _
from reviews.buyer.review_context import Refusal
from reviews.collection import appeals
from reviews.collection import store as reviews
from reviews.invitations import store as invitations
from reviews.platform import audit
from reviews.platform.http import client_ip, read_body
from reviews.platform.services import Services
from reviews.screening import photo_copies

OPENED_MAX = 4096  # the CSRF token, and nothing else


async def review_page(request: Request) -> Response:
    svc: Services = request.app.state.services
    ctx = await review_context.load(svc, request.path_params["token"])
    if isinstance(ctx, Refusal):
        return review_view.refusal(request, ctx, svc.settings.review_link_days)
    return review_view.form_page(svc, ctx, request, review_view.locale_of(request, ctx),
                                 review_form.values(ctx, request.query_params), {})


async def link_opened(request: Request) -> Response:
    """The page's script says the buyer opened the link (once per tab): the shop's funnel counts it.
    A script, not the GET, because mail scanners fetch links nobody opened."""
    svc: Services = request.app.state.services
    ctx = await review_context.load(svc, request.path_params["token"])
    if isinstance(ctx, Refusal):
        return Response(status_code=404)
    form = parse_qs((await read_body(request, OPENED_MAX)).decode("utf-8", "replace"))
    if not review_form.csrf_ok(svc, ctx, {k: v[0] for k, v in form.items()}):
        return Response(status_code=403)
    await invitations.link_opened(svc.pool, ctx.invitation.id, svc.clock.now())
    return Response(status_code=204)


async def submit_review(request: Request) -> Response:
    svc: Services = request.app.state.services
    posted = await review_guard.posted(svc, request)
    if isinstance(posted, Response):
        return posted
    try:
        # The photos first: whatever else is wrong with the form, those accepted are kept and shown.
        received = await review_photos.receive(svc, posted.ctx, posted.locale, posted.form, posted.files)
    finally:
        await review_guard.close(posted.files)
    ctx, locale, form = received.ctx, posted.locale, received.form
    if "switch_lang" in form:  # the language switch, pressed with the form filled in: no review is stored
        return review_view.form_page(svc, ctx, request, locale, form, received.errors,
                                     429 if received.limited else 200)
    items, errors = review_form.validate(ctx, form, locale)
    errors = {**errors, **received.errors}
    if errors:
        return review_view.form_page(svc, ctx, request, locale, form, errors, 429 if received.limited else 422)
    ip = client_ip(request)
    now = svc.clock.now()
    async with svc.pool.acquire() as conn, conn.transaction():
        ids = await reviews.save_invited(
            conn, merchant_id=ctx.merchant.id, order_id=ctx.order.id, invitation_id=ctx.invitation.id,
            author_hash=ctx.order.buyer_hash, display_name=review_form.display_name(form),
            locale=locale, items=items, now=now, ip_hash=svc.hasher.ip(ip) if ip else None,
            user_agent_family=review_form.user_agent_family(request.headers.get("user-agent")),
        )
        await photo_copies.check(svc, conn, ids, now)
    return review_view.thanks(svc, ctx, request, locale, {item.product_id for item in items},
                              photos=any(item.photos for item in items))


async def withdraw_review(request: Request) -> Response:
    """Two steps, both POST: the first asks "are you sure?", the second (confirm=yes) withdraws."""
    svc: Services = request.app.state.services
    posted = await review_guard.posted(svc, request)
    if isinstance(posted, Response):
        return posted
    await review_guard.close(posted.files)
    ctx, locale, form = posted.ctx, posted.locale, posted.form
    slot = ctx.slot(form.get("review"))
    if slot is None or slot.saved is None or slot.saved.state == "withdrawn" or review_context.locked(slot):
        return review_view.form_page(svc, ctx, request, locale, review_form.values(ctx, request.query_params),
                                     {"form": _(locale, "There is no review to withdraw here.")}, 409)
    if form.get("confirm") != "yes":
        return review_view.confirm_withdraw(svc, ctx, request, locale, slot)
    async with svc.pool.acquire() as conn:
        await reviews.withdraw_by_buyer(conn, invitation_id=ctx.invitation.id, product_id=slot.product_id,
                                        now=svc.clock.now())
    return review_view.withdrawn(svc, ctx, request, locale, slot)


async def appeal_review(request: Request) -> Response:
    """A rejected review's author asks, once, for another moderator to look at it."""
    svc: Services = request.app.state.services
    posted = await review_guard.posted(svc, request, review_form.appeal_values)
    if isinstance(posted, Response):
        return posted
    await review_guard.close(posted.files)
    ctx, locale, form = posted.ctx, posted.locale, posted.form
    slot = ctx.slot(form.get("review"))
    already = _(locale, "There is no decision to appeal here, or you have already appealed.")
    if slot is None or slot.saved is None or not ctx.appealable(slot):
        return review_view.form_page(svc, ctx, request, locale, review_form.values(ctx, request.query_params),
                                     {"form": already}, 409)
    body = form.get("appeal", "").strip()
    error = review_form.appeal_error(locale, body)
    if error:
        return review_view.form_page(svc, ctx, request, locale,
                                     review_form.appeal_values(ctx, request.query_params, form),
                                     {f"appeal_{slot.key}": error}, 422)
    now = svc.clock.now()
    async with svc.pool.acquire() as conn, conn.transaction():
        appeal = await appeals.file(conn, slot.saved.id, body, now)
        if appeal is not None:
            await audit.record(conn, actor="buyer", action="review.appeal", table="appeals", row_id=appeal.id,
                               after={"review_id": slot.saved.id, "state": appeal.state}, now=now)
    if appeal is None:  # the same form sent twice at once: the other one filed it
        return review_view.form_page(svc, ctx, request, locale, review_form.values(ctx, request.query_params),
                                     {"form": already}, 409)
    return review_view.appealed(ctx, request, locale, slot)
