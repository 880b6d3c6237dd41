// Package clock provides the injected time and ID sources used across os1.
//
// Code that needs the time, a timer or a new identifier asks a Clock or an
// IDs instead of calling time.Now, time.NewTimer, time.AfterFunc or
// crypto/rand, so tests drive time and identity with Fake and FakeIDs
// instead of sleeping.
// This package must never hold global mutable state.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and makes timers. It is modelled on tailscale's
// tstime.Clock: System uses the time package, Fake moves only when a test
// says so.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends the time on its C once, after d.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that sends the time on its C every d.
	// It panics if d <= 0, as time.NewTicker does.
	NewTicker(d time.Duration) Ticker
	// AfterFunc runs f once after d. With System f runs in its own
	// goroutine; with Fake it runs in the goroutine that moves time.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is what NewTimer and AfterFunc return; it behaves as *time.Timer
// (Go 1.23 semantics: after Stop or Reset no stale time is received).
type Timer interface {
	// C delivers the time the timer fired. It is nil for AfterFunc timers.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether the timer
	// was still armed.
	Stop() bool
	// Reset re-arms the timer to fire after d; it reports whether the
	// timer was still armed.
	Reset(d time.Duration) bool
}

// Ticker is what NewTicker returns; it behaves as *time.Ticker: a reader
// that falls behind loses ticks, it never blocks the clock.
type Ticker interface {
	// C delivers the time of each tick.
	C() <-chan time.Time
	// Stop turns the ticker off; no tick is sent after it returns.
	Stop()
	// Reset stops the ticker and restarts it with period d (d > 0).
	Reset(d time.Duration)
}

// Sleep waits for d on c, or until ctx is done; then it returns ctx.Err().
// A d <= 0 returns at once (nil unless ctx is already done).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// System is the real wall clock.
type System struct{}

var _ Clock = System{}

// Now returns the current time.
func (System) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (System) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

// NewTicker wraps time.NewTicker.
func (System) NewTicker(d time.Duration) Ticker { return sysTicker{time.NewTicker(d)} }

// AfterFunc wraps time.AfterFunc.
func (System) AfterFunc(d time.Duration, f func()) Timer { return sysTimer{time.AfterFunc(d, f)} }

type sysTimer struct{ t *time.Timer }

func (s sysTimer) C() <-chan time.Time        { return s.t.C }
func (s sysTimer) Stop() bool                 { return s.t.Stop() }
func (s sysTimer) Reset(d time.Duration) bool { return s.t.Reset(d) }

type sysTicker struct{ t *time.Ticker }

func (s sysTicker) C() <-chan time.Time   { return s.t.C }
func (s sysTicker) Stop()                 { s.t.Stop() }
func (s sysTicker) Reset(d time.Duration) { s.t.Reset(d) }
