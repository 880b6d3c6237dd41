-- +goose Up
-- Calendar (internal/calendar/sqlitecal) on PostgreSQL: the tables of the
-- SQLite migrations 00013_calendar.sql and 00017_cal_subscriptions.sql in
-- their present shape, same names and columns. Every row carries user_id
-- and goes with its user; calendars go with their account, events with
-- their calendar. Booleans are BIGINT 0/1 as on SQLite.
CREATE TABLE cal_accounts (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    url          TEXT NOT NULL,
    username     TEXT NOT NULL,
    secret       TEXT NOT NULL, -- sealed (secret.Box); never sent to a client
    created_at   TEXT,
    last_sync_at TEXT,
    last_error   TEXT NOT NULL,
    UNIQUE (id, user_id)
);
CREATE UNIQUE INDEX cal_accounts_url ON cal_accounts (user_id, url, username);

CREATE TABLE cal_calendars (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id      TEXT, -- NULL: the user's local calendar
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    color           TEXT NOT NULL,
    read_only       BIGINT NOT NULL,
    href            TEXT NOT NULL,
    sync_token      TEXT NOT NULL,
    ctag            TEXT NOT NULL,
    created_at      TEXT,
    source_url      TEXT NOT NULL DEFAULT '',
    source_etag     TEXT NOT NULL DEFAULT '',
    source_modified TEXT NOT NULL DEFAULT '',
    fetched_at      TEXT,
    fetch_error     TEXT NOT NULL DEFAULT '',
    feed_errors     TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    UNIQUE (id, user_id),
    FOREIGN KEY (account_id, user_id) REFERENCES cal_accounts (id, user_id) ON DELETE CASCADE
);
CREATE INDEX cal_calendars_user ON cal_calendars (user_id, account_id);
-- One subscription per address and user (two tabs adding it at once).
CREATE UNIQUE INDEX cal_calendars_source ON cal_calendars (user_id, source_url) WHERE source_url != '';

-- start_at and end_at are UTC instants for range queries (floating times
-- and dates widened by a day each side); end_at is NULL for a series that
-- never ends.
CREATE TABLE cal_events (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    calendar_id  TEXT NOT NULL,
    uid          TEXT NOT NULL,
    href         TEXT NOT NULL,
    start_at     TEXT NOT NULL,
    end_at       TEXT,
    local_change BIGINT NOT NULL,
    deleted      BIGINT NOT NULL,
    data         TEXT NOT NULL,
    updated_at   TEXT,
    UNIQUE (calendar_id, uid),
    FOREIGN KEY (calendar_id, user_id) REFERENCES cal_calendars (id, user_id) ON DELETE CASCADE
);
CREATE INDEX cal_events_range ON cal_events (user_id, calendar_id, start_at);
CREATE INDEX cal_events_href ON cal_events (calendar_id, href);

-- +goose Down
DROP TABLE cal_events;
DROP TABLE cal_calendars;
DROP TABLE cal_accounts;
