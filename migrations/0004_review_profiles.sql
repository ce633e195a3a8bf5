-- A review's background profile (see embedding/detect.py), apart from its vector. Every scan
-- writes it, and an update of a review_embeddings row that does not fit its page adds the vector
-- to the HNSW index again: a graph insert on every scan, which cost more than the search, and
-- a dead entry left in the graph each time. A review without a row has no profile yet.
CREATE TABLE review_profiles (
    review_id  bigint NOT NULL,
    model      text NOT NULL,
    bg_mean    real,                           -- both NULL: too few older neighbours to tell
    bg_sd      real,
    PRIMARY KEY (review_id, model),
    FOREIGN KEY (review_id, model) REFERENCES review_embeddings (review_id, model) ON DELETE CASCADE
);

INSERT INTO review_profiles (review_id, model, bg_mean, bg_sd)
SELECT review_id, model, bg_mean, bg_sd FROM review_embeddings WHERE bg_mean IS NOT NULL;

ALTER TABLE review_embeddings DROP COLUMN bg_mean, DROP COLUMN bg_sd;
