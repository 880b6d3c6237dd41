-- +goose Up
-- Attachments (issue 10): text files and images sent with a user's message.
-- They belong to their message and go with it, its conversation or its user.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL, -- order within the message
    name            TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    data            BLOB NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id, seq);
CREATE INDEX attachments_conversation ON attachments (conversation_id);

-- +goose Down
DROP TABLE attachments;
