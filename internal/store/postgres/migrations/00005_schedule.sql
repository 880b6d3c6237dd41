-- +goose Up
-- The durable scheduler (internal/schedule/sqlitesched) on PostgreSQL: the
-- tables of the SQLite migration 00012_schedule.sql, same names and columns.
--
-- A job is claimed by setting state 'running', a fresh claim_token and a
-- lease (claimed_until) in one UPDATE whose candidate rows are locked with
-- FOR UPDATE SKIP LOCKED, so concurrent claimers never share a job. Times
-- are sqltime text, so text order is time order.
CREATE TABLE schedule_jobs (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    due           TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    claim_token   TEXT NOT NULL DEFAULT '',
    claimed_until TEXT,
    created_at    TEXT NOT NULL,
    fired_at      TEXT,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX schedule_jobs_due ON schedule_jobs (due) WHERE state = 'pending';
CREATE INDEX schedule_jobs_lease ON schedule_jobs (claimed_until) WHERE state = 'running';
CREATE INDEX schedule_jobs_user ON schedule_jobs (user_id, kind, due);

-- Quiet hours in the user's own zone, as minutes after midnight; a span
-- that ends before it starts crosses midnight (22:00-07:00).
CREATE TABLE schedule_quiet_hours (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    start_minute BIGINT NOT NULL,
    end_minute   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE schedule_quiet_hours;
DROP TABLE schedule_jobs;
