package auth

import (
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Limiter counts failures per key (an address or a username) in a sliding
// window and says when a key must wait. It is safe for concurrent use.
type Limiter struct {
	clock  clock.Clock
	max    int
	window time.Duration

	mu   sync.Mutex
	hits map[string][]time.Time
}

// NewLimiter allows max failures per key within window.
func NewLimiter(c clock.Clock, max int, window time.Duration) *Limiter {
	return &Limiter{clock: c, max: max, window: window, hits: map[string][]time.Time{}}
}

// Wait reports how long key must wait before trying again; 0 means go ahead.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	h := l.prune(key, now)
	if len(h) < l.max {
		return 0
	}
	return h[0].Add(l.window).Sub(now)
}

// Fail records a failed attempt for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.hits[key] = append(l.prune(key, now), now)
	if len(l.hits) > 10000 { // bound memory under a spray of keys
		for k := range l.hits {
			if len(l.prune(k, now)) == 0 {
				delete(l.hits, k)
			}
		}
	}
}

// Reset forgets key's failures (after a successful login).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.hits, key)
	l.mu.Unlock()
}

func (l *Limiter) prune(key string, now time.Time) []time.Time {
	h := l.hits[key]
	i := 0
	for i < len(h) && !h[i].After(now.Add(-l.window)) {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(l.hits, key)
		return nil
	}
	l.hits[key] = h
	return h
}
