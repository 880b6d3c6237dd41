package memory

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/os1ai/os1/internal/store"
)

// Quarantine: the memory worker recovers a panic in its work on one record
// (a conversation's indexing and extraction, a user's journal), logs it,
// counts it against that record and goes on with the others. After
// QuarantineAfter panics the record is quarantined: skipped, also after a
// restart, and listed by `os1 doctor` and on the memory page, instead of
// crash-looping the server. Failures that return an error (the model is
// down) are retried with backoff and never quarantine anything.

// QuarantineAfter is how many panics quarantine a record.
const QuarantineAfter = 3

// Record kinds of a Failure.
const (
	FailedConversation = "conversation" // ID is the conversation ID
	FailedJournal      = "journal"      // ID is the user ID
)

// Failure is a record whose processing panicked.
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

// errPanicked marks a failure that was a recovered panic.
var errPanicked = errors.New("panicked")

// guard runs f, turning a panic into an error (wrapping errPanicked) after
// logging it with its stack.
func (s *Service) guard(kind, id string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.d.Log.Error("memory: recovered a panic", "kind", kind, "id", id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("memory %s %s: %w: %v", kind, id, errPanicked, r)
		}
	}()
	return f()
}

// quarantined reports whether the record is quarantined.
func (s *Service) quarantined(kind, id string) bool {
	i := s.failureAt(kind, id)
	return i >= 0 && s.failures[i].Quarantined
}

func (s *Service) failureAt(kind, id string) int {
	return slices.IndexFunc(s.failures, func(f Failure) bool { return f.Kind == kind && f.ID == id })
}

// outcome counts a panic against the record, quarantining it at
// QuarantineAfter, or forgets its count once it succeeds; changes are
// saved at once, so a restart knows them.
func (s *Service) outcome(ctx context.Context, kind, id, userID string, err error) {
	i := s.failureAt(kind, id)
	switch {
	case err == nil && i >= 0:
		s.failures = slices.Delete(s.failures, i, i+1)
	case errors.Is(err, errPanicked):
		if i < 0 {
			s.failures = append(s.failures, Failure{Kind: kind, ID: id, UserID: userID})
			i = len(s.failures) - 1
		}
		f := &s.failures[i]
		f.Count++
		f.Error = ShortenUTF8(err.Error(), 300)
		f.At = s.d.Clock.Now().UTC()
		if f.Count >= QuarantineAfter && !f.Quarantined {
			f.Quarantined = true
			s.d.Log.Error("memory: quarantined after repeated panics; it is skipped until released (see os1 doctor)",
				"kind", kind, "id", id, "user", userID, "panics", f.Count)
			s.d.Meter.MemoryEvent("quarantine", 1)
		}
	default:
		return
	}
	if err := s.d.Progress.SetFailures(context.WithoutCancel(ctx), s.failures); err != nil {
		s.d.Log.Error("memory: could not save the failure count", "kind", kind, "id", id, "err", err)
	}
}

// loadFailures reads the failures at start-up; unreadable, the worker starts
// with none rather than not at all.
func (s *Service) loadFailures(ctx context.Context) {
	fs, err := s.d.Progress.Failures(ctx)
	if err != nil {
		s.d.Log.Error("memory: could not read quarantined records; starting without", "err", err)
	}
	s.failures = fs
}

// Release takes a record out of quarantine, offline (no worker running:
// `os1 memory retry`). ErrNotFound unless the user has a quarantined record
// with that ID. The next start's catch-up tries it again.
func Release(ctx context.Context, p Progress, userID, id string) (Failure, error) {
	fs, err := p.Failures(ctx)
	if err != nil {
		return Failure{}, err
	}
	i := slices.IndexFunc(fs, func(f Failure) bool { return f.Quarantined && f.UserID == userID && f.ID == id })
	if i < 0 {
		return Failure{}, fmt.Errorf("no quarantined memory record %q: %w", id, store.ErrNotFound)
	}
	f := fs[i]
	if err := p.SetFailures(ctx, slices.Delete(fs, i, i+1)); err != nil {
		return Failure{}, err
	}
	return f, nil
}

// Release takes a record out of quarantine in the running worker and tries
// it again at once (a conversation) or at the next tick (a journal). Use it
// after the cause was fixed; if it panics again it counts afresh.
func (s *Service) Release(ctx context.Context, userID, id string) error {
	return s.call(ctx, ctlReq{release: &Failure{UserID: userID, ID: id}})
}

// release runs in the loop: it forgets the failure and reports which
// conversation to retry ("" for none).
func (s *Service) release(ctx context.Context, r Failure) (retry string, err error) {
	i := slices.IndexFunc(s.failures, func(f Failure) bool { return f.Quarantined && f.UserID == r.UserID && f.ID == r.ID })
	if i < 0 {
		return "", fmt.Errorf("no quarantined memory record %q: %w", r.ID, store.ErrNotFound)
	}
	f := s.failures[i]
	s.failures = slices.Delete(s.failures, i, i+1)
	if err := s.d.Progress.SetFailures(context.WithoutCancel(ctx), s.failures); err != nil {
		return "", err
	}
	s.d.Log.Info("memory: released from quarantine", "kind", f.Kind, "id", f.ID, "user", f.UserID)
	if f.Kind == FailedConversation {
		return f.ID, nil
	}
	return "", nil
}
