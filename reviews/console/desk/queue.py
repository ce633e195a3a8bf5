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
from reviews.console.web import _, _n, render
from reviews.moderation import claims, photos, queue
from reviews.moderation.queue import SORTS, TABS, Filters
from reviews.screening.score import Score


def filters_of(request: Request) -> Filters:
    """The queue's filters from the URL; a value that makes no sense is left out, not an error."""
    q = request.query_params
    return Filters(merchant=(q.get("merchant") or "").strip()[:100] or None,
                   kind=(q.get("kind") or "").strip()[:50] or None,
                   stars=params.whole(q.get("stars"), 1, 5),
                   language=(q.get("lang_filter") or q.get("language") or "").strip()[:10] or None,
                   since=params.day(q.get("from")), until=params.day(q.get("to")),
                   min_score=params.share(q.get("min_score")), page=params.whole(q.get("page"), 1, 10_000) or 1,
                   sort=str(q.get("sort")) if q.get("sort") in SORTS else SORTS[0])


def score_words(locale: str, why: Score | None) -> str:
    """A held review's score and why, in one sentence ("0.93: a near copy of a review in another shop")."""
    if why is None:
        return ""
    facts, number = why.facts, f"{why.value:.2f}"
    share = f"{float(facts.get('share', 0.0)):.0%}"
    if why.kind == "exact_duplicate":
        text = (_(locale, "%(score)s: the same text as a review in another shop") if facts.get("elsewhere")
                else _(locale, "%(score)s: the same text as another review"))
    elif why.kind == "near_duplicate":
        text = (_(locale, "%(score)s: a near copy of a review in another shop (%(share)s the same)")
                if facts.get("elsewhere")
                else _(locale, "%(score)s: a near copy of another review (%(share)s the same)"))
    elif why.kind == "self_duplicate":
        text = _(locale, "%(score)s: its author wrote a text like it before (%(share)s the same)")
    elif why.kind == "campaign":
        text = (_n(locale, "%(score)s: one of a campaign by %(num)s author in %(shops)s shops",
                   "%(score)s: one of a campaign by %(num)s authors in %(shops)s shops", int(facts["num"]))
                if facts.get("elsewhere") else
                _n(locale, "%(score)s: one of a campaign by %(num)s author",
                   "%(score)s: one of a campaign by %(num)s authors", int(facts["num"])))
    elif why.kind == "burst":
        text = _n(locale, "%(score)s: one of a burst of %(num)s reviews of %(stars)s stars",
                  "%(score)s: one of a burst of %(num)s reviews of %(stars)s stars", int(facts["num"]))
    elif why.kind == "photo_copy":
        text = _(locale, "%(score)s: a photo another author already sent")
    elif why.kind == "import_moderation":
        text = _(locale, "%(score)s: held by the platform it was imported from")
    else:
        text = _(locale, "%(score)s: flagged")
    return text % {"score": number, "share": share, "num": facts.get("num", 0), "shops": facts.get("shops", 0),
                   "stars": facts.get("stars", 0)}


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
                  campaigns=campaigns, why={e.review_id: score_words(who.locale, e.why) for e in entries},
                  sorts=SORTS, held_by={k: v for k, v in held_by.items() if who.user and v != who.user.email},
                  page=f.page, pages=max(1, -(-total // queue.PAGE)), reasons=REASONS,
                  ages={e.review_id: age(who.locale, e.since, now) for e in entries},
                  done=await done.done_message(request, desk), tab_query=urlencode(f.query()),
                  next_query=urlencode({**f.query(), "tab": tab}),
                  photos_waiting=await photos.waiting_count(pool, merchants))
