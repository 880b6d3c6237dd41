-- +goose Up
-- The core store (store.Store) on PostgreSQL: the tables of the SQLite
-- migrations 00001, 00003, 00005 and 00007 in their present shape. Other
-- stores (memory, mail, calendar…) get their own migrations here later.
--
-- Times are UTC text with nine fractional digits (package sqltime), as on
-- SQLite: text order is time order, a time round-trips to the nanosecond
-- (timestamptz keeps microseconds), and a zero time.Time is NULL. seq
-- columns give rows a stable order where SQLite uses its rowid.

CREATE TABLE users (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT,
    disabled_at   TEXT
);

CREATE TABLE sessions (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT,
    expires_at   TEXT,
    last_used_at TEXT,
    user_agent   TEXT NOT NULL DEFAULT '',
    address      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT,
    expires_at TEXT,
    used_at    TEXT
);
CREATE INDEX invites_created_by ON invites (created_by);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL, -- '' when made on the command line
    created_at TEXT,
    expires_at TEXT,
    used_at    TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

CREATE TABLE conversations (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    created_at   TEXT,
    updated_at   TEXT,
    head_id      TEXT NOT NULL DEFAULT '',
    pinned_at    TEXT,
    archived_at  TEXT,
    model        TEXT NOT NULL DEFAULT '',
    title_source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at);

CREATE TABLE messages (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    updated_at      TEXT,
    reason          TEXT NOT NULL DEFAULT '',
    parent_id       TEXT NOT NULL DEFAULT '',
    reasoning       TEXT NOT NULL DEFAULT '',
    thought_ms      BIGINT NOT NULL DEFAULT 0,
    finish          TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_conversation_seq ON messages (conversation_id, seq);
CREATE INDEX messages_parent ON messages (conversation_id, parent_id);
CREATE INDEX messages_user ON messages (user_id);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

CREATE TABLE personas (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    voice      TEXT NOT NULL,
    style      TEXT NOT NULL,
    named_at   TEXT,
    updated_at TEXT
);

CREATE TABLE profiles (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    answers      TEXT NOT NULL, -- JSON object of question key to answer
    timezone     TEXT NOT NULL,
    onboarded_at TEXT,
    updated_at   TEXT
);

CREATE TABLE actions (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY,
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
);
CREATE INDEX actions_conversation_status ON actions (conversation_id, status);
CREATE INDEX actions_user ON actions (user_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE actions;
DROP TABLE profiles;
DROP TABLE personas;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE password_resets;
DROP TABLE invites;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
