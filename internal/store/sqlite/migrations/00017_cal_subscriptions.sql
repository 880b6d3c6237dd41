-- +goose Up
-- Calendar subscriptions (issue 13): a read-only calendar fetched from an
-- .ics address (a holidays calendar) is a row of cal_calendars with its
-- address in source_url; the last fetch's validators (ETag, Last-Modified)
-- ask the server for the file only when it changed. Kept by
-- internal/calendar/sqlitecal.
ALTER TABLE cal_calendars ADD COLUMN source_url TEXT NOT NULL DEFAULT '';
ALTER TABLE cal_calendars ADD COLUMN source_etag TEXT NOT NULL DEFAULT '';
ALTER TABLE cal_calendars ADD COLUMN source_modified TEXT NOT NULL DEFAULT '';
ALTER TABLE cal_calendars ADD COLUMN fetched_at TEXT;
ALTER TABLE cal_calendars ADD COLUMN fetch_error TEXT NOT NULL DEFAULT '';
ALTER TABLE cal_calendars ADD COLUMN feed_errors TEXT NOT NULL DEFAULT '[]'; -- JSON array of strings
-- One subscription per address and user (two tabs adding it at once).
CREATE UNIQUE INDEX cal_calendars_source ON cal_calendars (user_id, source_url) WHERE source_url != '';

-- +goose Down
DROP INDEX cal_calendars_source;
ALTER TABLE cal_calendars DROP COLUMN feed_errors;
ALTER TABLE cal_calendars DROP COLUMN fetch_error;
ALTER TABLE cal_calendars DROP COLUMN fetched_at;
ALTER TABLE cal_calendars DROP COLUMN source_modified;
ALTER TABLE cal_calendars DROP COLUMN source_etag;
ALTER TABLE cal_calendars DROP COLUMN source_url;
