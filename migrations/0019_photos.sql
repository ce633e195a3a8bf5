-- Review photos (reviews/media). The processed bytes are content-addressed blobs (`photo_blobs`,
-- reviews/media/blobs.py); `photos` are the photos that use them (reviews/media/store.py): a photo
-- staged on the buyer's form (review_id NULL) or in a review, with its moderation state.

CREATE TABLE photo_blobs (
    digest      text PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),   -- sha256 of bytes, hex
    media_type  text NOT NULL,
    bytes       bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- WebP is compressed already: TOAST compression would cost CPU on every write and read for nothing.
ALTER TABLE photo_blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- No ON DELETE CASCADE anywhere: a review, invitation or shop is never deleted with photos still on
-- it, since the blobs a cascade would leave behind would keep their bytes. Their owner deletes them first.
CREATE TABLE photos (
    id              bigserial PRIMARY KEY,
    public_key      text NOT NULL UNIQUE,                       -- the unguessable name in its URL
    merchant_id     bigint NOT NULL REFERENCES merchants(id),
    review_id       bigint REFERENCES reviews(id),              -- NULL: staged on the buyer's form
    invitation_id   bigint REFERENCES invitations(id),          -- uploads: the link it came through
    product_id      text,                                       -- uploads: the item (NULL: the shop)
    source          text NOT NULL CHECK (source IN ('upload', 'import')),
    source_url      text,                                       -- imports: where it was fetched
    position        smallint NOT NULL DEFAULT 0,
    caption         text NOT NULL DEFAULT '',
    image_digest    text NOT NULL REFERENCES photo_blobs(digest),
    width           int NOT NULL,
    height          int NOT NULL,
    thumb_digest    text NOT NULL REFERENCES photo_blobs(digest),
    thumb_width     int NOT NULL,
    thumb_height    int NOT NULL,
    source_format   text NOT NULL,
    uploaded_bytes  int NOT NULL,
    fingerprint     bytea NOT NULL,                             -- reviews/media/fingerprint.py
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    reject_reason   text,
    decided_by      text,
    decided_at      timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK (review_id IS NOT NULL OR invitation_id IS NOT NULL)
);
CREATE INDEX photos_review ON photos (review_id, position, id) WHERE review_id IS NOT NULL;
CREATE INDEX photos_invitation ON photos (invitation_id) WHERE invitation_id IS NOT NULL;
CREATE INDEX photos_waiting ON photos (created_at, id) WHERE state = 'pending' AND review_id IS NOT NULL;
CREATE INDEX photos_image_blob ON photos (image_digest);
CREATE INDEX photos_thumb_blob ON photos (thumb_digest);
CREATE UNIQUE INDEX photos_imported ON photos (review_id, source_url) WHERE source = 'import';

-- What shoppers may see, in one place for the photo route and the widgets: an approved photo of a
-- published review. A withdrawal, a hold or a rejection of the review hides its photos at once.
CREATE VIEW published_photos AS
    SELECT p.id, p.public_key, p.review_id, r.merchant_id, r.product_id, p.position, p.caption,
           p.width, p.height, p.thumb_width, p.thumb_height, p.image_digest, p.thumb_digest,
           r.display_name, r.product_name
    FROM photos p JOIN reviews r ON r.id = p.review_id
    WHERE p.state = 'approved' AND r.state = 'published';
