// Package sqlitesched keeps the scheduler's jobs and users' quiet hours in
// os1's SQL database: SQLite (migration 00012_schedule.sql) or PostgreSQL
// (internal/store/postgres migration 00005_schedule.sql), with the same
// queries.
//
// A claim is one UPDATE … RETURNING. SQLite runs one writer at a time, so
// two schedulers on one file never claim the same job. PostgreSQL runs
// claims at once: there the candidate rows are taken with FOR UPDATE SKIP
// LOCKED (a row another claimer holds is passed over, not waited for), and
// the UPDATE checks again that each row is still claimable, so two nodes
// never claim the same job either. Every query on a
// user's jobs is scoped by user ID; another user's ids answer
// schedule.ErrNotFound. It must never log a job's payload (a reminder's
// words are the user's).
package sqlitesched

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{
	NotFound: schedule.ErrNotFound,
	Conflict: schedule.ErrConflict,
	Dangling: "the user does not exist:",
}

// Store is the SQL schedule store.
type Store struct {
	db *sql.DB
	// lock is the locking clause of a claim's candidate rows: none on
	// SQLite (one writer at a time), FOR UPDATE SKIP LOCKED on PostgreSQL.
	lock string
}

var _ schedule.Store = (*Store)(nil)

// New returns the schedule store of db.
func New(db sqldb.Handle) *Store {
	s := &Store{db: db.SQL()}
	if db.Dialect() == sqldb.Postgres {
		s.lock = ` FOR UPDATE SKIP LOCKED`
	}
	return s
}

const cols = `id, user_id, kind, payload, due, state, attempts, claim_token, claimed_until, created_at, fired_at, note`

type scanner interface{ Scan(...any) error }

func scan(r scanner) (schedule.Job, error) {
	var j schedule.Job
	var payload string
	err := r.Scan(&j.ID, &j.UserID, &j.Kind, &payload, ts(&j.Due), &j.State, &j.Attempts, &j.Token,
		ts(&j.ClaimedUntil), ts(&j.CreatedAt), ts(&j.FiredAt), &j.Note)
	j.Payload = []byte(payload)
	return j, err
}

func ts(t *time.Time) sqltime.Scanner { return sqltime.Scanner{T: t} }

type tv = sqltime.Value

// AddJob stores a new job.
func (s *Store) AddJob(ctx context.Context, j schedule.Job) error {
	if j.Due.IsZero() {
		return fmt.Errorf("schedule job %s: it has no due time", j.ID)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO schedule_jobs (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.UserID, j.Kind, string(j.Payload), tv(j.Due), string(j.State), j.Attempts, j.Token, tv(j.ClaimedUntil),
		tv(j.CreatedAt), tv(j.FiredAt), j.Note)
	return errs.Map(err, "schedule job "+j.ID)
}

// Job returns one of the user's jobs.
func (s *Store) Job(ctx context.Context, userID, id string) (schedule.Job, error) {
	j, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM schedule_jobs WHERE id = ? AND user_id = ?`, id, userID))
	return j, errs.Map(err, "scheduled job "+id)
}

// ListJobs returns the user's jobs matching f, soonest due first.
func (s *Store) ListJobs(ctx context.Context, userID string, f schedule.Filter) ([]schedule.Job, error) {
	q := `SELECT ` + cols + ` FROM schedule_jobs WHERE user_id = ?`
	args := []any{userID}
	if len(f.Kinds) > 0 {
		q += ` AND kind IN (` + marks(len(f.Kinds)) + `)`
		for _, k := range f.Kinds {
			args = append(args, k)
		}
	}
	if len(f.States) > 0 {
		q += ` AND state IN (` + marks(len(f.States)) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = schedule.DefaultLimit
	case limit > schedule.MaxLimit:
		limit = schedule.MaxLimit
	}
	q += ` ORDER BY due, id LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, errs.Map(err, "list scheduled jobs")
	}
	defer rows.Close()
	var out []schedule.Job
	for rows.Next() {
		j, err := scan(rows)
		if err != nil {
			return nil, errs.Map(err, "list scheduled jobs")
		}
		out = append(out, j)
	}
	return out, errs.Map(rows.Err(), "list scheduled jobs")
}

// Reschedule makes a job that is not running pending again at due.
func (s *Store) Reschedule(ctx context.Context, userID, id string, due time.Time, note string) (schedule.Job, error) {
	j, err := scan(s.db.QueryRowContext(ctx, `UPDATE schedule_jobs SET state = 'pending', due = ?, attempts = 0,
		claim_token = '', claimed_until = NULL, fired_at = NULL, note = ?
		WHERE id = ? AND user_id = ? AND state != 'running' RETURNING `+cols, tv(due), note, id, userID))
	if err == sql.ErrNoRows {
		return schedule.Job{}, s.why(ctx, userID, id, "reschedule")
	}
	return j, errs.Map(err, "reschedule job "+id)
}

// Cancel turns a pending job into a skipped one.
func (s *Store) Cancel(ctx context.Context, userID, id, note string, at time.Time) (schedule.Job, error) {
	j, err := scan(s.db.QueryRowContext(ctx, `UPDATE schedule_jobs SET state = 'skipped', note = ?, fired_at = ?
		WHERE id = ? AND user_id = ? AND state = 'pending' RETURNING `+cols, note, tv(at), id, userID))
	if err == sql.ErrNoRows {
		return schedule.Job{}, s.why(ctx, userID, id, "cancel")
	}
	return j, errs.Map(err, "cancel job "+id)
}

// why tells ErrNotFound from ErrNotPending after an update matched nothing.
func (s *Store) why(ctx context.Context, userID, id, what string) error {
	j, err := s.Job(ctx, userID, id)
	if err != nil {
		return fmt.Errorf("%s job %s: %w", what, id, err)
	}
	return fmt.Errorf("%s job %s (it is %s): %w", what, id, j.State, schedule.ErrNotPending)
}

// Claim takes up to limit due jobs in one UPDATE … RETURNING.
func (s *Store) Claim(ctx context.Context, kinds []string, now time.Time, lease time.Duration, token string, limit int) ([]schedule.Job, error) {
	if len(kinds) == 0 || limit <= 0 {
		return nil, nil
	}
	k := marks(len(kinds))
	// Each half walks its own partial index in due order and stops at
	// limit; the union of the two is at most 2*limit rows. The outer
	// WHERE asks again whether each row is claimable: on PostgreSQL a row
	// claimed meanwhile by another node is read again at its new version
	// and left alone.
	q := `UPDATE schedule_jobs SET state = 'running', claim_token = ?, claimed_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM (
			SELECT * FROM (SELECT id, due AS t FROM schedule_jobs WHERE state = 'pending' AND due <= ? AND kind IN (` + k + `) ORDER BY due LIMIT ?` + s.lock + `) AS p
			UNION ALL
			SELECT * FROM (SELECT id, claimed_until AS t FROM schedule_jobs WHERE state = 'running' AND claimed_until <= ? AND kind IN (` + k + `) ORDER BY claimed_until LIMIT ?` + s.lock + `) AS r
		) AS c ORDER BY t LIMIT ?)
		AND ((state = 'pending' AND due <= ?) OR (state = 'running' AND claimed_until <= ?))
		RETURNING ` + cols
	args := []any{token, tv(now.Add(lease)), tv(now)}
	for _, kind := range kinds {
		args = append(args, kind)
	}
	args = append(args, limit, tv(now))
	for _, kind := range kinds {
		args = append(args, kind)
	}
	args = append(args, limit, limit, tv(now), tv(now))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, errs.Map(err, "claim due jobs")
	}
	defer rows.Close()
	var out []schedule.Job
	for rows.Next() {
		j, err := scan(rows)
		if err != nil {
			return nil, errs.Map(err, "claim due jobs")
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Map(err, "claim due jobs")
	}
	return out, nil
}

// Settle ends claims in one transaction.
func (s *Store) Settle(ctx context.Context, outs ...schedule.Outcome) (err error) {
	if len(outs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.Map(err, "settle jobs")
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	end, err := tx.PrepareContext(ctx, `UPDATE schedule_jobs SET state = ?, note = ?, fired_at = ?, claim_token = '', claimed_until = NULL
		WHERE id = ? AND claim_token = ? AND state = 'running'`)
	if err != nil {
		return errs.Map(err, "settle jobs")
	}
	back, err := tx.PrepareContext(ctx, `UPDATE schedule_jobs SET state = 'pending', due = ?, note = ?, attempts = 0, claim_token = '', claimed_until = NULL
		WHERE id = ? AND claim_token = ? AND state = 'running'`)
	if err != nil {
		return errs.Map(err, "settle jobs")
	}
	var lostOnes []error
	for _, o := range outs {
		var res sql.Result
		if o.State == schedule.Pending {
			res, err = back.ExecContext(ctx, tv(o.Due), o.Note, o.ID, o.Token)
		} else {
			res, err = end.ExecContext(ctx, string(o.State), o.Note, tv(o.At), o.ID, o.Token)
		}
		if err := lost(res, err, "settle job "+o.ID); errors.Is(err, schedule.ErrLostClaim) {
			lostOnes = append(lostOnes, err)
		} else if err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return errs.Map(err, "settle jobs")
	}
	return errors.Join(lostOnes...)
}

func lost(res sql.Result, err error, what string) error {
	if err != nil {
		return errs.Map(err, what)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, schedule.ErrLostClaim)
	}
	return nil
}

// NextDue is the soonest a job of kinds becomes claimable.
func (s *Store) NextDue(ctx context.Context, kinds []string) (time.Time, bool, error) {
	if len(kinds) == 0 {
		return time.Time{}, false, nil
	}
	k := marks(len(kinds))
	args := make([]any, 0, 2*len(kinds))
	for range 2 {
		for _, kind := range kinds {
			args = append(args, kind)
		}
	}
	// min() of a column has no declared type, so the driver may hand the
	// text back already read as a time: both are taken.
	var raw any
	err := s.db.QueryRowContext(ctx, `SELECT min(t) FROM (
		SELECT min(due) AS t FROM schedule_jobs WHERE state = 'pending' AND kind IN (`+k+`)
		UNION ALL
		SELECT min(claimed_until) FROM schedule_jobs WHERE state = 'running' AND kind IN (`+k+`)) AS n`, args...).Scan(&raw)
	if err != nil {
		return time.Time{}, false, errs.Map(err, "next due job")
	}
	var at time.Time
	switch v := raw.(type) {
	case time.Time:
		at = v
	case nil:
	default:
		if err := ts(&at).Scan(v); err != nil {
			return time.Time{}, false, fmt.Errorf("next due job: %w", err)
		}
	}
	return at, !at.IsZero(), nil
}

// QuietHours returns the user's quiet hours; none is the zero value.
func (s *Store) QuietHours(ctx context.Context, userID string) (schedule.QuietHours, error) {
	var q schedule.QuietHours
	err := s.db.QueryRowContext(ctx, `SELECT start_minute, end_minute FROM schedule_quiet_hours WHERE user_id = ?`, userID).
		Scan(&q.Start, &q.End)
	if err == sql.ErrNoRows {
		return schedule.QuietHours{}, nil
	}
	return q, errs.Map(err, "quiet hours")
}

// SetQuietHours replaces the user's quiet hours.
func (s *Store) SetQuietHours(ctx context.Context, userID string, q schedule.QuietHours) error {
	if err := q.Valid(); err != nil {
		return err
	}
	if q.Off() {
		_, err := s.db.ExecContext(ctx, `DELETE FROM schedule_quiet_hours WHERE user_id = ?`, userID)
		return errs.Map(err, "clear quiet hours")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO schedule_quiet_hours (user_id, start_minute, end_minute) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET start_minute = excluded.start_minute, end_minute = excluded.end_minute`,
		userID, q.Start, q.End)
	return errs.Map(err, "set quiet hours")
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }
