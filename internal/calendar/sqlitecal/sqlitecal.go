// Package sqlitecal keeps calendars in os1's SQL database: SQLite
// (migrations 00013_calendar.sql, 00017_cal_subscriptions.sql) or
// PostgreSQL (internal/store/postgres migration 00006_calendar.sql), with
// the same queries: CalDAV accounts, calendars (subscriptions among them)
// and events.
//
// Every query is scoped by user ID; another user's ids answer
// calendar.ErrNotFound. The database holds calendars to an account of
// their own user and events to a calendar of their own user (foreign keys
// on id and user together), so a row never points at someone else's.
package sqlitecal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{
	NotFound: calendar.ErrNotFound,
	Conflict: calendar.ErrConflict,
	Dangling: "the user, account or calendar does not exist:",
}

// Store is the SQL calendar store.
type Store struct{ db *sql.DB }

var _ calendar.Store = (*Store)(nil)

// New returns the calendar store of db.
func New(db sqldb.Handle) *Store { return &Store{db: db.SQL()} }

type scanner interface{ Scan(...any) error }

func tv(t time.Time) sqltime.Value { return sqltime.Value(t) }

// bit is a boolean as the 0/1 its INTEGER (BIGINT) column holds:
// PostgreSQL's driver does not write a Go bool into an integer column.
func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Accounts.

func (s *Store) CreateAccount(ctx context.Context, a calendar.Account) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO cal_accounts (id, user_id, name, url, username, secret, created_at, last_sync_at, last_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.UserID, a.Name, a.URL, a.Username, a.Secret, tv(a.CreatedAt), tv(a.LastSyncAt), a.LastError)
	return errs.Map(err, "create the calendar account "+a.Name)
}

func (s *Store) UpdateAccount(ctx context.Context, a calendar.Account) error {
	res, err := s.db.ExecContext(ctx, `UPDATE cal_accounts SET name = ?, url = ?, username = ?, secret = ?, last_sync_at = ?, last_error = ?
		WHERE id = ? AND user_id = ?`, a.Name, a.URL, a.Username, a.Secret, tv(a.LastSyncAt), a.LastError, a.ID, a.UserID)
	return errs.Affected(res, err, "update the calendar account "+a.ID)
}

const accountCols = `id, user_id, name, url, username, secret, created_at, last_sync_at, last_error`

func scanAccount(r scanner) (calendar.Account, error) {
	var a calendar.Account
	err := r.Scan(&a.ID, &a.UserID, &a.Name, &a.URL, &a.Username, &a.Secret,
		sqltime.Scanner{T: &a.CreatedAt}, sqltime.Scanner{T: &a.LastSyncAt}, &a.LastError)
	return a, err
}

func (s *Store) Account(ctx context.Context, userID, id string) (calendar.Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM cal_accounts WHERE id = ? AND user_id = ?`, id, userID))
	return a, errs.Map(err, "the calendar account "+id)
}

func (s *Store) ListAccounts(ctx context.Context, userID string) ([]calendar.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountCols+` FROM cal_accounts WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, errs.Map(err, "list calendar accounts")
	}
	defer rows.Close()
	var out []calendar.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, errs.Map(err, "list calendar accounts")
		}
		out = append(out, a)
	}
	return out, errs.Map(rows.Err(), "list calendar accounts")
}

func (s *Store) AllAccounts(ctx context.Context) ([]calendar.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountCols+` FROM cal_accounts ORDER BY user_id, created_at, id`)
	if err != nil {
		return nil, errs.Map(err, "list every calendar account")
	}
	defer rows.Close()
	var out []calendar.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, errs.Map(err, "list every calendar account")
		}
		out = append(out, a)
	}
	return out, errs.Map(rows.Err(), "list every calendar account")
}

func (s *Store) DeleteAccount(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM cal_accounts WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, "delete the calendar account "+id)
}

// Calendars.

func feedErrors(c calendar.Calendar) string {
	if len(c.FeedErrors) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(c.FeedErrors) // strings always marshal
	return string(b)
}

func (s *Store) CreateCalendar(ctx context.Context, c calendar.Calendar) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO cal_calendars (id, user_id, account_id, name, description, color, read_only, href, sync_token, ctag, created_at,
			source_url, source_etag, source_modified, fetched_at, fetch_error, feed_errors)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.UserID, nullable(c.AccountID), c.Name, c.Description, c.Color, bit(c.ReadOnly),
		c.Href, c.SyncToken, c.CTag, tv(c.CreatedAt), c.URL, c.FeedETag, c.FeedModified, tv(c.FetchedAt), c.FetchError, feedErrors(c))
	return errs.Map(err, "create the calendar "+c.Name)
}

func (s *Store) UpdateCalendar(ctx context.Context, c calendar.Calendar) error {
	res, err := s.db.ExecContext(ctx, `UPDATE cal_calendars SET name = ?, description = ?, color = ?, read_only = ?, href = ?, sync_token = ?, ctag = ?,
			source_url = ?, source_etag = ?, source_modified = ?, fetched_at = ?, fetch_error = ?, feed_errors = ?
		WHERE id = ? AND user_id = ?`, c.Name, c.Description, c.Color, bit(c.ReadOnly), c.Href, c.SyncToken, c.CTag,
		c.URL, c.FeedETag, c.FeedModified, tv(c.FetchedAt), c.FetchError, feedErrors(c), c.ID, c.UserID)
	return errs.Affected(res, err, "update the calendar "+c.ID)
}

const calendarCols = `id, user_id, COALESCE(account_id, ''), name, description, color, read_only, href, sync_token, ctag, created_at,
	source_url, source_etag, source_modified, fetched_at, fetch_error, feed_errors`

func scanCalendar(r scanner) (calendar.Calendar, error) {
	var c calendar.Calendar
	var fe string
	err := r.Scan(&c.ID, &c.UserID, &c.AccountID, &c.Name, &c.Description, &c.Color, &c.ReadOnly, &c.Href, &c.SyncToken, &c.CTag,
		sqltime.Scanner{T: &c.CreatedAt}, &c.URL, &c.FeedETag, &c.FeedModified, sqltime.Scanner{T: &c.FetchedAt}, &c.FetchError, &fe)
	if err == nil && fe != "" && fe != "[]" {
		if jerr := json.Unmarshal([]byte(fe), &c.FeedErrors); jerr != nil {
			c.FeedErrors = []string{"(the stored list of unreadable events is damaged)"}
		}
	}
	return c, err
}

func (s *Store) Calendar(ctx context.Context, userID, id string) (calendar.Calendar, error) {
	c, err := scanCalendar(s.db.QueryRowContext(ctx, `SELECT `+calendarCols+` FROM cal_calendars WHERE id = ? AND user_id = ?`, id, userID))
	return c, errs.Map(err, "the calendar "+id)
}

func (s *Store) ListCalendars(ctx context.Context, userID string) ([]calendar.Calendar, error) {
	return s.listCalendars(ctx, "list calendars", `WHERE user_id = ? ORDER BY created_at, id`, userID)
}

func (s *Store) AllSubscriptions(ctx context.Context) ([]calendar.Calendar, error) {
	return s.listCalendars(ctx, "list every calendar subscription", `WHERE source_url != '' ORDER BY user_id, created_at, id`)
}

func (s *Store) listCalendars(ctx context.Context, what, where string, args ...any) ([]calendar.Calendar, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+calendarCols+` FROM cal_calendars `+where, args...)
	if err != nil {
		return nil, errs.Map(err, what)
	}
	defer rows.Close()
	var out []calendar.Calendar
	for rows.Next() {
		c, err := scanCalendar(rows)
		if err != nil {
			return nil, errs.Map(err, what)
		}
		out = append(out, c)
	}
	return out, errs.Map(rows.Err(), what)
}

func (s *Store) DeleteCalendar(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM cal_calendars WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, "delete the calendar "+id)
}

// Events.

// bounds are the UTC span a range query matches an event by: floating
// times and dates widened by a day each side (they are read in the
// user's zone); a series has no end.
func bounds(e calendar.Event) (start time.Time, end any) {
	start = e.Start.Time.UTC()
	if e.Start.Kind != calendar.Zoned {
		start = start.Add(-24 * time.Hour)
	}
	if e.Recurring() || len(e.Overrides) > 0 {
		return start, nil
	}
	en := e.End
	if en.IsZero() {
		en = e.Start
	}
	t := en.Time.UTC()
	if en.Kind != calendar.Zoned {
		t = t.Add(48 * time.Hour)
	}
	return start, tv(t)
}

func (s *Store) PutEvent(ctx context.Context, e calendar.Event) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("store the event: %w", err)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("store the event %q: %w", e.Summary, err)
	}
	start, end := bounds(e)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.Map(err, "store the event")
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	// The calendar must be the user's: checked here so that an update
	// cannot move an event into another user's calendar.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cal_calendars WHERE id = ? AND user_id = ?`, e.CalendarID, e.UserID).Scan(&n); err != nil {
		return errs.Map(err, "store the event")
	}
	if n == 0 {
		return fmt.Errorf("store the event %q: the calendar %s: %w", e.Summary, e.CalendarID, calendar.ErrNotFound)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO cal_events (id, user_id, calendar_id, uid, href, start_at, end_at, local_change, deleted, data, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET calendar_id = excluded.calendar_id, uid = excluded.uid, href = excluded.href,
			start_at = excluded.start_at, end_at = excluded.end_at, local_change = excluded.local_change,
			deleted = excluded.deleted, data = excluded.data, updated_at = excluded.updated_at
		WHERE cal_events.user_id = excluded.user_id`,
		e.ID, e.UserID, e.CalendarID, e.UID, e.Href, tv(start), end, bit(e.LocalChange), bit(e.Deleted), string(data), tv(e.UpdatedAt))
	if err := errs.Affected(res, err, "store the event "+e.ID); err != nil {
		return err
	}
	return errs.Map(tx.Commit(), "store the event")
}

func scanEvent(r scanner) (calendar.Event, error) {
	var data string
	if err := r.Scan(&data); err != nil {
		return calendar.Event{}, err
	}
	var e calendar.Event
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return e, fmt.Errorf("a stored event is not readable: %w", err)
	}
	return e, nil
}

func (s *Store) Event(ctx context.Context, userID, id string) (calendar.Event, error) {
	e, err := scanEvent(s.db.QueryRowContext(ctx, `SELECT data FROM cal_events WHERE id = ? AND user_id = ?`, id, userID))
	return e, errs.Map(err, "the event "+id)
}

func (s *Store) EventByUID(ctx context.Context, userID, calendarID, uid string) (calendar.Event, error) {
	e, err := scanEvent(s.db.QueryRowContext(ctx, `SELECT data FROM cal_events WHERE calendar_id = ? AND uid = ? AND user_id = ?`, calendarID, uid, userID))
	return e, errs.Map(err, "the event "+uid)
}

func (s *Store) ListEvents(ctx context.Context, userID, calendarID string, r calendar.Range, withDeleted bool) ([]calendar.Event, error) {
	q := `SELECT data FROM cal_events WHERE user_id = ?`
	args := []any{userID}
	if calendarID != "" {
		q += ` AND calendar_id = ?`
		args = append(args, calendarID)
	}
	if !withDeleted {
		q += ` AND deleted = 0`
	}
	if !r.To.IsZero() {
		q += ` AND start_at < ?`
		args = append(args, tv(r.To))
	}
	if !r.From.IsZero() {
		q += ` AND (end_at IS NULL OR end_at >= ?)`
		args = append(args, tv(r.From))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY start_at, id`, args...)
	if err != nil {
		return nil, errs.Map(err, "list events")
	}
	defer rows.Close()
	var out []calendar.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, errs.Map(err, "list events")
		}
		out = append(out, e)
	}
	return out, errs.Map(rows.Err(), "list events")
}

func (s *Store) DeleteEvent(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM cal_events WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, "delete the event "+id)
}
