-- Where an imported review came from (issue 22): the platform whose export the importer read
-- (reviews/collection/importing.py), so every public surface says "Imported from Judge.me" beside
-- the source's own date. NULL for a review collected here and for Attest's own import format, which
-- names no platform (shown as "another review platform"). Written once, at the import.
ALTER TABLE reviews ADD COLUMN import_source text
    CHECK (import_source IN ('judgeme', 'yotpo', 'trustpilot'));
