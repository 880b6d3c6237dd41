package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/os1ai/os1/internal/memory"
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

// The counts live in the store, a row per record (Progress.CountPanic), so
// that the workers of several nodes on one database add up their panics and
// see each other's quarantines and releases: the worker reads a record's
// row where it decides whether to run it. s.failures is the last it read or
// counted, used only while the store cannot be read.

type failureKey struct{ kind, id string }

// quarantined reports whether the record is quarantined, as the store says.
func (s *Service) quarantined(ctx context.Context, kind, id string) bool {
	k := failureKey{kind, id}
	f, found, err := s.d.Progress.Failure(ctx, kind, id)
	if err != nil {
		if ctx.Err() == nil {
			s.d.Log.Error("memory: could not read whether a record is quarantined; going by what was read last", "kind", kind, "id", id, "err", err)
		}
		return s.failures[k].Quarantined
	}
	if found {
		s.failures[k] = f
	} else {
		delete(s.failures, k)
	}
	return f.Quarantined
}

// outcome counts a panic against the record in the store, where it is
// quarantined at QuarantineAfter panics of all workers together, or forgets
// its count once it succeeds.
func (s *Service) outcome(ctx context.Context, kind, id, userID string, err error) {
	k := failureKey{kind, id}
	ctx = context.WithoutCancel(ctx)
	switch {
	case err == nil:
		if _, known := s.failures[k]; !known {
			return
		}
		delete(s.failures, k)
		if err := s.d.Progress.ForgetFailure(ctx, kind, id); err != nil {
			s.d.Log.Error("memory: could not forget the failure count", "kind", kind, "id", id, "err", err)
		}
	case errors.Is(err, errPanicked):
		f := memory.Failure{Kind: kind, ID: id, UserID: userID, Error: memory.ShortenUTF8(err.Error(), 300), At: s.d.Clock.Now().UTC()}
		saved, serr := s.d.Progress.CountPanic(ctx, f, memory.QuarantineAfter)
		if serr != nil {
			// Counted here alone until the store answers again.
			s.d.Log.Error("memory: could not save the failure count", "kind", kind, "id", id, "err", serr)
			f.Count = s.failures[k].Count + 1
			f.Quarantined = s.failures[k].Quarantined || f.Count >= memory.QuarantineAfter
			saved = f
		}
		if saved.Kind == "" { // the user is gone
			delete(s.failures, k)
			return
		}
		s.failures[k] = saved
		// Exactly one panic, of one worker, reaches the count.
		if saved.Quarantined && saved.Count == memory.QuarantineAfter {
			s.d.Log.Error("memory: quarantined after repeated panics; it is skipped until released (see os1 doctor)",
				"kind", kind, "id", id, "user", userID, "panics", saved.Count)
			s.d.Meter.MemoryEvent("quarantine", 1)
		}
	}
}

// loadFailures reads the failures at start-up; unreadable, the worker starts
// with none rather than not at all.
func (s *Service) loadFailures(ctx context.Context) {
	fs, err := s.d.Progress.Failures(ctx)
	if err != nil {
		s.d.Log.Error("memory: could not read quarantined records; starting without", "err", err)
	}
	s.failures = make(map[failureKey]memory.Failure, len(fs))
	for _, f := range fs {
		s.failures[failureKey{f.Kind, f.ID}] = f
	}
}

// Release takes a record out of quarantine in the running worker and tries
// it again at once (a conversation) or at the next tick (a journal). Use it
// after the cause was fixed; if it panics again it counts afresh.
func (s *Service) Release(ctx context.Context, userID, id string) error {
	return s.call(ctx, ctlReq{release: &memory.Failure{UserID: userID, ID: id}})
}

// release runs in the loop: it deletes the record's row and reports which
// conversation to retry ("" for none).
func (s *Service) release(ctx context.Context, r memory.Failure) (retry string, err error) {
	f, err := s.d.Progress.ReleaseFailure(context.WithoutCancel(ctx), r.UserID, r.ID)
	if err != nil {
		return "", err
	}
	delete(s.failures, failureKey{f.Kind, f.ID})
	s.d.Log.Info("memory: released from quarantine", "kind", f.Kind, "id", f.ID, "user", f.UserID)
	if f.Kind == memory.FailedConversation {
		return f.ID, nil
	}
	return "", nil
}
