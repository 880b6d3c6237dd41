package worker

import (
	"context"
	"fmt"
	"time"
)

// DefaultLockWait is how long a record waits for another worker's lock
// before it is put off to a retry (Options.LockWait).
const DefaultLockWait = time.Minute

// locked runs f holding the record's lock (Deps.Locks): on a cluster two
// nodes' workers given one conversation (two jobs of it, or both catching
// up at start-up), or ticking into one user's journal together, take turns,
// and the second reads the watermark (or journal position) the first left,
// so it repeats nothing. A lock not free within Options.LockWait fails the
// record, which is retried later with the usual backoff rather than keeping
// this worker from everything else.
func (s *Service) locked(ctx context.Context, kind, id string, f func() error) error {
	release, err := s.d.Locks.LockWork(ctx, kind, id, s.opts.LockWait)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("memory: %s %s is worked on elsewhere (waited up to %s): %w", kind, id, s.opts.LockWait, err)
	}
	defer release()
	return f()
}
