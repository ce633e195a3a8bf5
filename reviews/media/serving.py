"""Serving photos, from any web process: the public route for shoppers and a signed one for the
author, the moderators and the shop.

- `/photos/{key}/photo.webp` and `/photos/{key}/thumb.webp`: a photo shoppers may see (approved, in a
  published review: `published_photos`), under a name nobody can guess (128 random bits). Its bytes
  never change, so it is cached for a year as `immutable`. Anything else is a 404, the same whether
  the photo does not exist or is not shown.
- `/photos/private/{token}`: any photo, by a signed token (`signed_path`) that the page showing it
  makes for whoever may see it there: the buyer's own review page, the moderators' and the shop's
  consoles. Valid `SIGNED_MAX_AGE`, cached privately.

Both answer with the right type, `nosniff`, and a CSP that allows nothing to run (an image needs no
script, and a browser that opens one as a page gets a sandbox).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from reviews.media import store
from reviews.media.blobs import Recent
from reviews.media.processing import MEDIA_TYPE
from reviews.platform import tokens
from reviews.platform.services import Services

PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, max-age=3600"
CSP = "default-src 'none'; sandbox"
SIGNED = "attest.photo.v1"  # the signer's purpose (salt) for photo tokens
SIGNED_MAX_AGE = 24 * 3600
VARIANTS = {"photo.webp": False, "thumb.webp": True}
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# The bytes of the photos this process served lately: a blob never changes (it is named by its hash),
# and every request still asks the database whether its photo may be shown.
RECENT = Recent(max_bytes=64 * 1024 * 1024)


def public_path(public_key: str, *, thumb: bool = False) -> str:
    return f"/photos/{public_key}/{'thumb' if thumb else 'photo'}.webp"


def signed_path(signer: tokens.Signer, photo_id: int, *, thumb: bool = False) -> str:
    """The address of any photo for a page whose reader may see it, valid `SIGNED_MAX_AGE`."""
    return "/photos/private/" + signer.sign(SIGNED, {"p": photo_id, "t": int(thumb)})


async def public_photo(request: Request) -> Response:
    key, variant = request.path_params["key"], request.path_params["variant"]
    if variant not in VARIANTS or not _KEY.fullmatch(key):
        return _not_found()
    svc: Services = request.app.state.services
    found = await store.published(svc.pool, key, VARIANTS[variant])
    if found is None:
        return _not_found()
    return await _photo(svc, request, found.digest, PUBLIC_CACHE)


async def private_photo(request: Request) -> Response:
    svc: Services = request.app.state.services
    try:
        payload = svc.signer.load(SIGNED, request.path_params["token"], SIGNED_MAX_AGE)
        photo_id, thumb = int(payload["p"]), bool(payload["t"])
    except (tokens.TokenInvalid, tokens.TokenExpired, KeyError, TypeError, ValueError):
        return _not_found()
    photo = await store.get(svc.pool, photo_id)
    if photo is None:
        return _not_found()
    return await _photo(svc, request, photo.thumb_digest if thumb else photo.image_digest, PRIVATE_CACHE)


async def _photo(svc: Services, request: Request, digest: str, cache: str) -> Response:
    etag = f'"{digest}"'
    headers = {"Cache-Control": cache, "ETag": etag, "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": CSP, "Cross-Origin-Resource-Policy": "cross-origin"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    data = RECENT.get(digest)
    if data is None:
        data = await store.blob(svc.pool, digest)
        if data is None:  # deleted between the two reads
            return _not_found()
        RECENT.put(digest, data)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)


def _not_found() -> Response:
    return Response(b"Not found", status_code=404, media_type="text/plain",
                    headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP})
