-- +goose Up
-- Attachments (issue 10) on PostgreSQL: the SQLite migration 00008 in its
-- present shape. Text files and images sent with a user's message; they
-- belong to their message and go with it, its conversation or its user.
-- Kept by internal/attach/sqliteattach.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL, -- order within the message
    name            TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    data            BYTEA NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id, seq);
CREATE INDEX attachments_conversation ON attachments (conversation_id);
CREATE INDEX attachments_user ON attachments (user_id);

-- +goose Down
DROP TABLE attachments;
