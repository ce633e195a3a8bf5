-- A moderator's decision may be undone for a grace period (ATTEST_UNDO_SECONDS): until then the
-- author's email and the outgoing webhooks wait on the decision's release job. What the review was
-- before is kept so an undo puts it back; released_at says the grace is over and nothing can be undone.
-- An undone decision is deleted (the audit log keeps it), so every reader of the history sees only
-- the decisions that stand.
ALTER TABLE moderation_decisions
    ADD COLUMN before_state        text,
    ADD COLUMN before_reason       text,
    ADD COLUMN before_published_at timestamptz,
    ADD COLUMN released_at         timestamptz;
UPDATE moderation_decisions SET released_at = decided_at;
