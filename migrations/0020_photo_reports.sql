-- A shop may report one photo of a review, as it reports a review (reviews/collection/reports.py):
-- photo_id names it. A moderator's decision on the photo closes its reports; one on the review
-- closes the review's own. Deleting a photo deletes its reports (they were about it alone).
ALTER TABLE review_reports ADD COLUMN photo_id bigint REFERENCES photos(id) ON DELETE CASCADE;
DROP INDEX review_reports_one_open;
CREATE UNIQUE INDEX review_reports_one_open ON review_reports (review_id, coalesce(photo_id, 0), reporter)
    WHERE state = 'open';
CREATE INDEX review_reports_photo ON review_reports (photo_id) WHERE photo_id IS NOT NULL;
