"""The review form's photos: what each item's photo fields carry, receiving the files sent with it,
and how each photo is shown back to its author.

Every item (a product, or the shop) has, in the form:

- `photos_<key>`: the ids of its photos so far, in order (hidden; a photo of another link or item
  is ignored), and per photo `caption_<id>` and the `remove_<id>` box;
- `upload_<key>`: the files to add (with the page's script, downscaled on the phone first, each
  with its caption in `newcaption_<key>_<n>`).

A file is processed as it arrives (`reviews.media.processing`) and staged (`reviews.media.store`):
a form sent back for a mistake keeps it, and the page shows it. A refused file gets a message in the
buyer's language next to the field and nothing of it is stored; the other fields keep what was typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from starlette.datastructures import UploadFile

from reviews.buyer.pages import _, _n, number
from reviews.buyer.review_context import Context, Slot, locked
from reviews.media import alt, processing, reasons, serving
from reviews.media import store as photo_store
from reviews.media.store import Kept, Photo
from reviews.platform.ratelimit import Limit, RateLimiter
from reviews.platform.services import Services

MAX = photo_store.MAX_PER_REVIEW
CAPTION_MAX = photo_store.CAPTION_MAX
MAX_MB = processing.MAX_UPLOAD_BYTES // (1024 * 1024)
# The file types the picker offers; what a file is, is decided by decoding it, not by this.
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.jpg,.jpeg,.png,.webp,.heic,.heif"
# Photos processed per link: a buyer with a few products and second thoughts stays well below.
LIMIT = Limit("review-photos", 30, 3600)
NAME_SHOWN = 60  # characters of a file's name quoted in a message


def ids(posted: Mapping[str, str], key: str) -> list[int]:
    """The photo ids of an item's hidden field, in order, each once."""
    found: list[int] = []
    for part in posted.get(f"photos_{key}", "").split(","):
        part = part.strip()
        if part.isdigit() and int(part) not in found:
            found.append(int(part))
    return found


def kept(ctx: Context, posted: Mapping[str, str], slot: Slot) -> tuple[Kept, ...]:
    """The item's photos the form keeps (not removed), with their captions as typed."""
    return tuple(Kept(i, posted.get(f"caption_{i}", photo.caption)) for i in ids(posted, slot.key)
                 if (photo := ctx.photo(slot, i)) is not None and not posted.get(f"remove_{i}"))


def caption_error(ctx: Context, posted: Mapping[str, str], slot: Slot, locale: str) -> str | None:
    if any(len(k.caption.strip()) > CAPTION_MAX for k in kept(ctx, posted, slot)):
        return _(locale, "A caption can have at most %(n)s characters.") % {"n": number(locale, CAPTION_MAX)}
    return None


@dataclass(frozen=True)
class Received:
    ctx: Context  # with the photos staged just now
    form: dict[str, str]  # with their ids in the items' `photos_` fields
    errors: dict[str, str]
    limited: bool  # a refusal for too many photos from this link: the answer is a 429


async def receive(svc: Services, ctx: Context, locale: str, form: dict[str, str],
                  files: Mapping[str, Sequence[UploadFile]]) -> Received:
    """Process and stage the files sent for each item (see the module docstring)."""
    form, errors, limited, added = dict(form), {}, False, list[Photo]()
    limiter = RateLimiter(svc.settings.secret_key)
    for slot in ctx.slots:
        uploads = [f for f in files.get(f"upload_{slot.key}", ()) if f.filename]
        if not uploads or locked(slot):
            continue
        field = f"photos_{slot.key}"
        have = len(kept(ctx, form, slot))
        if have + len(uploads) > MAX:
            errors[field] = _too_many(locale, have)
            continue  # none of them: the buyer chooses which to leave out
        messages, new = [], []
        for n, upload in enumerate(uploads):
            decision = await limiter.hit(svc.pool, [(LIMIT, f"invitation:{ctx.invitation.id}")], svc.clock.now())
            if not decision.allowed:
                minutes = max(1, -(-decision.retry_after // 60))
                messages.append(_n(locale, "You have sent many photos in a short time. Please add more in %(num)d "
                                           "minute.", "You have sent many photos in a short time. Please add more "
                                           "in %(num)d minutes.", minutes) % {"num": minutes})
                limited = True
                break
            photo = await _stage(svc, ctx, slot, upload, locale, messages)
            if photo is not None:
                new.append(photo)
                if caption := form.get(f"newcaption_{slot.key}_{n}", "").strip():
                    form[f"caption_{photo.id}"] = caption
        added += new
        form[field] = ",".join(str(i) for i in ids(form, slot.key) + [p.id for p in new])
        if messages:
            errors[field] = " ".join(messages)
    return Received(replace(ctx, photos=ctx.photos + tuple(added)), form, errors, limited)


async def _stage(svc: Services, ctx: Context, slot: Slot, upload: UploadFile, locale: str,
                 messages: list[str]) -> Photo | None:
    name = _name(upload.filename)
    data = await upload.read(processing.MAX_UPLOAD_BYTES + 1)
    try:
        processed = await asyncio.to_thread(processing.process, data)
    except processing.Refused as exc:
        messages.append(refusal(locale, exc.code, name))
        return None
    async with svc.pool.acquire() as conn:
        return await photo_store.stage(conn, merchant_id=ctx.merchant.id, invitation_id=ctx.invitation.id,
                                       product_id=slot.product_id, processed=processed, now=svc.clock.now())


def _name(filename: str | None) -> str:
    name = "".join(c for c in (filename or "") if c.isprintable()).strip() or "?"
    return name if len(name) <= NAME_SHOWN else name[:NAME_SHOWN - 1] + "…"


def _too_many(locale: str, have: int) -> str:
    message = _(locale, "You can add at most %(n)s photos to a review.") % {"n": number(locale, MAX)}
    if have:
        message += " " + _n(locale, "It has %(num)d already: remove one before adding another.",
                            "It has %(num)d already: remove some before adding others.", have) % {"num": have}
    return message


def refusal(locale: str, code: str, name: str) -> str:
    """Why a file was not taken, naming it, in the buyer's words."""
    messages = {
        "too_large": _(locale, "“%(name)s” is larger than %(mb)s MB. Please choose a smaller photo."),
        "too_many_pixels": _(locale, "“%(name)s” has too many pixels. Please choose a photo of at most %(mp)s "
                                     "megapixels."),
        "truncated": _(locale, "“%(name)s” is incomplete, perhaps cut off while sending. Please choose it again."),
        "animated": _(locale, "“%(name)s” is an animation. Please choose a still photo."),
    }
    message = messages.get(code) or _(locale, "“%(name)s” could not be read as a photo. Please choose a JPEG, PNG, "
                                              "WebP or HEIC photo.")
    return message % {"name": name, "mb": number(locale, MAX_MB),
                      "mp": number(locale, processing.MAX_PIXELS // 1_000_000)}


@dataclass(frozen=True)
class Shown:
    """A photo on the form, as its author sees it."""

    id: int
    thumb: str
    width: int
    height: int
    alt: str
    caption: str
    status: str
    removing: bool


def shown(svc: Services, ctx: Context, locale: str, values: Mapping[str, str], subject: str,
          display_name: str) -> dict[str, list[Shown]]:
    """Each item's photos to show, in the form's order, with what has become of each."""
    found: dict[str, list[Shown]] = {}
    for slot in ctx.slots:
        for i in ids(values, slot.key):
            photo = ctx.photo(slot, i)
            if photo is None:
                continue
            caption = values.get(f"caption_{i}", photo.caption)
            text = alt.alt_text(lambda m: _(locale, m), caption=caption, display_name=display_name,
                                subject=subject if slot.product_id is None else slot.name)
            found.setdefault(slot.key, []).append(Shown(
                photo.id, serving.signed_path(svc.signer, photo.id, thumb=True), photo.thumb_width,
                photo.thumb_height, text, caption, status(locale, photo), bool(values.get(f"remove_{i}"))))
    return found


def status(locale: str, photo: Photo) -> str:
    if photo.review_id is None:
        return _(locale, "Not sent yet: it is added to your review when you send the form.")
    if photo.state == "approved":
        return _(locale, "Checked: shown with your review.")
    if photo.state == "rejected":
        reason = reasons.reason(photo.reject_reason)
        label = _(locale, reason.label) if reason else (photo.reject_reason or "")
        return _(locale, "Not shown. The moderator's reason: %(reason)s") % {"reason": label}
    return _(locale, "A moderator checks it before it is shown.")


def initial(ctx: Context) -> dict[str, str]:
    """The items' photo fields of a form not sent yet: their photos as stored."""
    return {f"photos_{slot.key}": ",".join(str(p.id) for p in ctx.photos_of(slot)) for slot in ctx.slots
            if ctx.photos_of(slot)}


def sent_any(ctx: Context, posted: Mapping[str, str]) -> bool:
    return any(kept(ctx, posted, slot) for slot in ctx.slots)


def upload_fields(ctx: Context) -> int:
    """How many files a form may carry at most (more is refused while the body is read)."""
    return MAX * len(ctx.slots)
