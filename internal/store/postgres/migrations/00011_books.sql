-- +goose Up
-- Books (issue 14) on PostgreSQL: the SQLite migration 00019 in its present
-- shape. Each user's collections of their letters, in order, with the
-- front matter, and the last EPUB and PDF built of each. Kept by
-- internal/books/sqlitebooks. Books go with their user.
CREATE TABLE books (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    subtitle   TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    dedication TEXT NOT NULL DEFAULT '',
    foreword   TEXT NOT NULL DEFAULT '',
    letters    TEXT NOT NULL DEFAULT '[]', -- JSON array of document ids, in book order
    created_at TEXT,
    updated_at TEXT
);
CREATE INDEX books_user ON books (user_id, created_at);

CREATE TABLE book_files (
    book_id  TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format   TEXT NOT NULL CHECK (format IN ('epub', 'pdf')),
    data     BYTEA NOT NULL,
    sha256   TEXT NOT NULL,
    built_at TEXT,
    PRIMARY KEY (book_id, format)
);
CREATE INDEX book_files_user ON book_files (user_id);

-- +goose Down
DROP TABLE book_files;
DROP TABLE books;
