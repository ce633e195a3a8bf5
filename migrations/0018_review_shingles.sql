-- A lexical candidate path beside the vector top-k (embedding/shingles.py): each informative
-- review's MinHash bands over its character 4-grams, so an edited copy of a template posted months
-- later, in any shop, is found among the reviews sharing a band however many closer reviews of the
-- same product fill the vector neighbourhood. Derived from the text, like the vectors.
CREATE TABLE review_shingles (
    review_id     bigint PRIMARY KEY REFERENCES reviews(id) ON DELETE CASCADE,
    submitted_at  timestamptz NOT NULL,
    bands         bigint[] NOT NULL
);
CREATE INDEX review_shingles_bands ON review_shingles USING gin (bands);
