-- A shop's reply that came with an imported review (Judge.me, Yotpo, Trustpilot exports) is the
-- review's public reply, stored where every reply is: `review_replies`, written by
-- reviews/collection/replies.py. `source` says where the reply came from: 'import' until the shop
-- edits it in the console, which makes it theirs ('console'). The imported replies kept on the
-- review since 0005 move there with their time (or the review's import time when the export gave
-- none), and those columns go.
ALTER TABLE review_replies ADD COLUMN source text NOT NULL DEFAULT 'console' CHECK (source IN ('console', 'import'));

INSERT INTO review_replies (review_id, merchant_id, body, author, source, created_at, updated_at)
SELECT id, merchant_id, source_reply, 'import', 'import', coalesce(source_reply_at, created_at),
       coalesce(source_reply_at, created_at)
FROM reviews WHERE source_reply IS NOT NULL AND source_reply <> ''
ON CONFLICT (review_id) DO NOTHING;   -- the shop already wrote its own, which was the one shown

ALTER TABLE reviews DROP COLUMN source_reply, DROP COLUMN source_reply_at;
