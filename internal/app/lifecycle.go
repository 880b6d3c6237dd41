package app

import (
	"context"
	"errors"
	"sync"
)

// Starter is a part that runs in the background once started (the memory
// worker). Start does not block on the work itself.
type Starter interface {
	Start(ctx context.Context) error
}

// Warmer is a part that can get ready ahead of its first use (a speech
// engine's resident process). Warming is an optimisation: a part that
// failed to warm still works.
type Warmer interface {
	Warm(ctx context.Context) error
}

// Closer is a part that holds something to give back: a database, a
// worker, a child process.
type Closer interface {
	Close() error
}

// closeFunc adapts a Close without an error.
type closeFunc func()

func (f closeFunc) Close() error { f(); return nil }

// lifecycle runs the parts an App owns: starters in the order they were
// built, closers in the reverse order (what was built on a part closes
// before it).
type lifecycle struct {
	starters  []Starter
	warmers   []Warmer
	closers   []Closer
	closeOnce sync.Once
	closeErr  error
}

func (l *lifecycle) onStart(s Starter) { l.starters = append(l.starters, s) }
func (l *lifecycle) onWarm(w Warmer)   { l.warmers = append(l.warmers, w) }
func (l *lifecycle) onClose(c Closer)  { l.closers = append(l.closers, c) }

// Start starts the background parts in order, stopping at the first that fails.
func (l *lifecycle) Start(ctx context.Context) error {
	for _, s := range l.starters {
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every part, last built first, once; later calls return the
// first call's error.
func (l *lifecycle) Close() error {
	l.closeOnce.Do(func() {
		var errs []error
		for i := len(l.closers) - 1; i >= 0; i-- {
			if err := l.closers[i].Close(); err != nil {
				errs = append(errs, err)
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}
