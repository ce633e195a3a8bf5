-- Whose data an export holds, as the merchant's list shows it: the buyer's address masked
-- (a***@example.com), enough to match it to the buyer's request, and kept after an erasure as the
-- record that the request was answered.
ALTER TABLE data_exports ADD COLUMN buyer_hint text;
UPDATE data_exports SET buyer_hint = left(export->>'email', 1) || '***@' || split_part(export->>'email', '@', 2)
WHERE export->>'email' LIKE '%_@_%';
