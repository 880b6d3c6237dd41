package sqlitemem

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store"
)

// Progress keeps the memory worker's position in the memory tables of the
// same database (migration 00006): a watermark per conversation, a journal
// time per user, and the failed records with the user they belong to.
// Deleting a conversation or a user deletes its progress.
type Progress struct {
	db *sql.DB
	pg bool // PostgreSQL (NewProgressFor); SQLite otherwise
	// local are the work locks on SQLite (worklocks.go); shared by every
	// Progress of one Store.
	local *memory.LocalLocks
}

var _ memory.Progress = (*Progress)(nil)

// NewProgress returns the progress kept in db (the core store's SQLite
// database; NewProgressFor takes either dialect).
func NewProgress(db *sql.DB) *Progress { return &Progress{db: db, local: &memory.LocalLocks{}} }

// Progress is the worker's progress in the store's database.
func (s *Store) Progress() memory.Progress { return &Progress{db: s.db, pg: s.pg, local: s.locks} }

var _ memory.ProgressKeeper = (*Store)(nil)

// Watermark reads a conversation's watermark (zero when none).
func (p *Progress) Watermark(ctx context.Context, conversationID string) (w memory.Watermark, err error) {
	defer survive(&err, "read a memory watermark")
	err = p.db.QueryRowContext(ctx, `SELECT indexed, extracted FROM memory_watermarks WHERE conversation_id = ?`,
		conversationID).Scan(&w.Indexed, &w.Extracted)
	if err == sql.ErrNoRows {
		return memory.Watermark{}, nil
	}
	if err != nil {
		return memory.Watermark{}, fmt.Errorf("read the memory watermark of conversation %s: %w", conversationID, err)
	}
	return w, nil
}

// SetWatermark saves a conversation's watermark. A conversation that does
// not exist (deleted meanwhile) keeps none.
func (p *Progress) SetWatermark(ctx context.Context, conversationID string, w memory.Watermark) (err error) {
	defer survive(&err, "save a memory watermark")
	_, err = p.db.ExecContext(ctx, `INSERT INTO memory_watermarks (conversation_id, user_id, indexed, extracted)
		SELECT id, user_id, ?, ? FROM conversations WHERE id = ?
		ON CONFLICT (conversation_id) DO UPDATE SET indexed = excluded.indexed, extracted = excluded.extracted`,
		w.Indexed, w.Extracted, conversationID)
	return mapErr(err, "save the memory watermark of conversation "+conversationID)
}

// ForgetWatermark drops a conversation's watermark.
func (p *Progress) ForgetWatermark(ctx context.Context, conversationID string) (err error) {
	defer survive(&err, "forget a memory watermark")
	_, err = p.db.ExecContext(ctx, `DELETE FROM memory_watermarks WHERE conversation_id = ?`, conversationID)
	return mapErr(err, "forget the memory watermark of conversation "+conversationID)
}

// Journaled reads how far a user's journal goes (zero when none).
func (p *Progress) Journaled(ctx context.Context, userID string) (t time.Time, err error) {
	defer survive(&err, "read a journal position")
	var v string
	err = p.db.QueryRowContext(ctx, `SELECT journaled FROM memory_progress WHERE user_id = ?`, userID).Scan(&v)
	if err == sql.ErrNoRows || (err == nil && v == "") {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read how far the journal of user %s goes: %w", userID, err)
	}
	return time.Parse(time.RFC3339Nano, v)
}

// SetJournaled saves how far a user's journal goes.
func (p *Progress) SetJournaled(ctx context.Context, userID string, t time.Time) (err error) {
	defer survive(&err, "save a journal position")
	_, err = p.db.ExecContext(ctx, `INSERT INTO memory_progress (user_id, journaled) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET journaled = excluded.journaled`, userID, t.UTC().Format(time.RFC3339Nano))
	return mapErr(err, "save how far the journal of user "+userID+" goes")
}

// failureCols are memory_failures' columns as scanFailure reads them.
const failureCols = `kind, id, user_id, count, error, at, quarantined`

// scanFailure reads a row of failureCols.
func scanFailure(row interface{ Scan(...any) error }) (memory.Failure, error) {
	var f memory.Failure
	var at string
	var q int64
	if err := row.Scan(&f.Kind, &f.ID, &f.UserID, &f.Count, &f.Error, &at, &q); err != nil {
		return memory.Failure{}, err
	}
	f.Quarantined = q != 0
	if at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return memory.Failure{}, fmt.Errorf("memory failure %s %s has a bad time %q: %w", f.Kind, f.ID, at, err)
		}
		f.At = t
	}
	return f, nil
}

// Failures lists every user's failed records, oldest first.
func (p *Progress) Failures(ctx context.Context) (fs []memory.Failure, err error) {
	defer survive(&err, "read memory failures")
	order := "rowid"
	if p.pg {
		order = "seq" // PostgreSQL has no rowid: the migration adds seq
	}
	rows, err := p.db.QueryContext(ctx, `SELECT `+failureCols+` FROM memory_failures ORDER BY `+order)
	if err != nil {
		return nil, fmt.Errorf("read memory failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanFailure(rows)
		if err != nil {
			return nil, fmt.Errorf("read memory failures: %w", err)
		}
		fs = append(fs, f)
	}
	return fs, rows.Err()
}

// Failure reads one record's failure.
func (p *Progress) Failure(ctx context.Context, kind, id string) (f memory.Failure, found bool, err error) {
	defer survive(&err, "read a memory failure")
	f, err = scanFailure(p.db.QueryRowContext(ctx, `SELECT `+failureCols+` FROM memory_failures WHERE kind = ? AND id = ?`, kind, id))
	if err == sql.ErrNoRows {
		return memory.Failure{}, false, nil
	}
	if err != nil {
		return memory.Failure{}, false, fmt.Errorf("read the memory failure of %s %s: %w", kind, id, err)
	}
	return f, true, nil
}

// CountPanic adds one to the record's count in one statement: a first
// panic inserts the row, a later one (of this worker or another on the
// same database) increments it where it is, so concurrent panics add up
// on both SQLite and PostgreSQL; the quarantine follows from the count so
// reached. A user who no longer exists gets no row.
func (p *Progress) CountPanic(ctx context.Context, f memory.Failure, quarantineAfter int) (saved memory.Failure, err error) {
	defer survive(&err, "count a memory failure")
	at := ""
	if !f.At.IsZero() {
		at = f.At.UTC().Format(time.RFC3339Nano)
	}
	saved, err = scanFailure(p.db.QueryRowContext(ctx, `INSERT INTO memory_failures (`+failureCols+`)
		SELECT ?, ?, id, 1, ?, ?, CASE WHEN 1 >= CAST(? AS BIGINT) THEN 1 ELSE 0 END FROM users WHERE id = ?
		ON CONFLICT (kind, id) DO UPDATE SET count = memory_failures.count + 1, error = excluded.error, at = excluded.at,
			quarantined = CASE WHEN memory_failures.count + 1 >= CAST(? AS BIGINT) THEN 1 ELSE memory_failures.quarantined END
		RETURNING `+failureCols,
		f.Kind, f.ID, f.Error, at, quarantineAfter, f.UserID, quarantineAfter))
	if err == sql.ErrNoRows {
		return memory.Failure{}, nil
	}
	if err != nil {
		return memory.Failure{}, fmt.Errorf("count a panic of memory %s %s: %w", f.Kind, f.ID, err)
	}
	return saved, nil
}

// ForgetFailure deletes the record's row unless it is quarantined.
func (p *Progress) ForgetFailure(ctx context.Context, kind, id string) (err error) {
	defer survive(&err, "forget a memory failure")
	_, err = p.db.ExecContext(ctx, `DELETE FROM memory_failures WHERE kind = ? AND id = ? AND quarantined = 0`, kind, id)
	return mapErr(err, "forget the memory failure of "+kind+" "+id)
}

// ReleaseFailure deletes one row: the user's quarantined record with that
// ID (were a conversation and a journal to share it, the conversation).
func (p *Progress) ReleaseFailure(ctx context.Context, userID, id string) (f memory.Failure, err error) {
	defer survive(&err, "release a memory failure")
	f, err = scanFailure(p.db.QueryRowContext(ctx, `DELETE FROM memory_failures
		WHERE id = ? AND quarantined = 1 AND kind = (SELECT min(kind) FROM memory_failures WHERE id = ? AND user_id = ? AND quarantined = 1)
		RETURNING `+failureCols, id, id, userID))
	if err == sql.ErrNoRows {
		return memory.Failure{}, fmt.Errorf("no quarantined memory record %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return memory.Failure{}, fmt.Errorf("release memory record %s: %w", id, err)
	}
	return f, nil
}

// SetFailures replaces the whole list (tests, restoring a copy; the worker
// counts with CountPanic). A failure of a user who no longer exists
// is dropped with them. A record listed twice keeps its last entry, in the
// last one's place.
func (p *Progress) SetFailures(ctx context.Context, fs []memory.Failure) (err error) {
	defer survive(&err, "save memory failures")
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save memory failures: %w", err)
	}
	defer tx.Rollback()
	// Two writers replacing the list on PostgreSQL take turns (SQLite
	// runs one writer at a time).
	if err := lockKeys(ctx, tx, p.pg, "failures"); err != nil {
		return fmt.Errorf("save memory failures: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM memory_failures`); err != nil {
		return fmt.Errorf("save memory failures: %w", err)
	}
	last := map[[2]string]int{}
	for i, f := range fs {
		last[[2]string{f.Kind, f.ID}] = i
	}
	for i, f := range fs {
		if last[[2]string{f.Kind, f.ID}] != i {
			continue
		}
		at := ""
		if !f.At.IsZero() {
			at = f.At.UTC().Format(time.RFC3339Nano)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO memory_failures (kind, id, user_id, count, error, at, quarantined)
			SELECT ?, ?, id, ?, ?, ?, ? FROM users WHERE id = ?`,
			f.Kind, f.ID, f.Count, f.Error, at, b01(f.Quarantined), f.UserID); err != nil {
			return fmt.Errorf("save memory failure %s %s: %w", f.Kind, f.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save memory failures: %w", err)
	}
	return nil
}
