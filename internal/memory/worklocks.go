package memory

import (
	"context"
	"errors"
	"sync"
	"time"
)

// WorkLocks keep memory's background work on one record (a conversation's
// indexing and extraction, a user's journal) to one worker at a time, also
// across the processes of a cluster that share a database: the worker holds
// the record's lock while it reads how far the record got, calls the model
// and saves the result, so a second worker given the same record waits and
// then finds nothing left to do.
//
// sqlitemem's Progress implements it: on PostgreSQL with a session-level
// advisory lock per record, on SQLite (one process) with LocalLocks.
type WorkLocks interface {
	// LockWork waits until the record's lock is free and takes it. It
	// returns ErrWorkLocked when the lock is not free within wait (0: no
	// bound), or ctx's error. kind is FailedConversation (id: the
	// conversation's) or FailedJournal (id: the user's). release gives the
	// lock back; calling it more than once does nothing.
	LockWork(ctx context.Context, kind, id string, wait time.Duration) (release func(), err error)
}

// ErrWorkLocked is LockWork's answer when another worker kept the record
// for longer than the caller would wait.
var ErrWorkLocked = errors.New("another worker is working on it")

// LocalLocks are WorkLocks within one process: one lock per record. The
// zero value is ready to use; it must not be copied after first use.
type LocalLocks struct {
	mu   sync.Mutex
	held map[string]*localLock
}

type localLock struct {
	free    chan struct{} // closed when released
	waiting int
}

var _ WorkLocks = (*LocalLocks)(nil)

// LockWork implements WorkLocks.
func (l *LocalLocks) LockWork(ctx context.Context, kind, id string, wait time.Duration) (func(), error) {
	key := kind + ":" + id
	var timeout <-chan time.Time
	if wait > 0 {
		// The bound is on the wall clock, as on PostgreSQL (lock_timeout).
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]*localLock{}
		}
		h, busy := l.held[key]
		if !busy {
			h = &localLock{free: make(chan struct{})}
			l.held[key] = h
			l.mu.Unlock()
			return sync.OnceFunc(func() {
				l.mu.Lock()
				delete(l.held, key)
				l.mu.Unlock()
				close(h.free)
			}), nil
		}
		h.waiting++
		l.mu.Unlock()
		var err error
		select {
		case <-h.free:
		case <-ctx.Done():
			err = ctx.Err()
		case <-timeout:
			err = ErrWorkLocked
		}
		l.mu.Lock()
		h.waiting--
		l.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// Waiting reports how many callers wait for the record's lock.
func (l *LocalLocks) Waiting(kind, id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.held[kind+":"+id]; ok {
		return h.waiting
	}
	return 0
}
