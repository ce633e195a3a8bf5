-- The shape of an imported author's address (its kind of domain and whether the part before the @
-- looks generated), never the address itself: evidence a moderator reads when several new authors
-- of one campaign share it. Written by reviews.collection.store; emptied by a buyer's erasure.
ALTER TABLE reviews ADD COLUMN author_contact text;
