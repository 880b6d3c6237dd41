// Package schedule is os1's durable job scheduler: work that must happen
// once, at a time (a reminder, a wake-up, later a meeting brief or a
// promised follow-up), kept in the database so it survives restarts and
// crashes.
//
// A job is claimed atomically (state pending → running with a fresh claim
// token and a lease) and finished only by the holder of that token, so two
// schedulers on one database never both run it, and a restart never repeats
// a job that is done. A claim whose process died runs again after its
// lease. What happens to a job that fell due while no scheduler was running
// is the kind's Missed policy: fire late (the handler is told how late) or
// skip, with a note on the job either way.
//
// Time comes only from the injected clock.Clock: one timer for the next due
// job, reset when a sooner job is added; there is no polling loop, so tests
// run on clock.Fake. The package must never run a handler's effect twice on
// purpose, never lose a job silently (failures are kept with their reason),
// and never let a handler's panic take the process down.
package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// State is where a job is in its life.
type State string

const (
	Pending State = "pending" // waiting for its due time
	Running State = "running" // claimed by a scheduler until its lease ends
	Done    State = "done"    // its handler succeeded
	Skipped State = "skipped" // missed under the Skip policy, or cancelled
	Failed  State = "failed"  // its handler failed or panicked; Note says why
)

// Job is one scheduled piece of work of a user.
type Job struct {
	ID      string
	UserID  string
	Kind    string          // which handler runs it ("reminder", "wakeup")
	Payload json.RawMessage // the kind's own data, JSON
	Due     time.Time
	State   State
	// Attempts counts claims since it was added, snoozed or deferred: 1 on
	// the first run, more after a crash (the claim's lease ran out).
	Attempts     int
	Token        string    // the current claim's token; "" unless running
	ClaimedUntil time.Time // the current claim's lease; zero unless running
	CreatedAt    time.Time
	FiredAt      time.Time // when its handler finished; zero until then
	// Note says what happened, in words for the user: "fired 2h late: os1
	// was not running", "cancelled", a handler's error.
	Note string
}

// Outcome is how one claim of a job ended.
type Outcome struct {
	ID, Token string
	// State is Done, Skipped or Failed, with FiredAt set to At; or Pending,
	// which puts the job back, due at Due, with attempts reset (a deferral
	// or a shutdown is not a crash).
	State State
	Note  string
	At    time.Time
	Due   time.Time
}

// Filter selects a user's jobs. Zero fields match all.
type Filter struct {
	Kinds  []string
	States []State
	Limit  int // 0: DefaultLimit; capped at MaxLimit
}

// Listing limits.
const (
	DefaultLimit = 200
	MaxLimit     = 5000
)

// QuietHours is when a user does not want to be reached, in their own
// zone, as minutes after midnight. Start == End means none; End < Start
// crosses midnight (22:00 to 07:00).
type QuietHours struct {
	Start, End int
}

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrNotFound: no such job of this user.
	ErrNotFound = errors.New("no such scheduled job")
	// ErrConflict: a job with that ID exists.
	ErrConflict = errors.New("a scheduled job with that id exists")
	// ErrLostClaim: the job is no longer held with this token (its lease
	// ran out and another scheduler claimed it, or it was cancelled).
	ErrLostClaim = errors.New("the job's claim was lost")
	// ErrNotPending: the job has already run, is running, or was cancelled.
	ErrNotPending = errors.New("the job is not waiting to run")
	// ErrNoHandler: no handler is registered for the job's kind.
	ErrNoHandler = errors.New("no handler for this kind of job")
)

// Jobs is the storage of scheduled jobs. Every method taking a userID is
// scoped by it: another user's job is ErrNotFound. The claim methods are
// the scheduler's and span users.
type Jobs interface {
	// AddJob stores a new pending job. ErrConflict when its ID is taken;
	// ErrNotFound when its user does not exist.
	AddJob(ctx context.Context, j Job) error
	// Job returns one of the user's jobs.
	Job(ctx context.Context, userID, id string) (Job, error)
	// ListJobs returns the user's jobs matching f, soonest due first.
	ListJobs(ctx context.Context, userID string, f Filter) ([]Job, error)
	// Reschedule makes a job that is not running pending again at due
	// (a snooze), with attempts reset. ErrNotPending when it is running.
	Reschedule(ctx context.Context, userID, id string, due time.Time, note string) (Job, error)
	// Cancel turns a pending job into a skipped one with note.
	// ErrNotPending when it is not pending.
	Cancel(ctx context.Context, userID, id, note string, at time.Time) (Job, error)

	// Claim takes up to limit jobs of kinds that are due at now (pending
	// with Due <= now, or running with a lease that ended at or before
	// now), soonest first, in one atomic step: each becomes running with
	// token, a lease until now+lease, and one more attempt.
	Claim(ctx context.Context, kinds []string, now time.Time, lease time.Duration, token string, limit int) ([]Job, error)
	// Settle ends claims, all in one transaction: each job becomes its
	// Outcome's state. A claim no longer held with its token (the lease
	// ran out and another scheduler took the job) is left alone, and
	// reported in the error as ErrLostClaim; the others are still settled.
	Settle(ctx context.Context, outs ...Outcome) error
	// NextDue is the soonest time a job of kinds becomes claimable: a
	// pending job's due or a running job's lease end. ok is false when
	// there is none.
	NextDue(ctx context.Context, kinds []string) (at time.Time, ok bool, err error)
}

// Quiet is the storage of users' quiet hours.
type Quiet interface {
	// QuietHours returns the user's; none set is the zero QuietHours.
	QuietHours(ctx context.Context, userID string) (QuietHours, error)
	// SetQuietHours replaces them; the zero QuietHours clears them.
	// Setting them for a user who does not exist is ErrNotFound.
	SetQuietHours(ctx context.Context, userID string, q QuietHours) error
}

// Store is everything a scheduler backend keeps.
type Store interface {
	Jobs
	Quiet
}

// Valid reports whether q's minutes are within a day.
func (q QuietHours) Valid() error {
	if q.Start < 0 || q.Start >= 24*60 || q.End < 0 || q.End >= 24*60 {
		return fmt.Errorf("quiet hours %d-%d: each end is minutes after midnight, 0 to 1439", q.Start, q.End)
	}
	return nil
}

// Off reports whether q holds no quiet time.
func (q QuietHours) Off() bool { return q.Start == q.End }

// String is "22:00-07:00", or "off".
func (q QuietHours) String() string {
	if q.Off() {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// ParseQuietHours reads "22:00-07:00"; "" and "off" are none.
func ParseQuietHours(s string) (QuietHours, error) {
	if s == "" || s == "off" {
		return QuietHours{}, nil
	}
	var h1, m1, h2, m2 int
	if n, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || n != 4 ||
		h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0 {
		return QuietHours{}, fmt.Errorf("quiet hours %q: write them as HH:MM-HH:MM, e.g. 22:00-07:00", s)
	}
	return QuietHours{Start: h1*60 + m1, End: h2*60 + m2}, nil
}

// Until reports whether t falls in q in loc and, if so, when the quiet
// time ends (the next End after t, on the local wall clock; an End that a
// DST change skips is Local's rule).
func (q QuietHours) Until(t time.Time, loc *time.Location) (time.Time, bool) {
	if q.Off() {
		return time.Time{}, false
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	in := false
	if q.Start < q.End {
		in = m >= q.Start && m < q.End
	} else {
		in = m >= q.Start || m < q.End
	}
	if !in {
		return time.Time{}, false
	}
	day := lt
	if m >= q.End { // the end is tomorrow
		day = lt.AddDate(0, 0, 1)
	}
	end, _ := Local(day.Year(), day.Month(), day.Day(), q.End/60, q.End%60, loc)
	return end, true
}
