"""Outgoing webhooks, as Standard Webhooks (https://www.standardwebhooks.com) describe them: a shop's
endpoints (`endpoints`, the only writer of `webhook_endpoints`), the address rules (`urlguard`),
signing (`signing`), what the messages say (`events`, `schemas`), the delivery log (`deliveries`,
the only writer of `webhook_deliveries`) and the worker's jobs (`delivery`, `failing`)."""
