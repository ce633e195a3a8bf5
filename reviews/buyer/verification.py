"""The public "how reviews are verified" page (EU Omnibus Directive disclosure), global or per shop."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reviews.buyer.pages import page_locale, render
from reviews.merchants import branding
from reviews.merchants.store import by_slug
from reviews.platform.services import Services


async def page(request: Request) -> Response:
    svc: Services = request.app.state.services
    merchant = None
    slug = request.path_params.get("slug")
    if slug:
        merchant = await by_slug(svc.pool, slug)
    locale = page_locale(request, merchant.locale if merchant else None)
    colours = branding.colours(merchant.setting("accent_color") if merchant else None)
    response = render("verification.html", locale, merchant=merchant, accent=colours.accent,
                      on_accent=colours.on_accent, star_color=colours.star)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
