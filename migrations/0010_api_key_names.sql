-- The merchants' console (issue 12): an API key has a name the shop chose ("Shopify app",
-- "ERP export") and records when it was last used, so an unused or leaked key can be found and
-- revoked. Last use is written at most once a minute per key, not on every request.
ALTER TABLE api_keys ADD COLUMN name text;
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
