-- How deep a history each background was drawn from (embedding/detect.py, thin history): a review's
-- background comes from its nearest older reviews, and while its language has few stored reviews
-- those are not its peers, so the background is too low and its links need more evidence.
-- Scanned reviews per language ('' when unknown), counted once per review with term_stats.
CREATE TABLE language_stats (
    language  text PRIMARY KEY,
    n_docs    bigint NOT NULL
);

INSERT INTO language_stats (language, n_docs)
SELECT coalesce(r.locale, ''), count(*) FROM term_counted c JOIN reviews r ON r.id = c.review_id GROUP BY 1;

-- The language's count when the profile was drawn; NULL (rows before this migration, or drawn by a
-- reindex) counts as deep enough.
ALTER TABLE review_profiles ADD COLUMN history integer;
