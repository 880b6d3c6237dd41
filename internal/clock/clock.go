// Package clock provides the injected time and ID sources used across os1.
//
// Nothing in os1 calls time.Now or reads crypto/rand for identifiers directly;
// it asks a Clock or an IDs so tests can drive time and identity. This package
// must never hold global mutable state.
package clock

import (
	"crypto/rand"
	"encoding/base32"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the real wall clock.
type System struct{}

// Now returns the current time.
func (System) Now() time.Time { return time.Now() }

// Fake is a manually advanced clock for tests.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the fake clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// Set moves the fake clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

var b32 = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a random, URL-safe, sortable-enough identifier with the given
// prefix (for example "msg_"). 80 bits of randomness make collisions negligible.
func NewID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("clock: crypto/rand failed: " + err.Error())
	}
	return prefix + b32.EncodeToString(b[:])
}

// Token returns a random secret of n bytes, encoded URL-safe. Used for session
// cookies, API tokens and one-time links.
func Token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("clock: crypto/rand failed: " + err.Error())
	}
	return b32.EncodeToString(b)
}
