-- Outgoing webhooks (issue 12): a shop's endpoints, which receive its review events signed as
-- Standard Webhooks ask (webhook-id, webhook-timestamp, webhook-signature), and the log of each
-- event sent to each endpoint. Written by reviews/merchants/hooks.py only.

-- `secret` is the signing secret in the spec's `whsec_<base64>` form. It signs every message, so it
-- is kept as it is, not hashed (it is shown to the owner only when made). After a rotation the
-- previous secret signs too until `previous_until` (24 hours), so a receiver can switch over.
CREATE TABLE webhook_endpoints (
    id                   bigserial PRIMARY KEY,
    merchant_id          bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    url                  text NOT NULL,
    events               text[] NOT NULL,
    secret               text NOT NULL,
    previous_secret      text,
    previous_until       timestamptz,
    -- failing: an event ran out of retries; the owners were told once (`failure_notified_at`).
    -- A later successful delivery makes it active again.
    state                text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'failing')),
    failing_since        timestamptz,
    failure_notified_at  timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id);

-- One event for one endpoint. `body` is the exact JSON that is signed and sent, on every attempt
-- (NULL once the review's buyer was erased: nothing of it is sent or kept any more).
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    endpoint_id      bigint NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    merchant_id      bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    review_id        bigint REFERENCES reviews(id) ON DELETE CASCADE,
    event_type       text NOT NULL,
    msg_id           text NOT NULL,       -- the webhook-id header: the same on every attempt
    body             text,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'erased')),
    attempts         integer NOT NULL DEFAULT 0,
    last_attempt_at  timestamptz,
    last_status      integer,             -- the endpoint's HTTP status; NULL when it did not answer
    last_ms          integer,             -- how long the last attempt took
    last_error       text,
    next_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_review ON webhook_deliveries (review_id) WHERE review_id IS NOT NULL;
