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

A shop page loads several photos at once, and many pages load at once: the public route's checks are
folded (`Lookups`), as the widgets' version checks are. The requests that arrive while a query runs
wait for the next one, which answers all of them; each answer comes from a query that began after its
request arrived, so a photo hidden a moment ago (a withdrawal, an erasure) is never served.
"""

from __future__ import annotations

import asyncio
import re

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from reviews.media import store
from reviews.media.blobs import Recent
from reviews.media.processing import MEDIA_TYPE
from reviews.platform import tokens
from reviews.platform.services import Services
from widgets import front

PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, max-age=3600"
CSP = "default-src 'none'; sandbox"
SIGNED = "attest.photo.v1"  # the signer's purpose (salt) for photo tokens
SIGNED_MAX_AGE = 24 * 3600
VARIANTS = {"photo.webp": False, "thumb.webp": True}
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# The answers this process gave lately, by blob and caching: a blob never changes (it is named by its
# hash), and every request still asks the database whether its photo may be shown before it gets one.
RECENT: Recent[Response] = Recent(max_bytes=64 * 1024 * 1024)


class Lookups:
    """Which photos may be shown, asked for many requests in one query (see the module docstring)."""

    def __init__(self) -> None:
        self._waiting: list[tuple[str, asyncio.Future[store.Published | None]]] = []
        self._running: asyncio.Task[None] | None = None

    async def published(self, pool: asyncpg.Pool, public_key: str) -> store.Published | None:
        answer: asyncio.Future[store.Published | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((public_key, answer))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._run(pool))
        return await answer

    async def _run(self, pool: asyncpg.Pool) -> None:
        # Until nobody waits: a request that came while the connection went back to the pool is seen
        # here, since this task is not done before this check finds the list empty.
        while self._waiting:
            batch: list[tuple[str, asyncio.Future[store.Published | None]]] = []
            try:
                # One connection for the whole burst: the pool would reset it after each query otherwise.
                async with pool.acquire() as conn:
                    while self._waiting:
                        await asyncio.sleep(0)  # the requests read in the same turn of the loop join this batch
                        batch, self._waiting = self._waiting, []
                        found = await store.published(conn, list(dict.fromkeys(key for key, _ in batch)))
                        for key, answer in batch:
                            if not answer.done():  # not given up on by its client
                                answer.set_result(found.get(key))
            except Exception as exc:  # each request answers it as the app answers a failed query (a 503)
                failed, self._waiting = batch + self._waiting, []
                for _, answer in failed:
                    if not answer.done():
                        answer.set_exception(exc)


def public_path(public_key: str, *, thumb: bool = False) -> str:
    return f"/photos/{public_key}/{'thumb' if thumb else 'photo'}.webp"


def signed_path(signer: tokens.Signer, photo_id: int, *, thumb: bool = False) -> str:
    """The address of any photo for a page whose reader may see it, valid `SIGNED_MAX_AGE`."""
    return "/photos/private/" + signer.sign(SIGNED, {"p": photo_id, "t": int(thumb)})


class PublicPhotos:
    """The public route, as a plain ASGI app rather than a function of a `Request`: shop pages ask for
    photos more than for anything else, and this answer needs nothing of the request but its path."""

    def __init__(self) -> None:
        self.lookups = Lookups()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = scope["path_params"]
        key, variant = params["key"], params["variant"]
        svc: Services = scope["app"].state.services
        found = await self.lookups.published(svc.pool, key) if variant in VARIANTS and _KEY.fullmatch(key) else None
        thumb = VARIANTS.get(variant, False)
        digest = (found.thumb_digest if thumb else found.image_digest) if found is not None else None
        stored = await _stored(svc, digest, PUBLIC_CACHE) if digest is not None else None
        if stored is None or digest is None:
            response = _not_found()
        else:
            self._offer(scope, svc, key, thumb, digest, stored)
            response = _not_modified(digest, PUBLIC_CACHE) if f'"{digest}"' in _if_none_match(scope) else stored
        await response(scope, receive, send)

    def _offer(self, scope: Scope, svc: Services, key: str, thumb: bool, digest: str, stored: Response) -> None:
        """Offered to the app's front: the next request for this address is answered there, once the
        same folded check says the photo is still shown."""

        async def current() -> str | None:
            found = await self.lookups.published(svc.pool, key)
            return (found.thumb_digest if thumb else found.image_digest) if found is not None else None

        front.offer(scope, front.Offer(bytes(stored.body), f'"{digest}"', stored.raw_headers,
                                       _not_modified(digest, PUBLIC_CACHE).raw_headers, digest, current))


def _if_none_match(scope: Scope) -> str:
    """The request's If-None-Match, read straight from the headers (this route parses nothing else)."""
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return str(value.decode("latin-1"))
    return ""


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
    return await _photo(svc, request.headers.get("if-none-match", ""),
                        photo.thumb_digest if thumb else photo.image_digest, PRIVATE_CACHE)


def _headers(digest: str, cache: str) -> dict[str, str]:
    # Shop pages on other sites show the public ones; the signed ones are for Attest's own pages.
    corp = "cross-origin" if cache == PUBLIC_CACHE else "same-origin"
    return {"Cache-Control": cache, "ETag": f'"{digest}"', "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": CSP, "Cross-Origin-Resource-Policy": corp}


async def _photo(svc: Services, if_none_match: str, digest: str, cache: str) -> Response:
    if f'"{digest}"' in if_none_match:
        return _not_modified(digest, cache)
    return await _stored(svc, digest, cache) or _not_found()


def _not_modified(digest: str, cache: str) -> Response:
    return Response(status_code=304, headers=_headers(digest, cache))


async def _stored(svc: Services, digest: str, cache: str) -> Response | None:
    """The photo's 200, or None if it was deleted since its row was read."""
    key = f"{cache}:{digest}"
    response = RECENT.get(key)
    if response is None:
        data = await store.blob(svc.pool, digest)
        if data is None:
            return None
        response = Response(data, media_type=MEDIA_TYPE, headers=_headers(digest, cache))
        RECENT.put(key, response, len(data))
    return response


def _not_found() -> Response:
    return Response(b"Not found", status_code=404, media_type="text/plain",
                    headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP})
