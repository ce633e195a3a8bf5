-- A moderator's scope, apart from the shop roles (issue 27): the shops a moderator decides for are
-- listed here, and an all-shops moderator says so explicitly (users.moderates_all). Before, a
-- moderator's scope was a membership row with role 'moderator', so giving the same person a shop role
-- on that shop overwrote it, and a moderator with no such row moderated every shop: no scope now
-- means no shop.
CREATE TABLE moderator_scopes (
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    merchant_id  bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, merchant_id)
);
ALTER TABLE users ADD COLUMN moderates_all boolean NOT NULL DEFAULT false;

INSERT INTO moderator_scopes (user_id, merchant_id, created_at)
    SELECT user_id, merchant_id, created_at FROM memberships WHERE role = 'moderator';
DELETE FROM memberships WHERE role = 'moderator';
-- The moderators who had no scope row moderated every shop: keep that, now as an explicit choice.
UPDATE users SET moderates_all = true
    WHERE role = 'moderator' AND NOT EXISTS (SELECT 1 FROM moderator_scopes s WHERE s.user_id = users.id);

ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'agent', 'viewer'));
