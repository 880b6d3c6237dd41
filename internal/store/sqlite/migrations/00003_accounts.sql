-- +goose Up
-- Accounts that end: a disabled flag, sessions with their last use, and
-- one-time password reset links (hashed like invites).

ALTER TABLE users ADD COLUMN disabled_at TEXT;

ALTER TABLE sessions ADD COLUMN last_used_at TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL, -- '' when made on the command line
    created_at TEXT,
    expires_at TEXT,
    used_at    TEXT
) STRICT;
CREATE INDEX password_resets_user ON password_resets (user_id);

-- +goose Down
DROP TABLE password_resets;
ALTER TABLE sessions DROP COLUMN address;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN last_used_at;
ALTER TABLE users DROP COLUMN disabled_at;
