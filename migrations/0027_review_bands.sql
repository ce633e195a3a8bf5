-- The lexical candidate path read a bounded number of reviews per band (embedding/shingles.py).
-- With one array of bands per review behind a GIN index, a check counted the shared bands of every
-- review in the posting lists of its 24 bands: at a million reviews a common band's list holds
-- thousands, and that was the check's tail (p99 over 100 ms, bench/search.py). One row per band,
-- ordered by time within the band, lets a check read the newest reviews of each band and stop.
CREATE TABLE review_bands (
    band          bigint NOT NULL,
    submitted_at  timestamptz NOT NULL,
    review_id     bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE
);
INSERT INTO review_bands (band, submitted_at, review_id)
SELECT DISTINCT b, s.submitted_at, s.review_id FROM review_shingles s, unnest(s.bands) AS b;
ALTER TABLE review_bands ADD PRIMARY KEY (band, submitted_at, review_id);
-- A review's own bands: replaced when its text changes, gone with its erasure.
CREATE INDEX review_bands_review ON review_bands (review_id);
DROP TABLE review_shingles;
