// Package sqliteattach keeps attachments in os1's SQL database, in the
// attachments table (SQLite migration 00008, PostgreSQL 00003), beside the
// messages they belong to. The same code runs on SQLite and PostgreSQL.
//
// It must never store an attachment without its message, nor answer a
// query for another user's attachment.
package sqliteattach

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{NotFound: store.ErrNotFound, Conflict: store.ErrConflict, Dangling: "message"}

// Store is the SQL attachment store.
type Store struct{ db DB }

// DB is the core store whose messages the attachments belong to: SQLite's
// or PostgreSQL's.
type DB interface {
	sqldb.Handle
	// AppendMessageWith stores a message and runs with in its transaction.
	AppendMessageWith(ctx context.Context, m store.Message, with func(context.Context, *sql.Tx) error) error
}

var _ attach.Store = (*Store)(nil)

// New returns the attachment store of db.
func New(db DB) *Store { return &Store{db: db} }

// AppendMessage stores m and its attachments in one transaction.
func (s *Store) AppendMessage(ctx context.Context, m store.Message, atts []attach.Attachment) error {
	return s.db.AppendMessageWith(ctx, m, func(ctx context.Context, tx *sql.Tx) error {
		for i, a := range atts {
			if a.ID == "" {
				return fmt.Errorf("attachment %q: id is required", a.Name)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO attachments
				(id, user_id, conversation_id, message_id, seq, name, mime, size, data, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				a.ID, m.UserID, m.ConversationID, m.ID, i, a.Name, a.MIME, len(a.Data), a.Data, sqltime.Value(m.CreatedAt))
			if err != nil {
				return errs.Map(err, fmt.Sprintf("store attachment %s (%s)", a.ID, a.Name))
			}
		}
		return nil
	})
}

const cols = `id, user_id, conversation_id, message_id, name, mime, size, created_at`

type scanner interface{ Scan(...any) error }

func scan(r scanner, extra ...any) (attach.Attachment, error) {
	var a attach.Attachment
	err := r.Scan(append([]any{&a.ID, &a.UserID, &a.ConversationID, &a.MessageID, &a.Name, &a.MIME, &a.Size,
		sqltime.Scanner{T: &a.CreatedAt}}, extra...)...)
	return a, err
}

// Attachment returns one of userID's attachments with its data.
func (s *Store) Attachment(ctx context.Context, userID, id string) (attach.Attachment, error) {
	var data []byte
	row := s.db.SQL().QueryRowContext(ctx, `SELECT `+cols+`, data FROM attachments WHERE id = ? AND user_id = ?`, id, userID)
	a, err := scan(row, &data)
	if err != nil {
		return attach.Attachment{}, errs.Map(err, "attachment "+id)
	}
	if data == nil {
		data = []byte{}
	}
	a.Data = data
	return a, nil
}

// List describes userID's attachments of messageIDs, without their data.
func (s *Store) List(ctx context.Context, userID string, messageIDs []string) (map[string][]attach.Attachment, error) {
	out := map[string][]attach.Attachment{}
	// In batches, well under SQLite's limit on bound parameters.
	for len(messageIDs) > 0 {
		n := min(len(messageIDs), 500)
		batch := messageIDs[:n]
		messageIDs = messageIDs[n:]
		args := []any{userID}
		for _, id := range batch {
			args = append(args, id)
		}
		rows, err := s.db.SQL().QueryContext(ctx, `SELECT `+cols+` FROM attachments
			WHERE user_id = ? AND message_id IN (?`+strings.Repeat(", ?", n-1)+`) ORDER BY message_id, seq`, args...)
		if err != nil {
			return nil, errs.Map(err, "list attachments")
		}
		for rows.Next() {
			a, err := scan(rows)
			if err != nil {
				rows.Close()
				return nil, errs.Map(err, "list attachments")
			}
			out[a.MessageID] = append(out[a.MessageID], a)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, errs.Map(err, "list attachments")
		}
	}
	return out, nil
}
