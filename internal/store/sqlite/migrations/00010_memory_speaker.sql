-- +goose Up
-- Who said a message is findable by full text (issue 11): "When did Rosa
-- move?" finds Rosa's turns over the same words said by someone else.
-- memory_docs keeps the speaker's name (messages; '' for items and journals)
-- and memory_fts indexes it as its own column, weighted below the text at
-- query time (internal/memory/sqlitemem/fulltext.go). The index is built
-- again from memory_docs, text cut as 00004 cuts it.

DROP TRIGGER memory_docs_ai;
DROP TRIGGER memory_docs_ad;
DROP TRIGGER memory_docs_au;
DROP TABLE memory_fts;

ALTER TABLE memory_docs ADD COLUMN speaker TEXT NOT NULL DEFAULT '';
UPDATE memory_docs SET speaker = coalesce((SELECT m.speaker FROM memory_messages m WHERE m.seq = memory_docs.seq), '')
    WHERE doc_kind = 'message';

CREATE VIRTUAL TABLE memory_fts USING fts5 (
    text,
    speaker,
    user_id UNINDEXED,
    doc_kind UNINDEXED,
    doc_id UNINDEXED,
    content = 'memory_docs',
    content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO memory_fts (rowid, text, speaker, user_id, doc_kind, doc_id)
    SELECT seq, substr(text, 1, 65536), speaker, user_id, doc_kind, doc_id FROM memory_docs;

-- +goose StatementBegin
CREATE TRIGGER memory_docs_ai AFTER INSERT ON memory_docs BEGIN
    INSERT INTO memory_fts (rowid, text, speaker, user_id, doc_kind, doc_id)
    VALUES (new.seq, substr(new.text, 1, 65536), new.speaker, new.user_id, new.doc_kind, new.doc_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memory_docs_ad AFTER DELETE ON memory_docs BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text, speaker, user_id, doc_kind, doc_id)
    VALUES ('delete', old.seq, substr(old.text, 1, 65536), old.speaker, old.user_id, old.doc_kind, old.doc_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memory_docs_au AFTER UPDATE OF text, speaker, user_id, doc_kind, doc_id ON memory_docs BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text, speaker, user_id, doc_kind, doc_id)
    VALUES ('delete', old.seq, substr(old.text, 1, 65536), old.speaker, old.user_id, old.doc_kind, old.doc_id);
    INSERT INTO memory_fts (rowid, text, speaker, user_id, doc_kind, doc_id)
    VALUES (new.seq, substr(new.text, 1, 65536), new.speaker, new.user_id, new.doc_kind, new.doc_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER memory_docs_ai;
DROP TRIGGER memory_docs_ad;
DROP TRIGGER memory_docs_au;
DROP TABLE memory_fts;
ALTER TABLE memory_docs DROP COLUMN speaker;

CREATE VIRTUAL TABLE memory_fts USING fts5 (
    text,
    user_id UNINDEXED,
    doc_kind UNINDEXED,
    doc_id UNINDEXED,
    content = 'memory_docs',
    content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id)
    SELECT seq, substr(text, 1, 65536), user_id, doc_kind, doc_id FROM memory_docs;

-- +goose StatementBegin
CREATE TRIGGER memory_docs_ai AFTER INSERT ON memory_docs BEGIN
    INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id)
    VALUES (new.seq, substr(new.text, 1, 65536), new.user_id, new.doc_kind, new.doc_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memory_docs_ad AFTER DELETE ON memory_docs BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text, user_id, doc_kind, doc_id)
    VALUES ('delete', old.seq, substr(old.text, 1, 65536), old.user_id, old.doc_kind, old.doc_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memory_docs_au AFTER UPDATE OF text, user_id, doc_kind, doc_id ON memory_docs BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text, user_id, doc_kind, doc_id)
    VALUES ('delete', old.seq, substr(old.text, 1, 65536), old.user_id, old.doc_kind, old.doc_id);
    INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id)
    VALUES (new.seq, substr(new.text, 1, 65536), new.user_id, new.doc_kind, new.doc_id);
END;
-- +goose StatementEnd
