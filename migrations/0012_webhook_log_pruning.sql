-- The delivery log of outgoing webhooks is pruned: a delivery that is settled (delivered, failed,
-- or erased) and whose last attempt (else its creation) is older than ATTEST_WEBHOOK_LOG_DAYS is
-- deleted by the `webhooks.prune` job (reviews/merchants/hooks.py). Pending ones are never pruned.
CREATE INDEX webhook_deliveries_settled ON webhook_deliveries ((coalesce(last_attempt_at, created_at)))
    WHERE state <> 'pending';
