"""A buyer's review form with photos, as a browser without JavaScript sends it: the page's fields,
untouched (a checkbox only when ticked), with files in the items' upload fields."""

from __future__ import annotations

import re
from typing import Any

import httpx

from reviews.platform.services import Services
from tests.helpers import form_of, invite

TEXT = "Comfortable from the first run, and dry after the rain."
JPEG = "image/jpeg"


async def fields(client: httpx.AsyncClient, path: str) -> dict[str, str]:
    form = await form_of(client, path)
    return {k: v for k, v in form.fields.items() if not k.startswith(("remove_", "upload_"))}


def files(*named: tuple[str, bytes], field: str = "upload_0") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(field, (name, data, JPEG)) for name, data in named]


async def send(client: httpx.AsyncClient, path: str, *photos: tuple[str, bytes], field: str = "upload_0",
               **data: Any) -> httpx.Response:
    """The form as the page has it, with `data` typed in and `photos` chosen in `field`."""
    posted = {**await fields(client, path), **data}
    return await client.post(path, data=posted, files=files(*photos, field=field) or None)


async def review_with_photo(client: httpx.AsyncClient, services: Services, key: str, photo: bytes,
                            **order: Any) -> tuple[str, int]:
    """An invitation, and a review of its first product with one photo: (the link, the review's id)."""
    path = await invite(client, services, key, **order)
    r = await send(client, path, ("phone.jpg", photo), rating_0="5", body_0=TEXT)
    assert r.status_code == 200, r.text
    review_id = await services.pool.fetchval(
        "SELECT max(id) FROM reviews WHERE invitation_id = (SELECT max(id) FROM invitations)")
    return path, int(review_id)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return found.group(1)
