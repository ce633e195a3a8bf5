-- Fixed-window request counters shared by every web process (the review page's rate limit).
-- The key is a keyed hash of what is limited (a review link, an IP), never the value itself.
CREATE TABLE rate_limits (
    key_hash      text NOT NULL,
    window_start  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,        -- window end: rows before now are garbage
    hits          int NOT NULL DEFAULT 1,
    PRIMARY KEY (key_hash, window_start)
);
CREATE INDEX rate_limits_expiry ON rate_limits (expires_at);
