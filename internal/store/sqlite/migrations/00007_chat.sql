-- +goose Up
-- The chat people expect (issue 10).
--
-- Branches: every message points at the message before it on its path
-- (parent_id, '' for the first), and a conversation's head_id is the last
-- message of the path it shows. Editing a message or regenerating a reply
-- appends a sibling (same parent) and moves the head; the old path stays.
-- Existing conversations become one path in the order they were written.
ALTER TABLE messages ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN head_id TEXT NOT NULL DEFAULT '';
UPDATE messages SET parent_id = COALESCE((
    SELECT p.id FROM messages p
    WHERE p.conversation_id = messages.conversation_id AND p.seq < messages.seq
    ORDER BY p.seq DESC LIMIT 1), '');
UPDATE conversations SET head_id = COALESCE((
    SELECT m.id FROM messages m WHERE m.conversation_id = conversations.id
    ORDER BY m.seq DESC LIMIT 1), '');
CREATE INDEX messages_parent ON messages (conversation_id, parent_id);

-- What the model thought before answering (never spoken, never remembered),
-- how long it thought, why the reply ended ('length': cut off by the token
-- limit), and whether the turn was spoken ('voice') or typed ('' or 'text').
ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN thought_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN finish TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN channel TEXT NOT NULL DEFAULT '';

-- The conversation list: pinned and archived conversations, the model the
-- owner picked for this conversation ('' = the server's), and who wrote
-- the title ('' = the first message, 'model', 'user').
ALTER TABLE conversations ADD COLUMN pinned_at TEXT;
ALTER TABLE conversations ADD COLUMN archived_at TEXT;
ALTER TABLE conversations ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN title_source TEXT NOT NULL DEFAULT '';

-- +goose Down
DROP INDEX messages_parent;
ALTER TABLE conversations DROP COLUMN title_source;
ALTER TABLE conversations DROP COLUMN model;
ALTER TABLE conversations DROP COLUMN archived_at;
ALTER TABLE conversations DROP COLUMN pinned_at;
ALTER TABLE messages DROP COLUMN channel;
ALTER TABLE messages DROP COLUMN finish;
ALTER TABLE messages DROP COLUMN thought_ms;
ALTER TABLE messages DROP COLUMN reasoning;
ALTER TABLE conversations DROP COLUMN head_id;
ALTER TABLE messages DROP COLUMN parent_id;
