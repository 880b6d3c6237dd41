-- +goose Up
-- Full-text limits of long-term memory (internal/memory/sqlitemem/fulltext.go).
-- FTS5 ranks a document by holding a term's whole position list in memory,
-- and SQLite's memory per connection is bounded: one memory of "kk " repeated
-- ten million times made every recall of "kk" run out of it. The index now
-- holds at most the first 65536 characters of each document; memory_docs.text
-- stays whole. The triggers index and un-index the same prefix, so the
-- external-content index stays consistent.

DROP TRIGGER memory_docs_ai;
DROP TRIGGER memory_docs_ad;
DROP TRIGGER memory_docs_au;

-- Documents indexed whole before this migration are indexed again, cut.
INSERT INTO memory_fts (memory_fts, rowid, text, user_id, doc_kind, doc_id)
    SELECT 'delete', seq, text, user_id, doc_kind, doc_id FROM memory_docs WHERE length(text) > 65536;
INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id)
    SELECT seq, substr(text, 1, 65536), user_id, doc_kind, doc_id FROM memory_docs WHERE length(text) > 65536;

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

-- +goose Down
DROP TRIGGER memory_docs_ai;
DROP TRIGGER memory_docs_ad;
DROP TRIGGER memory_docs_au;

INSERT INTO memory_fts (memory_fts, rowid, text, user_id, doc_kind, doc_id)
    SELECT 'delete', seq, substr(text, 1, 65536), user_id, doc_kind, doc_id FROM memory_docs WHERE length(text) > 65536;
INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id)
    SELECT seq, text, user_id, doc_kind, doc_id FROM memory_docs WHERE length(text) > 65536;

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
