// Package sqlitemail keeps mail in os1's SQL database: accounts, folder
// sync state, messages with their triage, the user's rules, and a
// full-text index for search. One implementation serves SQLite (migration
// 00011_mail.sql of internal/store/sqlite) and PostgreSQL (00004_mail.sql
// of internal/store/postgres); only full-text search speaks each one's
// dialect (search.go).
//
// Every query is scoped by user ID; another user's ids answer
// mail.ErrNotFound. The database itself holds folders and messages to an
// account of their own user (a foreign key on account and user together),
// so a row can never point at someone else's account.
package sqlitemail

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{
	NotFound: mail.ErrNotFound,
	Conflict: mail.ErrConflict,
	Dangling: "the user or the account does not exist:",
}

// Store is the mail store on SQLite or PostgreSQL.
type Store struct {
	db *sql.DB
	// fts is the full-text SQL of the database's dialect (search.go).
	fts ftsSQL
	// txt escapes the NULs PostgreSQL cannot store (text.go).
	txt textCodec
	// maxMatches bounds the rows one search ranks (search.go).
	maxMatches int
}

var _ mail.Store = (*Store)(nil)

// New returns the mail store of db.
func New(db sqldb.Handle) *Store {
	fts := sqliteFTS
	if db.Dialect() == sqldb.Postgres {
		fts = postgresFTS
	}
	return &Store{db: db.SQL(), fts: fts, txt: textCodec{escape: db.Dialect() == sqldb.Postgres},
		maxMatches: defaultMaxMatches}
}

// limitOf bounds a listing's limit (mail.Query.Limit, Untriaged, Search).
func limitOf(n int) int {
	switch {
	case n <= 0:
		return mail.DefaultLimit
	case n > mail.MaxLimit:
		return mail.MaxLimit
	}
	return n
}

type scanner interface{ Scan(...any) error }

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// bit stores a boolean as 0 or 1: the columns are integers on both
// dialects, and PostgreSQL's driver does not encode a Go bool as one.
// (Reading 0 or 1 back into a bool works on both.)
func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scanTime(t *time.Time) sqltime.Scanner { return sqltime.Scanner{T: t} }

// toJSON encodes a JSON column; a nil slice is stored as null and reads back nil.
func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// jsonCol decodes a JSON column into Dst.
type jsonCol struct{ Dst any }

func (j jsonCol) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		return nil
	default:
		return fmt.Errorf("JSON column has type %T, want text", v)
	}
	return json.Unmarshal(b, j.Dst)
}

// Accounts.

const accountCols = `id, user_id, name, address, imap_host, imap_port, imap_security, smtp_host, smtp_port,
	smtp_security, username, auth, secret, sync_days, created_at, last_sync_at, last_error`

func (s *Store) scanAccount(r scanner) (mail.Account, error) {
	var a mail.Account
	err := r.Scan(&a.ID, &a.UserID, &a.Name, &a.Address, &a.IMAP.Host, &a.IMAP.Port, &a.IMAP.Security,
		&a.SMTP.Host, &a.SMTP.Port, &a.SMTP.Security, &a.Username, &a.Auth, &a.Secret, &a.SyncDays,
		scanTime(&a.CreatedAt), scanTime(&a.LastSyncAt), &a.LastError)
	s.txt.get(&a.Name, &a.LastError)
	return a, err
}

// CreateAccount stores a new account. A SyncDays of 0 or less is stored as
// mail.DefaultSyncDays. ErrConflict when the id is taken or the user already
// has an account of this address (compared without case).
func (s *Store) CreateAccount(ctx context.Context, a mail.Account) error {
	what := fmt.Sprintf("create mail account %q", a.Address)
	if a.ID == "" || a.UserID == "" || a.Address == "" {
		return fmt.Errorf("%s: id, user and address are required", what)
	}
	if a.SyncDays <= 0 {
		a.SyncDays = mail.DefaultSyncDays
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO mail_accounts (`+accountCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.UserID, s.txt.put(a.Name), a.Address, a.IMAP.Host, a.IMAP.Port, string(a.IMAP.Security),
		a.SMTP.Host, a.SMTP.Port, string(a.SMTP.Security), a.Username, string(a.Auth), a.Secret, a.SyncDays,
		sqltime.Value(a.CreatedAt), sqltime.Value(a.LastSyncAt), s.txt.put(a.LastError))
	return errs.Map(err, what)
}

// Account returns one of userID's accounts.
func (s *Store) Account(ctx context.Context, userID, id string) (mail.Account, error) {
	a, err := s.scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM mail_accounts
		WHERE id = ? AND user_id = ?`, id, userID))
	if err != nil {
		return mail.Account{}, errs.Map(err, "mail account "+id)
	}
	return a, nil
}

// Accounts lists userID's accounts, oldest first.
func (s *Store) Accounts(ctx context.Context, userID string) ([]mail.Account, error) {
	return s.accounts(ctx, `WHERE user_id = ?`, userID)
}

// AllAccounts lists every user's accounts, for the background syncer.
func (s *Store) AllAccounts(ctx context.Context) ([]mail.Account, error) {
	return s.accounts(ctx, ``)
}

func (s *Store) accounts(ctx context.Context, where string, args ...any) ([]mail.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountCols+` FROM mail_accounts `+where+`
		ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, errs.Map(err, "list mail accounts")
	}
	defer rows.Close()
	var out []mail.Account
	for rows.Next() {
		a, err := s.scanAccount(rows)
		if err != nil {
			return nil, errs.Map(err, "list mail accounts")
		}
		out = append(out, a)
	}
	return out, errs.Map(rows.Err(), "list mail accounts")
}

// UpdateAccount replaces everything of an account but its user and
// CreatedAt. ErrNotFound when a.UserID has no such account.
func (s *Store) UpdateAccount(ctx context.Context, a mail.Account) error {
	if a.SyncDays <= 0 {
		a.SyncDays = mail.DefaultSyncDays
	}
	res, err := s.db.ExecContext(ctx, `UPDATE mail_accounts SET name = ?, address = ?,
		imap_host = ?, imap_port = ?, imap_security = ?, smtp_host = ?, smtp_port = ?, smtp_security = ?,
		username = ?, auth = ?, secret = ?, sync_days = ?, last_sync_at = ?, last_error = ?
		WHERE id = ? AND user_id = ?`,
		s.txt.put(a.Name), a.Address, a.IMAP.Host, a.IMAP.Port, string(a.IMAP.Security),
		a.SMTP.Host, a.SMTP.Port, string(a.SMTP.Security), a.Username, string(a.Auth), a.Secret, a.SyncDays,
		sqltime.Value(a.LastSyncAt), s.txt.put(a.LastError), a.ID, a.UserID)
	return errs.Affected(res, err, "update mail account "+a.ID)
}

// DeleteAccount removes the account; its folders and messages go with it
// (and out of the full-text index).
func (s *Store) DeleteAccount(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mail_accounts WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, "delete mail account "+id)
}

// ownAccount answers ErrNotFound unless accountID is one of userID's accounts.
func ownAccount(ctx context.Context, q rowQuerier, userID, accountID string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM mail_accounts WHERE id = ? AND user_id = ?`, accountID, userID).Scan(&one)
	return errs.Map(err, "mail account "+accountID)
}

// Folders.

const folderCols = `account_id, name, role, uid_validity, uid_next, highest_modseq, messages, synced_to, complete`

// Folders lists the sync state of an account's folders by name;
// ErrNotFound when the account is not userID's.
func (s *Store) Folders(ctx context.Context, userID, accountID string) ([]mail.Folder, error) {
	if err := ownAccount(ctx, s.db, userID, accountID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+folderCols+` FROM mail_folders
		WHERE account_id = ? AND user_id = ? ORDER BY name`, accountID, userID)
	if err != nil {
		return nil, errs.Map(err, "list mail folders")
	}
	defer rows.Close()
	var out []mail.Folder
	for rows.Next() {
		var f mail.Folder
		var modseq int64
		if err := rows.Scan(&f.AccountID, &f.Name, &f.Role, &f.UIDValidity, &f.UIDNext, &modseq, &f.Messages,
			scanTime(&f.SyncedTo), &f.Complete); err != nil {
			return nil, errs.Map(err, "list mail folders")
		}
		f.HighestModSeq = uint64(modseq)
		out = append(out, f)
	}
	return out, errs.Map(rows.Err(), "list mail folders")
}

// SaveFolder inserts or replaces the sync state of a folder of one of
// userID's accounts; ErrNotFound when the account is not theirs.
func (s *Store) SaveFolder(ctx context.Context, userID string, f mail.Folder) error {
	what := fmt.Sprintf("save mail folder %q", f.Name)
	if f.Name == "" {
		return fmt.Errorf("%s: a name is required", what)
	}
	// Checked first: an upsert onto another user's folder of the same
	// account id would otherwise be a silent no-op rather than ErrNotFound.
	if err := ownAccount(ctx, s.db, userID, f.AccountID); err != nil {
		return err
	}
	// MODSEQ values are at most 2^63-1 (RFC 7162), so they fit a signed
	// 64-bit integer (SQLite's INTEGER, PostgreSQL's BIGINT).
	_, err := s.db.ExecContext(ctx, `INSERT INTO mail_folders (user_id, `+folderCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, name) DO UPDATE SET role = excluded.role, uid_validity = excluded.uid_validity,
			uid_next = excluded.uid_next, highest_modseq = excluded.highest_modseq, messages = excluded.messages,
			synced_to = excluded.synced_to, complete = excluded.complete
		WHERE mail_folders.user_id = excluded.user_id`,
		userID, f.AccountID, f.Name, string(f.Role), f.UIDValidity, f.UIDNext, int64(f.HighestModSeq), f.Messages,
		sqltime.Value(f.SyncedTo), bit(f.Complete))
	return errs.Map(err, what)
}

// ResetFolder drops a folder's messages (UIDVALIDITY changed); the
// folder's own state is left for the sync to save anew.
func (s *Store) ResetFolder(ctx context.Context, userID, accountID, folder string) error {
	if err := ownAccount(ctx, s.db, userID, accountID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM mail_messages WHERE user_id = ? AND account_id = ? AND folder = ?`,
		userID, accountID, folder)
	return errs.Map(err, fmt.Sprintf("reset mail folder %q", folder))
}

// Rules.

// Rules lists userID's rules, oldest first.
func (s *Store) Rules(ctx context.Context, userID string) ([]mail.Rule, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, text, understood, enabled, created_at
		FROM mail_rules WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, errs.Map(err, "list mail rules")
	}
	defer rows.Close()
	var out []mail.Rule
	for rows.Next() {
		var r mail.Rule
		if err := rows.Scan(&r.ID, &r.UserID, &r.Text, jsonCol{&r.Understood}, &r.Enabled, scanTime(&r.CreatedAt)); err != nil {
			return nil, errs.Map(err, "list mail rules")
		}
		s.txt.get(&r.Text)
		out = append(out, r)
	}
	return out, errs.Map(rows.Err(), "list mail rules")
}

// SaveRule inserts or replaces one of r.UserID's rules. Rule ids are per
// user: another user's rule of the same id is a different rule, untouched.
func (s *Store) SaveRule(ctx context.Context, r mail.Rule) error {
	what := fmt.Sprintf("save mail rule %q", r.ID)
	if r.ID == "" || r.UserID == "" {
		return fmt.Errorf("%s: id and user are required", what)
	}
	spec, err := toJSON(r.Understood)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO mail_rules (id, user_id, text, understood, enabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, id) DO UPDATE SET text = excluded.text, understood = excluded.understood,
			enabled = excluded.enabled, created_at = excluded.created_at`,
		r.ID, r.UserID, s.txt.put(r.Text), spec, bit(r.Enabled), sqltime.Value(r.CreatedAt))
	return errs.Map(err, what)
}

// DeleteRule removes one of userID's rules.
func (s *Store) DeleteRule(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mail_rules WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, "delete mail rule "+id)
}
