"""The merchants' pages under /console/m/{slug}: the review inbox and its export, invitations,
settings, team, API keys and webhooks, widget snippets and the GDPR tool, one module each; the
shop and the role there come from `reviews.console.guards.shop_page`."""
