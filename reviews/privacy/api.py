"""The merchant's data-request endpoints under /api/v1/privacy: list the exports, download one.

They sit in `reviews.privacy`, above intake, and borrow the merchant API's key check.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reviews.intake.api import authenticate
from reviews.platform.errors import NotFound
from reviews.platform.services import Services
from reviews.privacy import exports


async def list_exports(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    entries = await exports.listed(svc.pool, merchant.id)
    return JSONResponse({"exports": [e.describe() for e in entries]})


async def get_export(request: Request) -> Response:
    """The export as a JSON file to hand to the buyer; the first download marks it delivered."""
    svc: Services = request.app.state.services
    merchant = await authenticate(request)
    raw = request.path_params["export_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("No data export with this id.")
    async with svc.pool.acquire() as conn:
        found = await exports.download(conn, merchant.id, int(raw), by="api", now=svc.clock.now())
    if found is None:
        raise NotFound("No data export with this id.")
    if found.data is None:
        return JSONResponse({"export": found.entry.describe(), "data": None,
                             "note": "The buyer was erased since; the data is gone."})
    return Response(json.dumps(found.data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"'})
