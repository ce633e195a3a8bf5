-- The consoles (issue 11): people who sign in, what they may see, and what moderators decided.

-- A person who signs in to /console. `role` is their standing across the install: an operator
-- sees everything, a moderator the moderation queue (of every merchant, or only of the
-- merchants named in memberships with role 'moderator'); everyone else is a member of merchants
-- through memberships. `epoch` is part of every session: raising it ends them all at once.
CREATE TABLE users (
    id               bigserial PRIMARY KEY,
    email            text NOT NULL UNIQUE,
    role             text NOT NULL CHECK (role IN ('operator', 'moderator', 'member')),
    password_hash    text,
    epoch            integer NOT NULL DEFAULT 0,
    link_nonce       integer NOT NULL DEFAULT 0,   -- raised when a sign-in link is used: single use
    shortcuts        boolean NOT NULL DEFAULT true, -- single-key shortcuts (WCAG 2.1.4: can be off)
    locale           text,
    disabled_at      timestamptz,
    last_sign_in_at  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE memberships (
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    merchant_id  bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('moderator', 'owner', 'agent', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, merchant_id)
);

-- A moderator who opens a review claims it for a few minutes, so two do not decide it at once.
CREATE TABLE review_claims (
    review_id   bigint PRIMARY KEY REFERENCES reviews(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    until       timestamptz NOT NULL
);

-- Every moderation decision, with its reason code: the history tab, the author's email and the
-- rule that an appeal goes to another moderator read it.
CREATE TABLE moderation_decisions (
    id          bigserial PRIMARY KEY,
    review_id   bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    user_id     bigint REFERENCES users(id) ON DELETE SET NULL,
    moderator   text NOT NULL,            -- the name in the audit log (CLI decisions have no user)
    decision    text NOT NULL CHECK (decision IN ('publish', 'reject')),
    code        text,
    note        text,
    on_appeal   boolean NOT NULL DEFAULT false,
    decided_at  timestamptz NOT NULL
);
CREATE INDEX moderation_decisions_review ON moderation_decisions (review_id, decided_at);
CREATE INDEX moderation_decisions_time ON moderation_decisions (decided_at DESC);

-- A rejected author may appeal once, from their review link.
CREATE TABLE appeals (
    id          bigserial PRIMARY KEY,
    review_id   bigint NOT NULL UNIQUE REFERENCES reviews(id) ON DELETE CASCADE,
    body        text NOT NULL,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'decided')),
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz
);
CREATE INDEX appeals_open ON appeals (created_at) WHERE state = 'open';

-- A signed-in browser. The cookie holds a random token; only its hash is stored. A session ends
-- when signed out, when idle too long, or when the user's epoch moves past the one it began with.
CREATE TABLE console_sessions (
    token_hash    text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    epoch         integer NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    ended_at      timestamptz
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
