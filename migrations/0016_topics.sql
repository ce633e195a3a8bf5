-- What buyers mention (reviews/insights), all written by reviews/insights/store.py.
--
-- clause_vectors: each published review's clauses (spans of its title or body) and their vectors
-- in the multilingual model, kept while the text is the same (text_hash), so a recomputation
-- embeds only new and edited reviews. Vectors derive from the text: they go with the review.
CREATE TABLE clause_vectors (
    review_id bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    model text NOT NULL,
    text_hash text NOT NULL,
    -- (field, start, end) for each clause, field 0 = title and 1 = body, offsets in characters.
    spans integer[] NOT NULL,
    -- float16, one row of `dim` values per clause, in the order of `spans`.
    vectors bytea NOT NULL,
    dim integer NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (review_id, model)
);

-- One row per product (product_id NULL: the shop's own reviews) whose topics were computed; its
-- row version is part of the widgets' cache version, so new topics show at once.
CREATE TABLE topic_sets (
    id bigserial PRIMARY KEY,
    merchant_id bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    product_id text,
    model text NOT NULL,
    reviews integer NOT NULL,
    computed_at timestamptz NOT NULL,
    UNIQUE NULLS NOT DISTINCT (merchant_id, product_id)
);

-- A topic: its place (0 = most mentioned) and its counts, each a number of distinct published reviews.
CREATE TABLE topics (
    id bigserial PRIMARY KEY,
    set_id bigint NOT NULL REFERENCES topic_sets(id) ON DELETE CASCADE,
    position integer NOT NULL,
    review_count integer NOT NULL,
    stars_high integer NOT NULL,
    stars_mid integer NOT NULL,
    stars_low integer NOT NULL,
    languages jsonb NOT NULL,
    main_language text NOT NULL,
    UNIQUE (set_id, position)
);

-- Each clause assigned to a topic (what a chip highlights), no copy of its text: readers take
-- the span from the review itself and show it only while its md5 still matches and the review
-- is published. Per language one clause is the label and a few are quote candidates.
CREATE TABLE topic_mentions (
    topic_id bigint NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    review_id bigint NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    field text NOT NULL CHECK (field IN ('title', 'body')),
    start_at integer NOT NULL,
    end_at integer NOT NULL,
    clause_md5 text NOT NULL,
    language text NOT NULL,
    centrality real NOT NULL,
    is_label boolean NOT NULL,
    quote_rank smallint,
    PRIMARY KEY (topic_id, review_id, field, start_at)
);
CREATE INDEX topic_mentions_review ON topic_mentions (review_id);
CREATE INDEX topic_mentions_phrases ON topic_mentions (topic_id) WHERE is_label OR quote_rank IS NOT NULL;
