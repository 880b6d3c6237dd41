package auth

import (
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Throttle slows password guessing per key (an address, or a username tried
// without a known device) with a delay that doubles after each failure past
// a free allowance. It never locks a key out for longer than Max, and it
// counts an attempt before the password is checked, so a burst of parallel
// guesses cannot all slip through before the first failure is recorded.
// It is safe for concurrent use.
type Throttle struct {
	clock clock.Clock
	// Free failures are allowed before any delay.
	Free int
	// Base is the first delay; each further failure doubles it, up to Max.
	Base, Max time.Duration
	// Forget drops a key's record after this long without an attempt.
	Forget time.Duration

	mu   sync.Mutex
	keys map[string]*throttleRecord
}

type throttleRecord struct {
	fails    int       // failed attempts, counting those still being checked
	next     time.Time // no attempt before this
	last     time.Time // the last failure (or attempt still being checked)
	lastFail time.Time // the last confirmed failure, restored when an attempt succeeds
}

// maxThrottleKeys bounds memory under a spray of addresses or usernames.
const maxThrottleKeys = 20000

// NewThrottle returns a throttle allowing free failures, then delays from
// base doubling up to max; records are forgotten after forget.
func NewThrottle(c clock.Clock, free int, base, max, forget time.Duration) *Throttle {
	return &Throttle{clock: c, Free: free, Base: base, Max: max, Forget: forget, keys: map[string]*throttleRecord{}}
}

// Begin counts an attempt for key and reports 0, or how long key must wait
// before trying again (the attempt is then not counted). Every Begin that
// returns 0 stays counted as a failure unless Succeed takes it back.
func (t *Throttle) Begin(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	r := t.keys[key]
	if r != nil && now.Sub(r.last) > t.Forget {
		r = nil
	}
	if r == nil {
		t.bound(now)
		r = &throttleRecord{}
		t.keys[key] = r
	}
	if now.Before(r.next) {
		return r.next.Sub(now)
	}
	r.fails++ // pessimistic until Succeed says otherwise
	r.lastFail, r.last = r.last, now
	r.next = now.Add(t.delay(r.fails))
	return 0
}

// Succeed takes back the attempt Begin counted: the next attempt may come
// at once (a success imposes no wait), the failures before it still count,
// and the record is forgotten Forget after the last real failure. With
// reset, key's failures are forgotten now.
func (t *Throttle) Succeed(key string, reset bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.keys[key]
	if r == nil {
		return
	}
	if reset {
		delete(t.keys, key)
		return
	}
	if r.fails > 0 {
		r.fails--
	}
	r.last = r.lastFail
	r.next = t.clock.Now()
	if r.fails == 0 {
		delete(t.keys, key)
	}
}

// Failures reports key's counted failures (for tests and diagnostics).
func (t *Throttle) Failures(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.keys[key]; r != nil {
		return r.fails
	}
	return 0
}

func (t *Throttle) delay(fails int) time.Duration {
	if fails <= t.Free {
		return 0
	}
	d := t.Base
	for i := t.Free + 1; i < fails && d < t.Max; i++ {
		d *= 2
	}
	return min(d, t.Max)
}

// bound drops forgotten records, then, if still too many, the oldest half.
func (t *Throttle) bound(now time.Time) {
	if len(t.keys) < maxThrottleKeys {
		return
	}
	for k, r := range t.keys {
		if now.Sub(r.last) > t.Forget {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < maxThrottleKeys {
		return
	}
	cut := now.Add(-t.Forget / 2)
	for k, r := range t.keys {
		if r.last.Before(cut) || len(t.keys) >= maxThrottleKeys {
			delete(t.keys, k)
		}
	}
}
