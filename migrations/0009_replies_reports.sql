-- The merchants' console (issue 12): the shop's public replies, and its reports of reviews to the
-- moderators. A merchant never edits, hides or deletes a review; a reply answers it in public and
-- a report asks Attest's moderators to look at it, who decide as for any review.

-- One public reply per review, written and edited by the shop's agents; shown under the review in
-- the widgets. merchant_id is the review's, kept here so a widget's version query reads one index.
CREATE TABLE review_replies (
    review_id    bigint PRIMARY KEY REFERENCES reviews(id) ON DELETE CASCADE,
    merchant_id  bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    body         text NOT NULL,
    user_id      bigint REFERENCES users(id) ON DELETE SET NULL,
    author       text NOT NULL,            -- who wrote it last, as the audit log names them
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX review_replies_merchant ON review_replies (merchant_id);

-- A shop's report of a review, with a reason from a fixed list and a note. It never hides the review:
-- it waits in the moderators' Reported tab until a moderator decides the review, which closes it with
-- the outcome ('kept', or 'rejected' with the reject reason's code) that the merchant then sees.
CREATE TABLE review_reports (
    id           bigserial PRIMARY KEY,
    review_id    bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    merchant_id  bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    reason       text NOT NULL CHECK (reason IN ('not_a_buyer', 'offensive', 'personal_data', 'other_shop', 'other')),
    note         text NOT NULL DEFAULT '',
    user_id      bigint REFERENCES users(id) ON DELETE SET NULL,
    reporter     text NOT NULL,
    state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    outcome      text CHECK (outcome IN ('kept', 'rejected')),
    outcome_code text,
    created_at   timestamptz NOT NULL,
    closed_at    timestamptz
);
CREATE INDEX review_reports_review ON review_reports (review_id, created_at);
CREATE INDEX review_reports_open ON review_reports (created_at) WHERE state = 'open';
-- One open report per review and person: sending the form again (a double click, a second thought)
-- replaces their reason and note.
CREATE UNIQUE INDEX review_reports_one_open ON review_reports (review_id, reporter) WHERE state = 'open';
