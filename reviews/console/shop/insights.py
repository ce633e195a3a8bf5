"""Insights (viewer and up): every topic buyers mention in the shop's published reviews, by month,
the ones whose share of 1-2★ mentions rose in the last 90 days first, each with its counted
figures in a sentence and a page of the reviews that mention it, the mention highlighted.

Pages only: reading is `reviews.insights.trends`. Every word shown as a topic is a buyer's own
phrase; every figure is a count of published reviews.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reviews.console import params
from reviews.console.guards import posted, shop_page
from reviews.console.shops import Shop, render_shop
from reviews.console.web import _, first, message_page, render, visitor
from reviews.insights import digests, trends
from reviews.insights.trends import Month, Trend
from reviews.merchants import store as merchants
from reviews.platform.i18n import babel_locale

PER_PAGE = 50
_LOW, _REST = "#cf222e", "#0969da"  # 1-2★ and the other mentions: 3:1 or more on white, told apart by place too


def sentence(locale: str, t: Trend) -> str:
    """The topic's figures for the last 90 days against the 90 before, in words, nothing but counts."""
    figures = {"low": t.recent.low, "total": t.recent.total, "before_low": t.before.low,
               "before_total": t.before.total}
    if t.rising and t.ratio is not None:
        return _(locale, "Mentioned in 1-2★ reviews %(ratio)s times as often as in the 90 days before: "
                         "%(low)d of %(total)d mentions in the last 90 days, against %(before_low)d of "
                         "%(before_total)d.") % {
            **figures, "ratio": format_decimal(t.ratio, "#,##0.#", locale=babel_locale(locale))}
    if t.rising and t.before.total:
        return _(locale, "Mentioned in 1-2★ reviews in %(low)d of %(total)d mentions in the last 90 days, "
                         "against none of %(before_total)d in the 90 days before.") % figures
    if t.rising:
        return _(locale, "Mentioned in 1-2★ reviews in %(low)d of %(total)d mentions in the last 90 days, "
                         "and not mentioned at all in the 90 days before.") % figures
    return _(locale, "1-2★ mentions: %(low)d of %(total)d in the last 90 days, %(before_low)d of "
                     "%(before_total)d in the 90 days before.") % figures


def _month_name(locale: str, month: Month) -> str:
    return format_skeleton("yMMM", month.start, locale=babel_locale(locale))


def small_multiple(locale: str, t: Trend, peak: int, chart_id: str) -> str:
    """The topic's mentions by month as stacked bars (1-2★ at the foot), on the page's shared scale,
    its every text escaped here (the template shows it as it is). The table beside it holds the same
    figures for whoever cannot see the picture."""
    width, height, gap = 240, 48, 2
    bar = width / len(t.months)
    title = html.escape(_(locale, "Mentions by month of “%(topic)s”") % {"topic": t.label})
    desc = html.escape(_(locale, "From %(first)s to %(last)s: %(total)d mentions, %(low)d of them in 1-2★ "
                                 "reviews.") % {
        "first": _month_name(locale, t.months[0]), "last": _month_name(locale, t.months[-1]),
        "total": sum(m.total for m in t.months), "low": sum(m.low for m in t.months)})
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 2}" class="spark" role="img" '
             f'aria-labelledby="{chart_id}-t {chart_id}-d"><title id="{chart_id}-t">{title}</title>'
             f'<desc id="{chart_id}-d">{desc}</desc>']
    for i, m in enumerate(t.months):
        x = i * bar + gap / 2
        whole = height * m.total / max(peak, 1)
        low = height * m.low / max(peak, 1)
        if m.total:
            parts.append(f'<rect x="{x:.1f}" y="{height - whole:.1f}" width="{bar - gap:.1f}" '
                         f'height="{whole - low:.1f}" fill="{_REST}"/>')
        if m.low:
            parts.append(f'<rect x="{x:.1f}" y="{height - low:.1f}" width="{bar - gap:.1f}" height="{low:.1f}" '
                         f'fill="{_LOW}"/>')
    parts.append(f'<line x1="0" x2="{width}" y1="{height + 1}" y2="{height + 1}" stroke="#57606a"/></svg>')
    return "".join(parts)


@dataclass(frozen=True)
class Shown:
    trend: Trend
    sentence: str
    chart: str  # SVG, escaped
    months: list[tuple[str, int, int]]  # month's name, mentions, of which 1-2★
    language_name: str | None  # the label's language, when not the visitor's


def _shown(locale: str, found: list[Trend]) -> list[Shown]:
    peak = max((m.total for t in found for m in t.months), default=1)
    names = Locale.parse(babel_locale(locale)).languages  # the label's language, named in the visitor's
    return [Shown(t, sentence(locale, t), small_multiple(locale, t, peak, f"topic-{t.topic_id}"),
                  [(_month_name(locale, m), m.total, m.low) for m in t.months],
                  None if t.label_language == locale else names.get(t.label_language, t.label_language))
            for t in found]


@shop_page("viewer")
async def insights_page(request: Request, found: Shop) -> Response:
    svc, locale = found.who.svc, found.who.locale
    shown = _shown(locale, await trends.read(svc.pool, found.merchant.id, svc.clock.now(), locale))
    user = found.who.user
    assert user is not None  # the guard saw to it
    digest = await digests.subscribed(svc.pool, user.id, found.merchant.id) if found.may("owner") else None
    return render_shop("shop_insights.html", found, section="insights", topics=shown,
                       rising=sum(1 for s in shown if s.trend.rising), digest=digest,
                       digest_saved=request.query_params.get("digest") in ("on", "off"),
                       gone=request.query_params.get("gone") == "1")


@shop_page("owner")
async def digest(request: Request, found: Shop) -> Response:
    """An owner turns their weekly digest of this shop on or off."""
    form = await posted(request, found.who)
    svc, user = found.who.svc, found.who.user
    assert user is not None
    on = first(form, "digest") == "on"
    async with svc.pool.acquire() as conn:
        if on:
            await digests.subscribe(conn, user.id, found.merchant.id, svc.clock.now())
        else:
            await digests.unsubscribe(conn, user.id, found.merchant.id)
    return RedirectResponse(f"/console/m/{found.merchant.slug}/insights?digest={'on' if on else 'off'}#digest",
                            status_code=303)


@dataclass(frozen=True)
class Piece:
    text: str
    marked: bool


def highlighted(text: str, spans: list[tuple[int, int]]) -> list[Piece]:
    """The text in pieces, the mentioning spans marked (spans out of the text or overlapping are left out)."""
    pieces, at = [], 0
    for start, end in sorted(spans):
        if start < at or end > len(text) or start >= end:
            continue
        if start > at:
            pieces.append(Piece(text[at:start], False))
        pieces.append(Piece(text[start:end], True))
        at = end
    if at < len(text):
        pieces.append(Piece(text[at:], False))
    return pieces


@shop_page("viewer")
async def topic_page(request: Request, found: Shop) -> Response:
    svc, locale = found.who.svc, found.who.locale
    topic_id = int(request.path_params["topic_id"])
    found_trends = await trends.read(svc.pool, found.merchant.id, svc.clock.now(), locale, topic_id)
    if not found_trends:  # recomputed since (an old digest's link), another shop's, or no longer mentioned
        return RedirectResponse(f"/console/m/{found.merchant.slug}/insights?gone=1", status_code=303)
    page = params.whole(request.query_params.get("page"), 1, 100_000) or 1
    reviews, total = await trends.mentioning(svc.pool, found.merchant.id, topic_id, limit=PER_PAGE,
                                             offset=(page - 1) * PER_PAGE)
    shown = [(r, highlighted(r.title, [(s, e) for f, s, e in r.spans if f == "title"]),
              highlighted(r.body, [(s, e) for f, s, e in r.spans if f == "body"])) for r in reviews]
    return render_shop("shop_insights_topic.html", found, section="insights", topic=_shown(locale, found_trends)[0],
                       reviews=shown, total=total, page=page, pages=max(1, -(-total // PER_PAGE)))


async def _stop_link(request: Request) -> tuple[int, int, str] | Response:
    who = await visitor(request)
    found = digests.read_stop(who.svc, str(request.path_params["token"]))
    merchant = await merchants.by_id(who.svc.pool, found[1]) if found else None
    if found is None or merchant is None:
        return message_page(who, 400, _(who.locale, "This link cannot be used"),
                            _(who.locale, "Turn the weekly digest off on the shop's Insights page instead."))
    return found[0], found[1], merchant.name


async def stop_page(request: Request) -> Response:
    """The digest's stop link, opened: a page that asks (a GET changes nothing: mail scanners open links)."""
    found = await _stop_link(request)
    if isinstance(found, Response):
        return found
    return render("digest_stop.html", await visitor(request), token=request.path_params["token"], shop_name=found[2],
                  done=False)


async def stop(request: Request) -> Response:
    """The digest stopped, by the page's button or a mail client's one-click POST (RFC 8058): the
    signed link is the proof, as for the buyers' unsubscribe link."""
    found = await _stop_link(request)
    if isinstance(found, Response):
        return found
    who = await visitor(request)
    async with who.svc.pool.acquire() as conn:
        await digests.unsubscribe(conn, found[0], found[1])
    return render("digest_stop.html", who, token=request.path_params["token"], shop_name=found[2], done=True)
