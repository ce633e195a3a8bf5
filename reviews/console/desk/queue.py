"""The queue's tabs (held, appealed, decided, reported) with their filters, counts and pages."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from reviews.collection.reasons import REASONS
from reviews.console import params
from reviews.console.desk import campaign, done
from reviews.console.guards import Desk, moderator_page
from reviews.console.web import _n, render
from reviews.moderation import claims, queue
from reviews.moderation.queue import TABS, Filters


def filters_of(request: Request) -> Filters:
    """The queue's filters from the URL; a value that makes no sense is left out, not an error."""
    q = request.query_params
    return Filters(merchant=(q.get("merchant") or "").strip()[:100] or None,
                   kind=(q.get("kind") or "").strip()[:50] or None,
                   stars=params.whole(q.get("stars"), 1, 5),
                   language=(q.get("lang_filter") or q.get("language") or "").strip()[:10] or None,
                   since=params.day(q.get("from")), until=params.day(q.get("to")),
                   min_score=params.share(q.get("min_score")), page=params.whole(q.get("page"), 1, 10_000) or 1)


def age(locale: str, since: datetime | None, now: datetime) -> str | None:
    """How long something has waited, in words."""
    if since is None:
        return None
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 120:
        return _n(locale, "%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
    hours = minutes // 60
    if hours < 48:
        return _n(locale, "%(num)d hour", "%(num)d hours", hours) % {"num": hours}
    return _n(locale, "%(num)d day", "%(num)d days", hours // 24) % {"num": hours // 24}


@moderator_page
async def queue_page(request: Request, desk: Desk) -> Response:
    who, merchants = desk.who, desk.merchants
    tab = request.query_params.get("tab", "held")
    if tab not in TABS:
        tab = "held"
    f = filters_of(request)
    pool = who.svc.pool
    reviews = None
    if tab == "held":
        entries, total, reviews = await queue.held(pool, merchants, f)
    elif tab == "appealed":
        entries, total = await queue.appealed(pool, merchants, f)
    elif tab == "decided":
        entries, total = await queue.decided(pool, merchants, f)
    elif tab == "reported":
        entries, total = await queue.reported(pool, merchants, f)
    else:
        entries, total = [], 0
    now = who.svc.clock.now()
    campaigns = {e.review_id: campaign.facts(who.locale, [(m.merchant_name, m.locale, m.submitted_at)
                                                          for m in e.members], e.campaign.get("links", []))
                 for e in entries if e.members}
    held_by = await claims.holders(pool, [e.review_id for e in entries], now)
    return render("queue.html", who, tab=tab, tabs=TABS, counts=await queue.counts(pool, merchants), entries=entries,
                  total=total, reviews=total if reviews is None else reviews,
                  filters=f, query=f.query(), options=await queue.filter_options(pool, merchants),
                  campaigns=campaigns, held_by={k: v for k, v in held_by.items() if who.user and v != who.user.email},
                  page=f.page, pages=max(1, -(-total // queue.PAGE)), reasons=REASONS,
                  ages={e.review_id: age(who.locale, e.since, now) for e in entries},
                  done=await done.done_message(request, desk), tab_query=urlencode(f.query()),
                  next_query=urlencode({**f.query(), "tab": tab}))
