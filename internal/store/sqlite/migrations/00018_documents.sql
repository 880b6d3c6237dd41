-- +goose Up
-- The writing desk (issue 14): each user's documents (letters, notes,
-- chapters) in Markdown, and every saved version of each; a save adds a
-- version and never rewrites one. Kept by internal/documents/sqlitedocs.
-- Documents and their versions go with their user.
CREATE TABLE documents (
    seq        INTEGER PRIMARY KEY, -- the full-text index's rowid
    id         TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    kind       TEXT NOT NULL,     -- letter | note | chapter
    body       TEXT NOT NULL,     -- Markdown of the current version
    version    INTEGER NOT NULL,  -- number of the current version
    source     TEXT NOT NULL,     -- who saved the current version
    created_at TEXT,
    updated_at TEXT
);
CREATE INDEX documents_user ON documents (user_id, updated_at);

CREATE TABLE document_versions (
    doc_seq  INTEGER NOT NULL REFERENCES documents (seq) ON DELETE CASCADE,
    n        INTEGER NOT NULL,
    title    TEXT NOT NULL,
    body     TEXT NOT NULL,
    source   TEXT NOT NULL,  -- user | os1 | restore | suggestions
    saved_at TEXT,
    PRIMARY KEY (doc_seq, n)
);

-- Full-text search over the current title and body, for memory search and
-- recall. As mail's index does (00011), each column indexes at most its
-- first 65536 characters; the stored body stays whole.
CREATE VIRTUAL TABLE documents_fts USING fts5 (
    title,
    body,
    content = 'documents',
    content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER documents_ai AFTER INSERT ON documents BEGIN
    INSERT INTO documents_fts (rowid, title, body)
    VALUES (new.seq, substr(new.title, 1, 65536), substr(new.body, 1, 65536));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, title, body)
    VALUES ('delete', old.seq, substr(old.title, 1, 65536), substr(old.body, 1, 65536));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER documents_au AFTER UPDATE OF title, body ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, title, body)
    VALUES ('delete', old.seq, substr(old.title, 1, 65536), substr(old.body, 1, 65536));
    INSERT INTO documents_fts (rowid, title, body)
    VALUES (new.seq, substr(new.title, 1, 65536), substr(new.body, 1, 65536));
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER documents_au;
DROP TRIGGER documents_ad;
DROP TRIGGER documents_ai;
DROP TABLE documents_fts;
DROP TABLE document_versions;
DROP TABLE documents;
