package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

// DefaultLockWait is how long a record waits for another worker's lock
// before it is put off to a retry (Options.LockWait).
const DefaultLockWait = time.Minute

// locked runs f holding the record's lock (Deps.Locks): on a cluster two
// nodes' workers given one conversation (two jobs of it, or both catching
// up at start-up) take turns, and the second reads the watermark the first
// left, so it repeats nothing. A lock not free within wait fails the
// record, which is retried later with the usual backoff rather than keeping
// this worker from everything else.
func (s *Service) locked(ctx context.Context, kind, id string, wait time.Duration, f func() error) error {
	release, err := s.d.Locks.LockWork(ctx, kind, id, wait)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("memory: %s %s is worked on elsewhere (waited up to %s): %w", kind, id, wait, err)
	}
	defer release()
	return f()
}

// journalLockWait is how long a tick waits for a user's journal lock: a
// moment. A journal locked elsewhere is being written by another node,
// which reads every message up to now; what comes later is the next tick's.
const journalLockWait = time.Millisecond

// journalLocked runs f holding the user's journal lock, or skips it
// (nil) while another worker holds it.
func (s *Service) journalLocked(ctx context.Context, userID string, f func() error) error {
	err := s.locked(ctx, memory.FailedJournal, userID, journalLockWait, f)
	if errors.Is(err, memory.ErrWorkLocked) {
		s.d.Log.Debug("memory: another node writes this journal", "user", userID)
		return nil
	}
	return err
}
