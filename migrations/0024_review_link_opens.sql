-- The buyer opening the review link, counted for the shop's funnel: the page's script posts once per
-- tab (a GET counts nothing: mail scanners prefetch links). No open-tracking pixel in the email.
ALTER TABLE invitations ADD COLUMN link_opens int NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN link_opened_at timestamptz;
