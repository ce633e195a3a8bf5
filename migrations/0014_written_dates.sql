-- The storefront (issue 22): every public surface lists and dates a review by when its author wrote
-- it (`submitted_at`: an imported review's source date), not when it was published (an import's
-- day). These serve "newest first" for a shop and for one product, and the feeds' walk in that order.
CREATE INDEX reviews_published_written ON reviews (merchant_id, submitted_at DESC, id DESC)
    WHERE state = 'published';
CREATE INDEX reviews_published_product_written ON reviews (merchant_id, product_id, submitted_at DESC, id DESC)
    WHERE state = 'published';
