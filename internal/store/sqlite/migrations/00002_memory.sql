-- +goose Up
-- Long-term memory (internal/memory/sqlitemem). Times follow 00001: fixed-width UTC
-- text, NULL for the zero time.
--
-- memory_docs is the one registry of everything recall can find (raw messages,
-- memory items, journal entries). Its seq is the rowid shared with the full-text
-- index (memory_fts) and the vector table (memory_vectors); AUTOINCREMENT so a
-- seq is never reused and a stale in-memory vector entry can never point at a
-- different document. The text lives only here: memory_fts is an external-content
-- index over this table, kept in step by the triggers below.

CREATE TABLE memory_docs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    doc_kind   TEXT NOT NULL, -- message, item, journal
    doc_id     TEXT NOT NULL,
    text       TEXT NOT NULL,
    time       TEXT,          -- message time, item valid_from, journal day at 12:00 UTC
    event_time TEXT,          -- items: when the event happens; NULL otherwise
    current    INTEGER NOT NULL, -- 0: a superseded or invalidated item
    UNIQUE (doc_kind, doc_id)
) STRICT;
-- By user, newest first: bounds full-text ranking to a user's newest
-- documents when a query has only very common words (fulltext.go).
CREATE INDEX memory_docs_user_seq ON memory_docs (user_id, seq);

CREATE VIRTUAL TABLE memory_fts USING fts5 (
    text,
    user_id UNINDEXED,
    doc_kind UNINDEXED,
    doc_id UNINDEXED,
    content = 'memory_docs',
    content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER memory_docs_ai AFTER INSERT ON memory_docs BEGIN
    INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id)
    VALUES (new.seq, new.text, new.user_id, new.doc_kind, new.doc_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memory_docs_ad AFTER DELETE ON memory_docs BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text, user_id, doc_kind, doc_id)
    VALUES ('delete', old.seq, old.text, old.user_id, old.doc_kind, old.doc_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memory_docs_au AFTER UPDATE OF text, user_id, doc_kind, doc_id ON memory_docs BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text, user_id, doc_kind, doc_id)
    VALUES ('delete', old.seq, old.text, old.user_id, old.doc_kind, old.doc_id);
    INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id)
    VALUES (new.seq, new.text, new.user_id, new.doc_kind, new.doc_id);
END;
-- +goose StatementEnd

-- One embedding per document. vec is int8-quantised: a float32 scale
-- (little-endian) then one int8 per dimension; code is the sign bit of each
-- dimension, which is all the in-memory index keeps.
CREATE TABLE memory_vectors (
    seq     INTEGER PRIMARY KEY REFERENCES memory_docs (seq) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    code    BLOB NOT NULL,
    vec     BLOB NOT NULL
) STRICT;
CREATE INDEX memory_vectors_user ON memory_vectors (user_id, seq);

-- The recall index's copy of a message; its text is memory_docs.text.
CREATE TABLE memory_messages (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL UNIQUE REFERENCES memory_docs (seq) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    speaker         TEXT NOT NULL,
    role            TEXT NOT NULL,
    time            TEXT
) STRICT;

-- A message deleted from the conversation log (alone or with its conversation)
-- leaves recall too. Items derived from it stay, with the source ID as history.
-- +goose StatementBegin
CREATE TRIGGER memory_messages_gone AFTER DELETE ON messages BEGIN
    DELETE FROM memory_docs WHERE doc_kind = 'message' AND doc_id = old.id;
END;
-- +goose StatementEnd

-- Items: text is memory_docs.text. superseded_by is '' while none; it is not a
-- foreign key because forgetting the successor must leave the old item alone.
CREATE TABLE memory_items (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL UNIQUE REFERENCES memory_docs (seq) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    confidence    REAL NOT NULL,
    importance    REAL NOT NULL,
    event_time    TEXT,
    valid_from    TEXT,
    valid_to      TEXT,
    superseded_by TEXT NOT NULL,
    created_at    TEXT,
    updated_at    TEXT
) STRICT;
CREATE INDEX memory_items_user_valid ON memory_items (user_id, valid_from);

-- Provenance: the messages an item was derived from, in the order given.
CREATE TABLE memory_item_sources (
    item_id    TEXT NOT NULL REFERENCES memory_items (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    ord        INTEGER NOT NULL,
    PRIMARY KEY (item_id, message_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memory_item_sources_message ON memory_item_sources (message_id);

CREATE TABLE memory_entities (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    aliases    TEXT NOT NULL, -- JSON array of strings
    relation   TEXT NOT NULL,
    notes      TEXT NOT NULL,
    sources    TEXT NOT NULL, -- JSON array of message IDs
    created_at TEXT,
    updated_at TEXT
) STRICT;
CREATE INDEX memory_entities_user ON memory_entities (user_id);

-- Lookup of an entity by its name or any alias, folded to lower case in Go
-- (SQLite's lower() folds ASCII only).
CREATE TABLE memory_entity_names (
    user_id   TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    entity_id TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    is_name   INTEGER NOT NULL, -- 1: the entity's main name, 0: an alias
    PRIMARY KEY (user_id, name_fold, entity_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memory_entity_names_entity ON memory_entity_names (entity_id);

CREATE TABLE memory_item_entities (
    item_id   TEXT NOT NULL REFERENCES memory_items (id) ON DELETE CASCADE,
    entity_id TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (item_id, entity_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memory_item_entities_entity ON memory_item_entities (entity_id);

CREATE TABLE memory_journals (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day        TEXT NOT NULL, -- YYYY-MM-DD in the user's time zone
    seq        INTEGER NOT NULL UNIQUE REFERENCES memory_docs (seq) ON DELETE CASCADE,
    sources    TEXT NOT NULL, -- JSON array of message IDs
    created_at TEXT,
    UNIQUE (user_id, day)
) STRICT;

-- +goose Down
DROP TABLE memory_journals;
DROP TABLE memory_item_entities;
DROP TABLE memory_entity_names;
DROP TABLE memory_entities;
DROP TABLE memory_item_sources;
DROP TABLE memory_items;
DROP TRIGGER memory_messages_gone;
DROP TABLE memory_messages;
DROP TABLE memory_vectors;
DROP TABLE memory_fts;
DROP TABLE memory_docs;
