-- +goose Up
-- Times are UTC text with nine fractional digits (see dbTime in sqlite.go), so text
-- order is time order. A zero time.Time is stored as NULL.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT
) STRICT;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT,
    expires_at TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT,
    last_used_at TEXT
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT,
    expires_at TEXT,
    used_at    TEXT
) STRICT;

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    created_at TEXT,
    updated_at TEXT
) STRICT;
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at);

-- seq gives messages a stable order even when their timestamps are equal.
CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    tool_calls      TEXT NOT NULL, -- JSON array, '' when none
    tool_call_id    TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT NOT NULL,
    created_at      TEXT,
    updated_at      TEXT
) STRICT;
CREATE INDEX messages_conversation_seq ON messages (conversation_id, seq);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

CREATE TABLE personas (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    voice      TEXT NOT NULL,
    style      TEXT NOT NULL,
    named_at   TEXT,
    updated_at TEXT
) STRICT;

CREATE TABLE profiles (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    answers      TEXT NOT NULL, -- JSON object of question key to answer
    timezone     TEXT NOT NULL,
    onboarded_at TEXT,
    updated_at   TEXT
) STRICT;

CREATE TABLE actions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    tool_call_id    TEXT NOT NULL,
    tool            TEXT NOT NULL,
    arguments       TEXT NOT NULL,
    status          TEXT NOT NULL,
    result          TEXT NOT NULL,
    created_at      TEXT,
    decided_at      TEXT
) STRICT;
CREATE INDEX actions_conversation_status ON actions (conversation_id, status);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE settings;
DROP TABLE actions;
DROP TABLE profiles;
DROP TABLE personas;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE invites;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
