// Package sqlitewebpush keeps Web Push subscriptions and the VAPID key in
// os1's SQL database: SQLite (migration 00014_webpush.sql) or PostgreSQL
// (00007_webpush.sql), with the same code. Every subscription query is
// scoped by user ID; another user's ids answer webpush.ErrNotFound.
package sqlitewebpush

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
	"github.com/os1ai/os1/internal/webpush"
)

var errs = sqlerr.Sentinels{NotFound: webpush.ErrNotFound, Conflict: webpush.ErrConflict, Dangling: "the user does not exist:"}

// Store is the SQL Web Push store.
type Store struct{ db *sql.DB }

var _ webpush.Store = (*Store)(nil)

// New returns the Web Push store of db.
func New(db sqldb.Handle) *Store { return &Store{db: db.SQL()} }

const cols = `id, user_id, endpoint, p256dh, auth, created_at`

func scan(r interface{ Scan(...any) error }) (webpush.Subscription, error) {
	var s webpush.Subscription
	err := r.Scan(&s.ID, &s.UserID, &s.Endpoint, &s.P256dh, &s.Auth, sqltime.Scanner{T: &s.CreatedAt})
	return s, err
}

// PutSubscription stores s or replaces the keys of the user's subscription
// of the same endpoint (keeping its ID and creation time).
func (st *Store) PutSubscription(ctx context.Context, s webpush.Subscription) (webpush.Subscription, error) {
	what := fmt.Sprintf("save push subscription %s", s.ID)
	if s.ID == "" || s.UserID == "" || s.Endpoint == "" {
		return webpush.Subscription{}, fmt.Errorf("%s: id, user and endpoint are required", what)
	}
	out, err := scan(st.db.QueryRowContext(ctx, `INSERT INTO webpush_subscriptions (`+cols+`)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
		RETURNING `+cols,
		s.ID, s.UserID, s.Endpoint, s.P256dh, s.Auth, sqltime.Value(s.CreatedAt)))
	if err != nil {
		return webpush.Subscription{}, errs.Map(err, what)
	}
	return out, nil
}

// Subscriptions lists userID's subscriptions, oldest first.
func (st *Store) Subscriptions(ctx context.Context, userID string) ([]webpush.Subscription, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT `+cols+` FROM webpush_subscriptions
		WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, errs.Map(err, "list push subscriptions")
	}
	defer rows.Close()
	var out []webpush.Subscription
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			return nil, errs.Map(err, "list push subscriptions")
		}
		out = append(out, s)
	}
	return out, errs.Map(rows.Err(), "list push subscriptions")
}

// DeleteSubscription removes one of userID's subscriptions.
func (st *Store) DeleteSubscription(ctx context.Context, userID, id string) error {
	res, err := st.db.ExecContext(ctx, `DELETE FROM webpush_subscriptions WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, fmt.Sprintf("delete push subscription %s", id))
}

// VAPIDKey returns the sealed VAPID private key.
func (st *Store) VAPIDKey(ctx context.Context) (string, error) {
	var k string
	err := st.db.QueryRowContext(ctx, `SELECT private_key FROM webpush_vapid WHERE id = 1`).Scan(&k)
	return k, errs.Map(err, "read the VAPID key")
}

// InitVAPIDKey stores sealed unless a key is stored, and returns the stored one.
func (st *Store) InitVAPIDKey(ctx context.Context, sealed string) (string, error) {
	if sealed == "" {
		return "", fmt.Errorf("store the VAPID key: it is empty")
	}
	_, err := st.db.ExecContext(ctx, `INSERT INTO webpush_vapid (id, private_key) VALUES (1, ?)
		ON CONFLICT (id) DO NOTHING`, sealed)
	if err != nil {
		return "", errs.Map(err, "store the VAPID key")
	}
	return st.VAPIDKey(ctx)
}
