"""A campaign as one item: what its queue row says (members, shops, languages, first and last date,
its strongest link) and its own page, where its texts stand side by side and the whole campaign is
decided at once (through the bulk confirmation, which lists the texts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reviews.collection.reasons import REASONS
from reviews.console.errors import PageNotFound
from reviews.console.guards import Desk, moderator_page
from reviews.console.web import LANGUAGE_NAMES, _, render
from reviews.moderation import queue

# How a link ranks against another: a copy before a rewrite before a likeness of meaning.
_RANK = {"exact": 3.0, "near": 2.0, "reworded": 1.0}


def _strength(link: dict[str, Any]) -> float:
    kind = str(link.get("kind"))
    if kind in _RANK:
        return _RANK[kind] + float(link.get("lexical", 1.0 if kind == "exact" else 0.0))
    return min(float(link.get("z", 0.0)), 99.0) / 100.0


def link_words(locale: str, link: dict[str, Any]) -> str:
    """One link between two texts in words: what kind of likeness, and how strong."""
    kind = link.get("kind")
    share = f"{float(link.get('lexical', 0.0)):.0%}"
    z = f"{float(link.get('z', 0.0)):.1f}"
    if kind == "exact":
        return _(locale, "the same text")
    if kind == "near":
        return _(locale, "a near copy (%(share)s of the text the same)") % {"share": share}
    if kind == "reworded":
        return _(locale, "a rewrite (%(share)s of the text the same, and the same meaning)") % {"share": share}
    if kind == "multilingual":
        return _(locale, "a translation (the meanings %(z)s standard deviations closer than usual)") % {"z": z}
    return _(locale, "a paraphrase (the meanings %(z)s standard deviations closer than usual)") % {"z": z}


def strongest(locale: str, links: Sequence[dict[str, Any]]) -> str | None:
    """"#3 and #7: a near copy (92% of the text the same)", the campaign's strongest link."""
    if not links:
        return None
    best = max(links, key=_strength)
    return _(locale, "#%(a)s and #%(b)s: %(link)s") % {"a": best.get("a"), "b": best.get("b"),
                                                     "link": link_words(locale, best)}


def facts(locale: str, members: Sequence[tuple[str, str | None, datetime]],
          links: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a campaign's row and page say of it, from each member's (shop, language, date)."""
    dates = sorted(when for _shop, _code, when in members)
    codes = sorted({code or "" for _shop, code, _when in members})
    return {"count": len(members), "shops": sorted({shop for shop, _code, _when in members}),
            "languages": [LANGUAGE_NAMES.get(c, c) if c else _(locale, "not known") for c in codes],
            "first": dates[0], "last": dates[-1], "strongest": strongest(locale, links)}


@moderator_page
async def campaign_page(request: Request, desk: Desk) -> Response:
    """The campaign of one of its reviews: the decision for all of them at the top, the texts side by side."""
    who, merchants = desk.who, desk.merchants
    review_id: int = request.path_params["review_id"]
    pool = who.svc.pool
    ids = await queue.campaign_members(pool, review_id, merchants)
    found = await queue.review_file(pool, review_id, merchants)
    flag = next((f for f in found.flags if f["kind"] == "campaign"), None) if found else None
    if found is None or flag is None or len(ids) < 2:
        raise PageNotFound()
    members = await queue.summaries(pool, ids, merchants)
    links = [link for link in (flag["evidence"] or {}).get("links", []) if link.get("a") in ids or link.get("b") in ids]
    about = facts(who.locale, [(m["name"], m["locale"], m["submitted_at"]) for m in members], links)
    return render("campaign.html", who, review_id=review_id, members=members, facts=about, reasons=REASONS, ids=ids,
                  contacts=(flag["evidence"] or {}).get("contacts"))
