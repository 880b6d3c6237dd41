-- +goose Up
-- Proactive messages (issue 13): each user's settings for when os1 may
-- speak first (daily budget, meeting lead, check-ins, muted triggers), and
-- the log of what she sent and what she held back, with why. Kept by
-- internal/proactive/sqliteproactive. Both go with their user.
CREATE TABLE proactive_settings (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    daily_count   INTEGER NOT NULL,
    daily_tokens  INTEGER NOT NULL,
    meeting_lead  INTEGER NOT NULL, -- minutes before a meeting
    check_in      INTEGER NOT NULL, -- 1: a check-in after a long silence (opt-in)
    silence_days  INTEGER NOT NULL,
    muted         TEXT NOT NULL,    -- triggers, comma-separated
    updated_at    TEXT
) STRICT;

CREATE TABLE proactive_log (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,  -- the trigger: meeting, mail, followup, birthday, reminder, silence
    dedupe_key      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    outcome         TEXT NOT NULL,  -- sent, held, failed
    hold            TEXT NOT NULL,  -- held: budget, quiet_hours, muted, stale
    note            TEXT NOT NULL,
    counted         INTEGER NOT NULL, -- 1: counts against the daily budget
    tokens          INTEGER NOT NULL,
    conversation_id TEXT NOT NULL,
    at              TEXT NOT NULL
) STRICT;
CREATE INDEX proactive_log_user_at ON proactive_log (user_id, at);
-- One message per reason: a restart, a second scheduler or a re-plan finds
-- the key sent and says nothing again.
CREATE UNIQUE INDEX proactive_log_sent ON proactive_log (user_id, dedupe_key) WHERE outcome = 'sent';

-- +goose Down
DROP TABLE proactive_log;
DROP TABLE proactive_settings;
