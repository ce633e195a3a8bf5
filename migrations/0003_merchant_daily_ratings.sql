-- Each merchant's scanned reviews per UTC day and star value: the burst test's history is
-- read from a few hundred small rows, however many reviews the merchant has.
CREATE TABLE merchant_daily_ratings (
    merchant_id  bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    day          date NOT NULL,
    rating       smallint NOT NULL,
    n            int NOT NULL,
    PRIMARY KEY (merchant_id, rating, day)
);

INSERT INTO merchant_daily_ratings (merchant_id, day, rating, n)
SELECT r.merchant_id, (r.submitted_at AT TIME ZONE 'UTC')::date, r.rating, count(*)
FROM reviews r JOIN term_counted t ON t.review_id = r.id
GROUP BY 1, 2, 3;
