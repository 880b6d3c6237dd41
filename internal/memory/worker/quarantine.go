package worker

import (
	"context"
	"errors"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"runtime/debug"
	"slices"

	"github.com/os1ai/os1/internal/store"
)

// Quarantine: the memory worker recovers a panic in its work on one record
// (a conversation's indexing and extraction, a user's journal), logs it,
// counts it against that record and goes on with the others. After
// QuarantineAfter panics the record is quarantined: skipped, also after a
// restart, and listed by `os1 doctor` and on the memory page, instead of
// crash-looping the server. Failures that return an error (the model is
// down) are retried with backoff and never quarantine anything.

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
	return slices.IndexFunc(s.failures, func(f memory.Failure) bool { return f.Kind == kind && f.ID == id })
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
			s.failures = append(s.failures, memory.Failure{Kind: kind, ID: id, UserID: userID})
			i = len(s.failures) - 1
		}
		f := &s.failures[i]
		f.Count++
		f.Error = memory.ShortenUTF8(err.Error(), 300)
		f.At = s.d.Clock.Now().UTC()
		if f.Count >= memory.QuarantineAfter && !f.Quarantined {
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

// Release takes a record out of quarantine in the running worker and tries
// it again at once (a conversation) or at the next tick (a journal). Use it
// after the cause was fixed; if it panics again it counts afresh.
func (s *Service) Release(ctx context.Context, userID, id string) error {
	return s.call(ctx, ctlReq{release: &memory.Failure{UserID: userID, ID: id}})
}

// release runs in the loop: it forgets the failure and reports which
// conversation to retry ("" for none).
func (s *Service) release(ctx context.Context, r memory.Failure) (retry string, err error) {
	i := slices.IndexFunc(s.failures, func(f memory.Failure) bool { return f.Quarantined && f.UserID == r.UserID && f.ID == r.ID })
	if i < 0 {
		return "", fmt.Errorf("no quarantined memory record %q: %w", r.ID, store.ErrNotFound)
	}
	f := s.failures[i]
	s.failures = slices.Delete(s.failures, i, i+1)
	if err := s.d.Progress.SetFailures(context.WithoutCancel(ctx), s.failures); err != nil {
		return "", err
	}
	s.d.Log.Info("memory: released from quarantine", "kind", f.Kind, "id", f.ID, "user", f.UserID)
	if f.Kind == memory.FailedConversation {
		return f.ID, nil
	}
	return "", nil
}
