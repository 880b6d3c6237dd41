-- +goose Up
-- Which sentence embedding model built each vector (issue 11), so a model
-- swap never compares vectors of two models and `os1 memory reindex` can
-- rebuild them, resumably (internal/memory/sqlitemem/models.go).
--
-- memory_embed_models has one row per model os1 has used: its name, its
-- dimension, and its vector of a fixed probe sentence (int8-quantised like
-- memory_vectors.vec), which tells two models of the same name apart.
CREATE TABLE memory_embed_models (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    dim         INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,  -- short hash of probe, for people to compare
    probe       BLOB NOT NULL,
    created_at  TEXT,
    current     INTEGER NOT NULL DEFAULT 0 -- 1: the model the last server used
) STRICT;

-- 0: built before os1 recorded models; the first model that uses this
-- database adopts them when it reproduces a sample of them.
ALTER TABLE memory_vectors ADD COLUMN model INTEGER NOT NULL DEFAULT 0;
CREATE INDEX memory_vectors_model ON memory_vectors (model, user_id);

-- A reindex in progress, per user: the model it builds vectors for, and the
-- last document seq done (documents are done in seq order, in batches, each
-- batch committed with the cursor).
CREATE TABLE memory_reindex (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    model      INTEGER NOT NULL,
    cursor     INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    updated_at TEXT
) STRICT;

-- +goose Down
DROP TABLE memory_reindex;
DROP INDEX memory_vectors_model;
ALTER TABLE memory_vectors DROP COLUMN model;
DROP TABLE memory_embed_models;
