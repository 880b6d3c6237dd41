-- +goose Up
-- Memory's background progress leaves the server-wide settings rows for
-- tables of its own, scoped to the user (issue 9): how far the worker got in
-- each conversation, how far each user's journal goes, and the records whose
-- processing panicked (internal/memory/sqlitemem/progress.go). Deleting a
-- conversation or a user deletes its progress with it.

CREATE TABLE memory_watermarks (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    indexed         TEXT NOT NULL DEFAULT '',
    extracted       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX memory_watermarks_user ON memory_watermarks (user_id);

CREATE TABLE memory_progress (
    user_id   TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    journaled TEXT NOT NULL DEFAULT '' -- RFC 3339 time of the newest message in a journal entry
) STRICT;

CREATE TABLE memory_failures (
    kind        TEXT NOT NULL,           -- conversation or journal
    id          TEXT NOT NULL,           -- the conversation's ID, or the user's for the journal
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    count       INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL DEFAULT '',
    quarantined INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX memory_failures_user ON memory_failures (user_id);

-- The rows the settings held ("memory.watermark.<conversation>",
-- "memory.journaled.<user>", "memory.failures"); those of conversations or
-- users deleted since, or not JSON, are dropped.
INSERT INTO memory_watermarks (conversation_id, user_id, indexed, extracted)
    SELECT c.id, c.user_id, coalesce(json_extract(s.value, '$.indexed'), ''), coalesce(json_extract(s.value, '$.extracted'), '')
    FROM settings s JOIN conversations c ON c.id = substr(s.key, length('memory.watermark.') + 1)
    WHERE substr(s.key, 1, length('memory.watermark.')) = 'memory.watermark.' AND json_valid(s.value);

INSERT INTO memory_progress (user_id, journaled)
    SELECT u.id, s.value
    FROM settings s JOIN users u ON u.id = substr(s.key, length('memory.journaled.') + 1)
    WHERE substr(s.key, 1, length('memory.journaled.')) = 'memory.journaled.';

INSERT OR REPLACE INTO memory_failures (kind, id, user_id, count, error, at, quarantined)
    SELECT json_extract(f.value, '$.kind'), json_extract(f.value, '$.id'), u.id,
           coalesce(json_extract(f.value, '$.count'), 0), coalesce(json_extract(f.value, '$.error'), ''),
           coalesce(json_extract(f.value, '$.at'), ''), coalesce(json_extract(f.value, '$.quarantined'), 0)
    FROM settings s, json_each(s.value) f JOIN users u ON u.id = json_extract(f.value, '$.user_id')
    WHERE s.key = 'memory.failures' AND json_valid(s.value) AND json_type(s.value) = 'array'
      AND json_extract(f.value, '$.kind') IS NOT NULL AND json_extract(f.value, '$.id') IS NOT NULL;

DELETE FROM settings
    WHERE substr(key, 1, length('memory.watermark.')) = 'memory.watermark.'
       OR substr(key, 1, length('memory.journaled.')) = 'memory.journaled.'
       OR key = 'memory.failures';

-- +goose Down
DROP TABLE memory_failures;
DROP TABLE memory_progress;
DROP TABLE memory_watermarks;
