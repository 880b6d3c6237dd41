-- +goose Up
-- Why os1 spoke first: a turn started by os1 itself (Companion.Initiate, for
-- a reminder or a proactive message) stores its reason on the reply.
ALTER TABLE messages ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE messages DROP COLUMN reason;
