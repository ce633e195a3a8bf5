"""Composing and sending Attest's emails: templates, translations, headers, DKIM, SMTP."""

from mailer.compose import Branding, EmailProduct, InvitationEmail, compose_invitation
from mailer.dkim import DkimConfig, load_dkim_config, sign_message
from mailer.transport import (
    OutboxTransport,
    PermanentFailure,
    SendError,
    Session,
    SmtpTransport,
    TemporaryFailure,
    Transport,
    transport_from_settings,
)

__all__ = [
    "Branding",
    "DkimConfig",
    "EmailProduct",
    "InvitationEmail",
    "OutboxTransport",
    "PermanentFailure",
    "SendError",
    "Session",
    "SmtpTransport",
    "TemporaryFailure",
    "Transport",
    "compose_invitation",
    "load_dkim_config",
    "sign_message",
    "transport_from_settings",
]
