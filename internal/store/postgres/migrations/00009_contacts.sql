-- +goose Up
-- Contacts (internal/contacts/sqlitecontacts) on PostgreSQL: the table of
-- the SQLite migration 00016_contacts.sql, same name and columns. Every
-- row carries user_id and goes with its user; a synced contact goes with
-- its CalDAV/CardDAV account (00006_calendar.sql). Booleans are BIGINT 0/1
-- as on SQLite.
CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    uid          TEXT NOT NULL,
    name         TEXT NOT NULL,
    other_names  TEXT NOT NULL, -- JSON array of strings
    relation     TEXT NOT NULL,
    handles      TEXT NOT NULL, -- JSON array of {kind, value, label}
    birthday     TEXT NOT NULL, -- YYYY-MM-DD or --MM-DD, or ''
    notes        TEXT NOT NULL,
    source       TEXT NOT NULL, -- local or carddav
    entity_id    TEXT NOT NULL, -- the memory person, or ''
    account_id   TEXT REFERENCES cal_accounts (id) ON DELETE CASCADE, -- NULL: kept in os1
    book         TEXT NOT NULL,
    href         TEXT NOT NULL,
    etag         TEXT NOT NULL,
    card         TEXT NOT NULL,
    local_change BIGINT NOT NULL,
    deleted      BIGINT NOT NULL,
    created_at   TEXT,
    updated_at   TEXT
);
CREATE INDEX contacts_user ON contacts (user_id, name);
CREATE UNIQUE INDEX contacts_href ON contacts (user_id, account_id, href) WHERE href <> '';

-- +goose Down
DROP TABLE contacts;
