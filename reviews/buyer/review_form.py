"""The review form: what it shows filled in, its CSRF token, and the checks on what is posted (lengths,
ratings, one text pasted for several products, the photos' captions) before the owner stores anything."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from embedding import text
from reviews.buyer import review_photos
from reviews.buyer.pages import _, number
from reviews.buyer.review_context import SHOP, Context, Slot, locked
from reviews.collection import appeals
from reviews.collection.authors import default_display_name
from reviews.collection.store import Submission
from reviews.platform import tokens
from reviews.platform.services import Services

BODY_MIN = 10
BODY_MAX = 5000
TITLE_MAX = 120
NAME_MAX = 60
CSRF_MAX_AGE = 24 * 3600
# Below this many characters (normalised), two equal texts are the ordinary "Great, thanks!" that
# detection never counts as evidence either.
SAME_TEXT_MIN = 40
# Two texts this alike in character 4-grams are one text with a word changed.
SAME_TEXT_OVERLAP = 0.8


def values(ctx: Context, query: Mapping[str, str]) -> dict[str, Any]:
    """The values to show: saved reviews and photos, then a rating preselected from the email's star link."""
    shown: dict[str, Any] = {"display_name": default_display_name(ctx.order.buyer_name), **review_photos.initial(ctx)}
    for slot in ctx.slots:
        saved = slot.saved
        if saved and saved.state != "withdrawn":
            shown.update({f"rating_{slot.key}": str(saved.rating), f"title_{slot.key}": saved.title,
                          f"body_{slot.key}": saved.body})
            shown["display_name"] = saved.display_name
    position, rating = query.get("p"), query.get("rating")
    if position and rating in ("1", "2", "3", "4", "5") and not shown.get(f"rating_{position}"):
        shown[f"rating_{position}"] = rating  # a saved rating wins: the buyer already decided
    return shown


def appeal_values(ctx: Context, query: Mapping[str, str], posted: Mapping[str, str]) -> dict[str, Any]:
    """The page's saved values, with the appeal as typed next to the review it is about."""
    shown = values(ctx, query)
    key = posted.get("review", "")
    if ctx.slot(key) is not None:
        shown[f"appeal_{key}"] = posted.get("appeal", "")
    return shown


def csrf_token(svc: Services, ctx: Context) -> str:
    return svc.signer.sign(tokens.CSRF, {"i": ctx.invitation.id})


def csrf_ok(svc: Services, ctx: Context, posted: Mapping[str, str]) -> bool:
    """The form was served for this link (a token of another link is refused too)."""
    try:
        payload = svc.signer.load(tokens.CSRF, posted.get("csrf", ""), CSRF_MAX_AGE)
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return False
    return isinstance(payload, dict) and payload.get("i") == ctx.invitation.id


def display_name(posted: Mapping[str, str]) -> str:
    return re.sub(r"\s+", " ", posted.get("display_name", "")).strip()


def user_agent_family(ua: str | None) -> str | None:
    if not ua:
        return None
    for family in ("Edg", "OPR", "Firefox", "Chrome", "Safari"):
        if family in ua:
            return {"Edg": "Edge", "OPR": "Opera"}.get(family, family)
    return "Other"


def validate(ctx: Context, posted: Mapping[str, str], locale: str) -> tuple[list[Submission], dict[str, str]]:
    """The reviews to store and the errors by field; nothing is stored while there is an error."""
    errors: dict[str, str] = {}
    items: list[Submission] = []
    for slot in ctx.slots:
        key = slot.key
        if locked(slot):
            continue  # shown, not a field: what is posted for it is not stored
        rating = posted.get(f"rating_{key}", "").strip()
        title = re.sub(r"\s+", " ", posted.get(f"title_{key}", "")).strip()
        body = posted.get(f"body_{key}", "").strip()
        # A form without the field says nothing about photos (None): the stored ones stay as they are.
        photos = review_photos.kept(ctx, posted, slot) if f"photos_{key}" in posted else None
        if not rating and not body and not title and not photos:
            continue  # the buyer chose not to review this one (photos go with a rating and a text)
        caption = review_photos.caption_error(ctx, posted, slot, locale)
        if caption:
            errors[f"photos_{key}"] = caption
        if rating not in ("1", "2", "3", "4", "5"):
            errors[f"rating_{key}"] = _(locale, "Choose a rating from 1 to 5 stars.")
        if len(title) > TITLE_MAX:
            errors[f"title_{key}"] = _(locale, "The title can have at most %(n)s characters.") % {
                "n": number(locale, TITLE_MAX)}
        if len(body) < BODY_MIN:
            errors[f"body_{key}"] = _(locale, "Write at least %(n)s characters.") % {"n": number(locale, BODY_MIN)}
        elif len(body) > BODY_MAX:
            errors[f"body_{key}"] = _(locale, "Write at most %(n)s characters.") % {"n": number(locale, BODY_MAX)}
        if not any(f"{kind}_{key}" in errors for kind in ("rating", "title", "body", "photos")):
            name = None if key == SHOP else slot.name
            items.append(Submission(slot.product_id, name, int(rating), title, body, photos))
    _same_texts(ctx, posted, locale, errors)
    if not items and not errors:
        errors["form"] = _(locale, "Rate at least one product or the shop.")
    name = display_name(posted)
    if not name or len(name) > NAME_MAX:
        errors["display_name"] = _(locale, "Enter a name of 1 to %(n)d characters.") % {"n": NAME_MAX}
    return items, errors


def _same_texts(ctx: Context, posted: Mapping[str, str], locale: str, errors: dict[str, str]) -> None:
    """A buyer who pastes one text into every product would have all but the first held as copies:
    ask, next to each later copy, for a word about each product instead (nothing typed is lost)."""
    seen: list[tuple[Slot, frozenset[str]]] = []
    for slot in ctx.slots:
        norm = text.normalize(posted.get(f"body_{slot.key}", ""))
        if len(norm) < SAME_TEXT_MIN or f"body_{slot.key}" in errors:
            continue
        grams = text.shingles(norm)
        first = next((other for other, other_grams in seen if text.jaccard(grams, other_grams) >= SAME_TEXT_OVERLAP),
                     None)
        if first is not None:
            errors[f"body_{slot.key}"] = _(
                locale, "You wrote the same text for %(first)s and %(second)s. Say something about each, "
                        "or leave one of them empty.") % {"first": first.name, "second": slot.name}
        else:
            seen.append((slot, grams))


def appeal_error(locale: str, body: str) -> str | None:
    """What is wrong with an appeal's text, if anything."""
    if len(body) < appeals.BODY_MIN:
        return _(locale, "Write at least %(n)s characters.") % {"n": number(locale, appeals.BODY_MIN)}
    if len(body) > appeals.BODY_MAX:
        return _(locale, "Write at most %(n)s characters.") % {"n": number(locale, appeals.BODY_MAX)}
    return None
