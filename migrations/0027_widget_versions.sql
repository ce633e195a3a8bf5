-- Each shop's widget version, kept by the database: the widgets' and the public pages' caches
-- (widgets/cache.py) and the public photo route read this one row instead of summing the row
-- versions of all the shop's reviews, replies and topic sets on every check, which grew with the shop.
--
-- Written by the triggers below only. A bump stores the id of the transaction that made it, so two
-- transactions never leave the same value, and one transaction changing many rows of a shop (an
-- import) writes the row once. The triggers are deferred to the commit: the row is locked from the
-- bump to the commit only, not through a whole import, and two transactions touching the same shop's
-- reviews in different orders cannot deadlock on it.
CREATE TABLE widget_versions (
    merchant_id bigint PRIMARY KEY REFERENCES merchants(id) ON DELETE CASCADE,
    shown       bigint NOT NULL,  -- what widgets show: published reviews, their photos, replies, topics
    counted     bigint NOT NULL   -- and what the public pages count as well: reviews in every state
);

CREATE FUNCTION widget_versions_bump(shop bigint, widgets boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    xact bigint := pg_current_xact_id()::text::bigint;
BEGIN
    -- A shop deleted in this transaction (its reviews deleted by the cascade) keeps no row.
    INSERT INTO widget_versions AS v (merchant_id, shown, counted)
    SELECT shop, xact, xact WHERE EXISTS (SELECT 1 FROM merchants WHERE id = shop)
    ON CONFLICT (merchant_id) DO UPDATE
        SET shown = CASE WHEN widgets THEN xact ELSE v.shown END, counted = xact
        WHERE v.counted <> xact OR (widgets AND v.shown <> xact);
END $$;

-- A review changes what widgets show when it is, or was, published; the pages' figures count all.
CREATE FUNCTION widget_versions_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM widget_versions_bump(NEW.merchant_id, NEW.state = 'published');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM widget_versions_bump(OLD.merchant_id, OLD.state = 'published');
    ELSE
        PERFORM widget_versions_bump(NEW.merchant_id, OLD.state = 'published' OR NEW.state = 'published');
    END IF;
    RETURN NULL;
END $$;

-- Replies and topic sets: every change may show.
CREATE FUNCTION widget_versions_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM widget_versions_bump(NEW.merchant_id, true);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM widget_versions_bump(OLD.merchant_id, true);
    END IF;
    RETURN NULL;
END $$;

-- A photo in a review: its approval or rejection shows without the review's row changing.
CREATE FUNCTION widget_versions_photo() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' AND NEW.review_id IS NOT NULL THEN
        PERFORM widget_versions_bump(NEW.merchant_id, true);
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.review_id IS NOT NULL THEN
        PERFORM widget_versions_bump(OLD.merchant_id, true);
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER widget_versions AFTER INSERT OR UPDATE OR DELETE ON reviews
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION widget_versions_review();
CREATE CONSTRAINT TRIGGER widget_versions AFTER INSERT OR UPDATE OR DELETE ON review_replies
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION widget_versions_row();
CREATE CONSTRAINT TRIGGER widget_versions AFTER INSERT OR UPDATE OR DELETE ON topic_sets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION widget_versions_row();
CREATE CONSTRAINT TRIGGER widget_versions AFTER INSERT OR UPDATE OR DELETE ON photos
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION widget_versions_photo();
