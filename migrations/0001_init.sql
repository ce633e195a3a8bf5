-- Attest schema, first cut. Times are timestamptz (UTC). Application code passes
-- "now" from its clock so tests can move time; column defaults are only a backstop.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE merchants (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62})$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    locale      text NOT NULL DEFAULT 'en',
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          bigserial PRIMARY KEY,
    merchant_id bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    key_hash    text NOT NULL UNIQUE,          -- sha256 of the whole key
    prefix      text NOT NULL,                 -- first characters, for display
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

CREATE TABLE orders (
    id              bigserial PRIMARY KEY,
    merchant_id     bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    external_id     text NOT NULL,
    status          text NOT NULL CHECK (status IN ('placed','fulfilled','delivered','cancelled','refunded')),
    buyer_email     text,                      -- null once purged
    buyer_hash      text,                      -- keyed hash of the normalised address, kept after purge
    buyer_name      text,
    locale          text,
    consent         boolean,                   -- null: the event did not say
    placed_at       timestamptz,
    fulfilled_at    timestamptz,
    delivered_at    timestamptz,
    cancelled_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, external_id)
);
CREATE INDEX orders_buyer ON orders (merchant_id, buyer_hash);

-- Every accepted event, once: the status history and the idempotency record.
CREATE TABLE order_events (
    id           bigserial PRIMARY KEY,
    merchant_id  bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    order_id     bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    status       text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    source       text NOT NULL DEFAULT 'api',
    response     jsonb NOT NULL,               -- the answer given, replayed on repeats
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, status)
);

CREATE TABLE order_items (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position    int NOT NULL,
    product_id  text NOT NULL,
    name        text NOT NULL,
    url         text,
    image_url   text,
    gtin        text,
    UNIQUE (order_id, product_id)
);

CREATE TABLE invitations (
    id              bigserial PRIMARY KEY,
    merchant_id     bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    order_id        bigint NOT NULL UNIQUE REFERENCES orders(id) ON DELETE CASCADE,
    state           text NOT NULL CHECK (state IN ('scheduled','sent','skipped','cancelled','failed')),
    reason          text,
    send_at         timestamptz,
    sent_at         timestamptz,
    message_id      text,
    last_error      text,
    reminder_state  text CHECK (reminder_state IN ('scheduled','sent','skipped','cancelled','failed')),
    reminder_at     timestamptz,
    reminded_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_merchant_state ON invitations (merchant_id, state);

CREATE TABLE reviews (
    id                bigserial PRIMARY KEY,
    merchant_id       bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    product_id        text,                    -- null: a review of the shop itself
    product_name      text,
    order_id          bigint REFERENCES orders(id) ON DELETE SET NULL,
    invitation_id     bigint REFERENCES invitations(id) ON DELETE SET NULL,
    method            text NOT NULL CHECK (method IN ('invited','imported')),
    rating            smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title             text NOT NULL DEFAULT '',
    body              text NOT NULL DEFAULT '',
    display_name      text NOT NULL DEFAULT '',
    author_hash       text,                    -- keyed hash of the author's address
    locale            text,
    state             text NOT NULL CHECK (state IN ('pending','published','held','rejected','withdrawn')),
    reject_reason     text,
    external_id       text,                    -- imports
    external_order_id text,                    -- imports: the order the review claims, unverified
    ip_hash           text,
    user_agent_family text,
    submitted_at      timestamptz NOT NULL,
    published_at      timestamptz,
    edited_at         timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX reviews_external ON reviews (merchant_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX reviews_per_invitation ON reviews (invitation_id, coalesce(product_id, '')) WHERE invitation_id IS NOT NULL;
CREATE INDEX reviews_published ON reviews (merchant_id, product_id, published_at DESC) WHERE state = 'published';
CREATE INDEX reviews_author ON reviews (author_hash);
CREATE INDEX reviews_submitted ON reviews (submitted_at);
CREATE INDEX reviews_merchant_time ON reviews (merchant_id, submitted_at);

CREATE TABLE review_versions (
    id            bigserial PRIMARY KEY,
    review_id     bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    rating        smallint NOT NULL,
    title         text NOT NULL,
    body          text NOT NULL,
    display_name  text NOT NULL,
    saved_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_versions_review ON review_versions (review_id);

-- The column has no fixed dimension so any model fits; the embedding package creates
-- one partial HNSW index per model on an expression cast to that model's dimension.
-- submitted_at is copied from the review so the index scan can keep to earlier reviews;
-- bg_mean/bg_sd are the review's background similarity (see embedding/detect.py).
CREATE TABLE review_embeddings (
    review_id     bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    model         text NOT NULL,
    dim           int NOT NULL,
    text_hash     text NOT NULL,               -- which text was embedded (edits re-embed)
    embedding     vector NOT NULL,
    submitted_at  timestamptz NOT NULL,
    bg_mean       real,
    bg_sd         real,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, model)
);
CREATE INDEX review_embeddings_time ON review_embeddings (model, submitted_at);

-- Which model's vectors the detector uses. A reindex builds a new model's vectors beside
-- the active ones and switches only when they are complete.
CREATE TABLE embedding_models (
    name          text PRIMARY KEY,
    dim           int NOT NULL,
    state         text NOT NULL CHECK (state IN ('building','active','retired')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz
);
CREATE UNIQUE INDEX embedding_models_one_active ON embedding_models ((true)) WHERE state = 'active';

-- Document frequencies of normalised words over every scanned review: how informative a
-- text is depends on how common its words are, in any language.
CREATE TABLE term_stats (
    term  text PRIMARY KEY,
    df    bigint NOT NULL
);
CREATE TABLE corpus_stats (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    n_docs  bigint NOT NULL DEFAULT 0
);
INSERT INTO corpus_stats (id, n_docs) VALUES (true, 0);
-- Reviews already counted in term_stats, so a rescan or an edit never counts twice.
CREATE TABLE term_counted (
    review_id  bigint PRIMARY KEY REFERENCES reviews(id) ON DELETE CASCADE
);

CREATE TABLE flags (
    id          bigserial PRIMARY KEY,
    review_id   bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    kind        text NOT NULL,
    score       double precision NOT NULL DEFAULT 0,
    evidence    jsonb NOT NULL DEFAULT '{}'::jsonb,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open','upheld','dismissed')),
    decided_by  text,
    decided_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (review_id, kind)
);
CREATE INDEX flags_open ON flags (state) WHERE state = 'open';

CREATE TABLE suppressions (
    id            bigserial PRIMARY KEY,
    merchant_id   bigint REFERENCES merchants(id) ON DELETE CASCADE,   -- null: every merchant
    address_hash  text NOT NULL,
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX suppressions_unique ON suppressions (coalesce(merchant_id, 0), address_hash);

CREATE TABLE jobs (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','done','dead')),
    run_at        timestamptz NOT NULL,
    attempts      int NOT NULL DEFAULT 0,
    max_attempts  int NOT NULL DEFAULT 8,
    last_error    text,
    locked_by     text,
    locked_pid    int,                         -- backend pid of the claiming worker: dead pid, free job
    locked_at     timestamptz,
    dedupe_key    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (locked_at) WHERE state = 'running';
CREATE UNIQUE INDEX jobs_dedupe ON jobs (kind, dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued','running');

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    actor       text NOT NULL,
    action      text NOT NULL,
    table_name  text NOT NULL,
    row_id      bigint,
    before      jsonb,
    after       jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_receipts (
    merchant_id  bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    platform     text NOT NULL,
    delivery_id  text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (merchant_id, platform, delivery_id)
);
