// Package sqlitecontacts keeps contacts in os1's SQL database: SQLite
// (migration 00016_contacts.sql) or PostgreSQL (internal/store/postgres
// migration 00009_contacts.sql), with the same queries. Every query is
// scoped by user ID; another user's ids answer contacts.ErrNotFound.
package sqlitecontacts

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{NotFound: contacts.ErrNotFound, Conflict: contacts.ErrConflict, Dangling: "the user or the account does not exist:"}

// Store is the SQL contacts store.
type Store struct{ db *sql.DB }

var _ contacts.Store = (*Store)(nil)

// New returns the contacts store of db.
func New(db sqldb.Handle) *Store { return &Store{db: db.SQL()} }

const cols = `id, user_id, uid, name, other_names, relation, handles, birthday, notes, source, entity_id,
	COALESCE(account_id, ''), book, href, etag, card, local_change, deleted, created_at, updated_at`

// bit is a boolean as the 0/1 its INTEGER (BIGINT) column holds:
// PostgreSQL's driver does not write a Go bool into an integer column.
func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scan(r interface{ Scan(...any) error }) (contacts.Contact, error) {
	var c contacts.Contact
	var names, handles string
	err := r.Scan(&c.ID, &c.UserID, &c.UID, &c.Name, &names, &c.Relation, &handles, &c.Birthday, &c.Notes, &c.Source,
		&c.EntityID, &c.AccountID, &c.Book, &c.Href, &c.ETag, &c.Card, &c.LocalChange, &c.Deleted,
		sqltime.Scanner{T: &c.CreatedAt}, sqltime.Scanner{T: &c.UpdatedAt})
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(names), &c.OtherNames); err != nil {
		return c, fmt.Errorf("contact %s: other names: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(handles), &c.Handles); err != nil {
		return c, fmt.Errorf("contact %s: handles: %w", c.ID, err)
	}
	return c, nil
}

// PutContact creates or replaces c by ID (within its user).
func (st *Store) PutContact(ctx context.Context, c contacts.Contact) error {
	what := fmt.Sprintf("save contact %s (%q)", c.ID, c.Name)
	if c.ID == "" || c.UserID == "" {
		return fmt.Errorf("%s: id and user are required", what)
	}
	if c.OtherNames == nil {
		c.OtherNames = []string{}
	}
	if c.Handles == nil {
		c.Handles = []contacts.Handle{}
	}
	names, _ := json.Marshal(c.OtherNames) // strings always marshal
	handles, _ := json.Marshal(c.Handles)
	if c.Source == "" {
		c.Source = contacts.SourceLocal
	}
	res, err := st.db.ExecContext(ctx, `INSERT INTO contacts (id, user_id, uid, name, other_names, relation, handles, birthday,
		notes, source, entity_id, account_id, book, href, etag, card, local_change, deleted, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET uid = excluded.uid, name = excluded.name, other_names = excluded.other_names,
			relation = excluded.relation, handles = excluded.handles, birthday = excluded.birthday, notes = excluded.notes,
			source = excluded.source, entity_id = excluded.entity_id, account_id = excluded.account_id, book = excluded.book,
			href = excluded.href, etag = excluded.etag, card = excluded.card, local_change = excluded.local_change,
			deleted = excluded.deleted, updated_at = excluded.updated_at
		WHERE contacts.user_id = excluded.user_id`,
		c.ID, c.UserID, c.UID, c.Name, string(names), c.Relation, string(handles), c.Birthday, c.Notes, c.Source, c.EntityID,
		c.AccountID, c.Book, c.Href, c.ETag, c.Card, bit(c.LocalChange), bit(c.Deleted), sqltime.Value(c.CreatedAt), sqltime.Value(c.UpdatedAt))
	if err != nil {
		return errs.Map(err, what)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		// The ID is another user's: never overwrite it.
		return fmt.Errorf("%s: %w", what, contacts.ErrConflict)
	}
	return nil
}

// Contact returns one of userID's contacts.
func (st *Store) Contact(ctx context.Context, userID, id string) (contacts.Contact, error) {
	c, err := scan(st.db.QueryRowContext(ctx, `SELECT `+cols+` FROM contacts WHERE id = ? AND user_id = ?`, id, userID))
	return c, errs.Map(err, fmt.Sprintf("read contact %s", id))
}

// ListContacts lists userID's contacts by name (tombstones with deleted),
// ignoring case: LOWER is SQLite's NOCASE (ASCII letters) there, and a
// portable form of it on PostgreSQL, whose order follows the database's
// collation.
func (st *Store) ListContacts(ctx context.Context, userID string, deleted bool) ([]contacts.Contact, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT `+cols+` FROM contacts
		WHERE user_id = ? AND (? OR deleted = 0) ORDER BY LOWER(name), id`, userID, deleted)
	if err != nil {
		return nil, errs.Map(err, "list contacts")
	}
	defer rows.Close()
	var out []contacts.Contact
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, errs.Map(err, "list contacts")
		}
		out = append(out, c)
	}
	return out, errs.Map(rows.Err(), "list contacts")
}

// DeleteContact removes one of userID's contacts.
func (st *Store) DeleteContact(ctx context.Context, userID, id string) error {
	res, err := st.db.ExecContext(ctx, `DELETE FROM contacts WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, fmt.Sprintf("delete contact %s", id))
}
