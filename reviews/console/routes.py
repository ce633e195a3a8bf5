"""Every console URL, in the one table that `reviews.app` mounts, and the handler of the console's
errors (`errors.handle`) that the app registers with it.

Ids in paths take the `id` convertor: digits that fit a bigint. Anything else matches no route, and
the app answers a /console URL that matches none with the console's 404 page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from os import PathLike, stat_result
from pathlib import Path

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from reviews.console import errors, home, signin
from reviews.console.desk import bulk, campaign, done, photos, queue, review_file
from reviews.console.shop import (
    developers,
    export,
    inbox,
    insights,
    invitations,
    privacy,
    settings,
    team,
    webhooks,
    widgets,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SHOP = "/console/m/{slug}"
HOOKS = SHOP + "/developers/webhooks"


class _Id(Convertor[int]):
    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", _Id())


class _Static(StaticFiles):
    """console.js (keyboard shortcuts only), cached by browsers for an hour."""

    def file_response(self, full_path: PathLike[str] | str, stat_result: stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def routes() -> list[Route | Mount]:
    return [
        Route("/console", home.home),
        Route("/console/account", home.account),
        Route("/console/settings/shortcuts", home.shortcuts, methods=["POST"]),
        Route("/console/settings/language", home.language, methods=["POST"]),
        Route("/console/sign-in", signin.sign_in_page, methods=["GET"]),
        Route("/console/sign-in", signin.sign_in, methods=["POST"]),
        Route("/console/sign-in/link", signin.request_link, methods=["POST"]),
        Route("/console/link/{token}", signin.link_page, methods=["GET"]),
        Route("/console/link/{token}", signin.use_link, methods=["POST"]),
        Route("/console/sign-out", signin.sign_out, methods=["POST"]),
        Mount("/console/static", app=_Static(directory=STATIC_DIR)),
        Route("/console/digest/stop/{token}", insights.stop_page, methods=["GET"]),
        Route("/console/digest/stop/{token}", insights.stop, methods=["POST"]),
        # The moderators' desk.
        Route("/console/queue", queue.queue_page),
        Route("/console/reviews/{review_id:id}", review_file.review_page, methods=["GET"]),
        Route("/console/reviews/{review_id:id}/decision", review_file.decide_one, methods=["POST"]),
        Route("/console/bulk", bulk.bulk, methods=["POST"]),
        Route("/console/photos", photos.photos_page, methods=["GET"]),
        Route("/console/photos/decide", photos.decide, methods=["POST"]),
        Route("/console/campaigns/{review_id:id}", campaign.campaign_page, methods=["GET"]),
        Route("/console/decisions/{decision_id:id}/undo", done.undo, methods=["POST"]),
        Route("/console/decisions/undo", done.undo_many, methods=["POST"]),
        # The shops' pages.
        Route(SHOP, inbox.inbox_page, methods=["GET"]),
        Route(SHOP + "/reviews/{review_id:id}", inbox.review_page, methods=["GET"]),
        Route(SHOP + "/reviews/{review_id:id}/reply", inbox.reply, methods=["POST"]),
        Route(SHOP + "/reviews/{review_id:id}/report", inbox.report, methods=["POST"]),
        Route(SHOP + "/export.csv", export.export_csv, methods=["GET"]),
        Route(SHOP + "/export.jsonl", export.export_jsonl, methods=["GET"]),
        Route(SHOP + "/invitations", invitations.invitations_page, methods=["GET"]),
        Route(SHOP + "/invitations/{invitation_id:id}/cancel", invitations.cancel, methods=["POST"]),
        Route(SHOP + "/settings", settings.settings_page, methods=["GET"]),
        Route(SHOP + "/settings", settings.save, methods=["POST"]),
        Route(SHOP + "/settings/platform", settings.save_platform, methods=["POST"]),
        Route(SHOP + "/settings/preview/{lang}", settings.preview, methods=["GET"]),
        Route(SHOP + "/team", team.team_page, methods=["GET"]),
        Route(SHOP + "/team/invite", team.invite, methods=["POST"]),
        Route(SHOP + "/team/{user_id:id}/role", team.change_role, methods=["POST"]),
        Route(SHOP + "/team/{user_id:id}/remove", team.remove, methods=["POST"]),
        Route(SHOP + "/team/{user_id:id}/resend", team.resend, methods=["POST"]),
        Route(SHOP + "/developers", developers.developers_page, methods=["GET"]),
        Route(SHOP + "/developers/keys", developers.create_key, methods=["POST"]),
        Route(SHOP + "/developers/keys/{key_id:id}/revoke", developers.revoke_key, methods=["POST"]),
        Route(HOOKS, webhooks.list_page, methods=["GET"]),
        Route(HOOKS, webhooks.create, methods=["POST"]),
        Route(HOOKS + "/{endpoint_id:id}", webhooks.endpoint_page, methods=["GET"]),
        Route(HOOKS + "/{endpoint_id:id}/rotate", webhooks.rotate, methods=["POST"]),
        Route(HOOKS + "/{endpoint_id:id}/delete", webhooks.delete, methods=["POST"]),
        Route(HOOKS + "/{endpoint_id:id}/test", webhooks.send_test, methods=["POST"]),
        Route(HOOKS + "/{endpoint_id:id}/deliveries/{delivery_id:id}/redeliver", webhooks.redeliver,
              methods=["POST"]),
        Route(SHOP + "/widgets", widgets.widgets_page, methods=["GET"]),
        Route(SHOP + "/privacy", privacy.privacy_page, methods=["GET"]),
        Route(SHOP + "/privacy/export", privacy.export, methods=["POST"]),
        Route(SHOP + "/privacy/erase", privacy.erase, methods=["POST"]),
        Route(SHOP + "/privacy/exports/{export_id:id}", privacy.download, methods=["GET"]),
        Route(SHOP + "/insights", insights.insights_page, methods=["GET"]),
        Route(SHOP + "/insights/digest", insights.digest, methods=["POST"]),
        Route(SHOP + "/insights/topics/{topic_id:id}", insights.topic_page, methods=["GET"]),
    ]


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]
# For the app's exception handlers: every page's refusal, rendered in one place.
EXCEPTION_HANDLERS: dict[type[Exception], ExceptionHandler] = {errors.ConsoleError: errors.handle}
