"""The merchants' console pages beside the review inbox, under /console/m/{slug}: invitations,
settings (with the email preview and the platform connection), team, API keys, widget snippets and
the GDPR tool. Each page is a module of its own (`shop_*.py`); this one gathers their routes.
"""

from __future__ import annotations

from starlette.routing import Route

from reviews.console import (
    shop_developers,
    shop_invitations,
    shop_privacy,
    shop_settings,
    shop_team,
    shop_widgets,
)

PREFIX = "/console/m/{slug}"


def routes() -> list[Route]:
    return [
        Route(PREFIX + "/invitations", shop_invitations.invitations_page, methods=["GET"]),
        Route(PREFIX + "/invitations/{invitation_id}/cancel", shop_invitations.cancel, methods=["POST"]),
        Route(PREFIX + "/settings", shop_settings.settings_page, methods=["GET"]),
        Route(PREFIX + "/settings", shop_settings.save, methods=["POST"]),
        Route(PREFIX + "/settings/platform", shop_settings.save_platform, methods=["POST"]),
        Route(PREFIX + "/settings/preview/{lang}", shop_settings.preview, methods=["GET"]),
        Route(PREFIX + "/team", shop_team.team_page, methods=["GET"]),
        Route(PREFIX + "/team/invite", shop_team.invite, methods=["POST"]),
        Route(PREFIX + "/team/{user_id}/role", shop_team.change_role, methods=["POST"]),
        Route(PREFIX + "/team/{user_id}/remove", shop_team.remove, methods=["POST"]),
        Route(PREFIX + "/developers", shop_developers.developers_page, methods=["GET"]),
        Route(PREFIX + "/developers/keys", shop_developers.create_key, methods=["POST"]),
        Route(PREFIX + "/developers/keys/{key_id}/revoke", shop_developers.revoke_key, methods=["POST"]),
        Route(PREFIX + "/widgets", shop_widgets.widgets_page, methods=["GET"]),
        Route(PREFIX + "/privacy", shop_privacy.privacy_page, methods=["GET"]),
        Route(PREFIX + "/privacy/export", shop_privacy.export, methods=["POST"]),
        Route(PREFIX + "/privacy/erase", shop_privacy.erase, methods=["POST"]),
        Route(PREFIX + "/privacy/exports/{export_id}", shop_privacy.download, methods=["GET"]),
    ]
