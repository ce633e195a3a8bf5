-- What real shops send (issue 15).

-- An order's lines as the platform sends them: three colours of one product are three lines.
-- order_items stays one row per product (what the review page, the email and the widgets group
-- by); a refund is judged against these lines and their quantities, so taking back the red one
-- of three colours leaves the other two to review.
CREATE TABLE order_lines (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_id     text NOT NULL,                 -- the platform's line item id
    product_id  text NOT NULL,                 -- as in order_items
    variant_id  text,
    name        text NOT NULL,                 -- the product's name, entities decoded
    detail      text,                          -- the variant: "black", "Color: Black, Size: M"
    quantity    int NOT NULL CHECK (quantity >= 0),
    UNIQUE (order_id, line_id)
);

-- Each refund's lines, once per (refund, line): a refund delivered twice counts once, and the
-- refunds of one order add up.
CREATE TABLE order_refunds (
    order_id    bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    refund_id   text NOT NULL,
    line_id     text NOT NULL,
    quantity    int NOT NULL CHECK (quantity >= 0),
    refunded_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, refund_id, line_id)
);

-- The platform's customer account, so a data request naming the account (its id, or an account
-- address other than the order's) finds the buyer's orders.
ALTER TABLE orders ADD COLUMN customer_id text;
CREATE INDEX orders_customer ON orders (merchant_id, customer_id) WHERE customer_id IS NOT NULL;

-- A buyer's data export, kept for the merchant to download and hand over (GDPR Art. 12: within a
-- month). The audit log records that the request came, not the data.
CREATE TABLE data_exports (
    id            bigserial PRIMARY KEY,
    merchant_id   bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    source        text NOT NULL,               -- who asked: 'shopify:customers/data_request', 'cli', 'api'
    request_id    text,                        -- the platform's id of the request
    buyer_hash    text,                        -- keyed hash of the address asked about
    customer_id   text,
    order_ids     text[] NOT NULL DEFAULT '{}',
    export        jsonb,                       -- NULL once the buyer was erased
    requested_at  timestamptz NOT NULL,
    delivered_at  timestamptz,                 -- first downloaded by the merchant
    delivered_by  text,
    erased_at     timestamptz
);
CREATE INDEX data_exports_merchant ON data_exports (merchant_id, requested_at DESC);

-- Imported reviews keep what the source said about them.
ALTER TABLE reviews
    ADD COLUMN source_state text,              -- the export's moderation state when not "approved": holds it
    ADD COLUMN source_reply text,              -- the merchant's public reply in the export, not shown yet
    ADD COLUMN source_reply_at timestamptz,
    ADD COLUMN media_urls text[] NOT NULL DEFAULT '{}';  -- photos in the export, not shown yet
