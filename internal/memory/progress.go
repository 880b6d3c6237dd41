package memory

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Watermark is how far the worker got in one conversation: the IDs of the
// last messages indexed and extracted ("" before the first). Extraction
// never passes indexing.
type Watermark struct {
	Indexed   string `json:"indexed"`
	Extracted string `json:"extracted"`
}

// Progress keeps the worker's position durably, so that a restart or a full
// queue loses nothing: whatever is past a watermark is done again.
type Progress interface {
	Watermark(ctx context.Context, conversationID string) (Watermark, error) // zero when none
	SetWatermark(ctx context.Context, conversationID string, w Watermark) error
	ForgetWatermark(ctx context.Context, conversationID string) error
	// Journaled is the time of the newest message consolidated into a
	// journal entry for the user (zero when none).
	Journaled(ctx context.Context, userID string) (time.Time, error)
	SetJournaled(ctx context.Context, userID string, t time.Time) error
	// Failures are the records whose processing panicked (see Failure).
	// Each is a row of its own, changed one at a time, so that several
	// workers on one database (the nodes of a cluster) add up their counts.
	Failures(ctx context.Context) ([]Failure, error)
	// Failure reads one record's failure (found false when it has none).
	Failure(ctx context.Context, kind, id string) (f Failure, found bool, err error)
	// CountPanic counts one more panic of the record (f's Kind, ID and
	// UserID) in the store, atomically, with f's Error and At as the last
	// one's; at quarantineAfter panics, counted by every worker together,
	// the record is quarantined. It returns the failure as saved (the
	// zero Failure when the user no longer exists).
	CountPanic(ctx context.Context, f Failure, quarantineAfter int) (Failure, error)
	// ForgetFailure drops the count of a record that succeeded; a
	// quarantined one stays until released.
	ForgetFailure(ctx context.Context, kind, id string) error
	// ReleaseFailure deletes the user's quarantined record with that ID
	// and returns it; ErrNotFound (package store) when there is none.
	ReleaseFailure(ctx context.Context, userID, id string) (Failure, error)
	// SetFailures replaces the whole list (tests, restoring a copy); the
	// worker never calls it.
	SetFailures(ctx context.Context, fs []Failure) error
}

// ProgressKeeper is a memory store that also keeps the worker's Progress
// in its database (sqlitemem does, per user).
type ProgressKeeper interface {
	Progress() Progress
}

// ProgressOf is p, else the progress m keeps; a worker without one would
// redo everything at every start, so that is a wiring mistake (it panics,
// naming who).
func ProgressOf(p Progress, m Store, who string) Progress {
	if p != nil {
		return p
	}
	if k, ok := m.(ProgressKeeper); ok {
		return k.Progress()
	}
	panic(who + ": no Progress given and the memory store keeps none")
}

// QuarantineAfter is how many panics quarantine a record.
const QuarantineAfter = 3

// Record kinds of a Failure.
const (
	FailedConversation = "conversation" // ID is the conversation ID
	FailedJournal      = "journal"      // ID is the user ID
)

// Failure is a record whose processing panicked, which the worker
// (package worker) recovered from. After QuarantineAfter panics the record
// is quarantined: skipped, also after a restart, and listed by `os1 doctor`
// and on the memory page until released.
type Failure struct {
	Kind        string    `json:"kind"` // FailedConversation or FailedJournal
	ID          string    `json:"id"`
	UserID      string    `json:"user_id"`
	Count       int       `json:"count"` // panics so far
	Error       string    `json:"error"` // the last panic's value, shortened
	At          time.Time `json:"at"`    // of the last panic
	Quarantined bool      `json:"quarantined"`
}

// Quarantined returns the quarantined records, of one user or (userID "")
// of all.
func Quarantined(ctx context.Context, p Progress, userID string) ([]Failure, error) {
	fs, err := p.Failures(ctx)
	if err != nil {
		return nil, fmt.Errorf("read quarantined memory records: %w", err)
	}
	return slices.DeleteFunc(fs, func(f Failure) bool { return !f.Quarantined || (userID != "" && f.UserID != userID) }), nil
}

// Release takes a record out of quarantine, offline (no worker running:
// `os1 memory retry`). ErrNotFound unless the user has a quarantined record
// with that ID. Workers see it at once (they read the quarantine from the
// store); the next start's catch-up tries it again.
func Release(ctx context.Context, p Progress, userID, id string) (Failure, error) {
	return p.ReleaseFailure(ctx, userID, id)
}
