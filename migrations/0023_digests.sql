-- The weekly digest of what buyers mention (reviews/insights/digests.py writes it): the owners who
-- asked for it, per shop, and which week's digest each last had.
--
-- claimed_week: the week whose digest began to be sent; sent_week: the last week whose digest the
-- mail server took. A week claimed but not sent, found by a later run, is a run that stopped while
-- sending (maybe after the server took it): it is not sent again, so no week is ever sent twice.
CREATE TABLE digest_subscriptions (
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    merchant_id bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    claimed_week date,
    sent_week date,
    PRIMARY KEY (user_id, merchant_id)
);
