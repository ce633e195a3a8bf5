"""The console's routes under /console, in one table that `reviews.app` mounts."""

from __future__ import annotations

from starlette.routing import Route

from reviews.console import inbox, moderation, shop_pages, signin, webhooks_page


def routes() -> list[Route]:
    return [
        Route("/console", moderation.home),
        Route("/console/sign-in", signin.sign_in_page, methods=["GET"]),
        Route("/console/sign-in", signin.sign_in, methods=["POST"]),
        Route("/console/sign-in/link", signin.request_link, methods=["POST"]),
        Route("/console/link/{token}", signin.link_page, methods=["GET"]),
        Route("/console/link/{token}", signin.use_link, methods=["POST"]),
        Route("/console/sign-out", signin.sign_out, methods=["POST"]),
        Route("/console/queue", moderation.queue_page),
        Route("/console/reviews/{review_id}", moderation.review_page, methods=["GET"]),
        Route("/console/reviews/{review_id}/decision", moderation.decide_one, methods=["POST"]),
        Route("/console/bulk", moderation.bulk, methods=["POST"]),
        Route("/console/settings/shortcuts", moderation.shortcuts, methods=["POST"]),
        Route("/console/static/console.js", moderation.script),
        # The merchants' console, every page under /console/m/{slug}.
        *inbox.routes(),
        *shop_pages.routes(),
        *webhooks_page.routes(),
    ]
