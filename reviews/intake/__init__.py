"""Orders coming in: the orders API, order events, Shopify and WooCommerce webhooks with their
shared checks, and the OpenAPI document."""
