-- +goose Up
-- Web Push (issue 13) on PostgreSQL: the SQLite migration 00014 in its
-- present shape. Each user's browser push subscriptions, and the server's
-- one VAPID key pair (its private key sealed with secret.key). Kept by
-- internal/webpush/sqlitewebpush. Subscriptions go with their user.
CREATE TABLE webpush_subscriptions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL, -- the browser's auth secret; never sent back to a client
    created_at TEXT,
    UNIQUE (user_id, endpoint)
);

CREATE TABLE webpush_vapid (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    private_key TEXT NOT NULL -- sealed (secret.Box); never sent to a client
);

-- +goose Down
DROP TABLE webpush_vapid;
DROP TABLE webpush_subscriptions;
