package clock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Fake is a Clock whose time moves only when a test calls Advance or Set.
// Those fire every timer, ticker and AfterFunc that falls due, in time order
// (in the order they were armed when due at the same instant); while each
// fires, Now reads its due time. AfterFunc functions run synchronously in
// the goroutine that moves time, with no lock held, so when Advance returns
// they have finished. A function may read the clock and arm or stop timers,
// but must not call Advance or Set.
//
// A timer armed with d <= 0 is due at once: a NewTimer sends at once,
// an AfterFunc runs at the next Advance or Set (Advance(0) will do), never
// inside the AfterFunc call, which may hold a lock the function takes.
//
// A test that moves time while another goroutine arms a timer calls
// BlockUntil first, so the timer is known to be armed before time moves.
type Fake struct {
	move sync.Mutex // one Advance or Set at a time

	mu      sync.Mutex
	now     time.Time
	armed   []*fakeTimer
	seq     uint64
	changed chan struct{} // closed and replaced when armed changes
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake clock forward by d, firing what falls due.
// A negative d moves it back and fires nothing.
func (f *Fake) Advance(d time.Duration) {
	f.move.Lock()
	defer f.move.Unlock()
	f.mu.Lock()
	target := f.now.Add(d)
	f.mu.Unlock()
	f.moveTo(target)
}

// Set moves the fake clock to t, firing what falls due on the way.
// A t before Now moves it back and fires nothing.
func (f *Fake) Set(t time.Time) {
	f.move.Lock()
	defer f.move.Unlock()
	f.moveTo(t)
}

// Armed returns how many timers, tickers and AfterFuncs are armed now.
func (f *Fake) Armed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.armed)
}

// Next returns when the earliest armed timer is due; ok is false when
// none is armed.
func (f *Fake) Next() (at time.Time, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.earliest(); t != nil {
		return t.at, true
	}
	return time.Time{}, false
}

// BlockUntil waits until at least n timers, tickers and AfterFuncs are
// armed, or ctx is done (then it returns ctx.Err()). Tests call it before
// Advance so a timer armed by another goroutine is not missed.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		if len(f.armed) >= n {
			f.mu.Unlock()
			return nil
		}
		ch := f.changedLocked()
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NewTimer returns a timer that sends the fake time on C when due.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	if d <= 0 {
		t.c <- f.now
		return t
	}
	f.armLocked(t, d)
	return t
}

// AfterFunc runs fn in the goroutine that moves time, once it is due.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{f: f, fn: fn}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armLocked(t, max(d, 0))
	return t
}

// NewTicker returns a ticker that sends the fake time on C every d.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	t := &fakeTimer{f: f, c: make(chan time.Time, 1), period: d}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armLocked(t, d)
	return fakeTicker{t}
}

func (f *Fake) moveTo(target time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		t := f.earliest()
		if t == nil || t.at.After(target) {
			break
		}
		if t.at.After(f.now) {
			f.now = t.at
		}
		if t.period > 0 {
			f.tickLocked(t, target)
			continue
		}
		f.disarmLocked(t)
		if t.c != nil {
			select {
			case t.c <- f.now: // empty: drained when re-armed
			default:
			}
			continue
		}
		f.mu.Unlock()
		t.fn()
		f.mu.Lock()
	}
	f.now = target
}

// tickLocked sends one tick and re-arms the ticker. A reader that has not
// taken the last tick loses the ones in between, as with time.Ticker, and
// the ticker skips to its last tick before target so a long Advance over
// a short period does not spin.
func (f *Fake) tickLocked(t *fakeTimer, target time.Time) {
	next := t.at.Add(t.period)
	select {
	case t.c <- f.now:
	default:
		if n := target.Sub(t.at) / t.period; n > 1 {
			next = t.at.Add(n * t.period)
		}
	}
	f.seq++
	t.at, t.seq = next, f.seq
	f.notifyLocked()
}

func (f *Fake) earliest() *fakeTimer {
	var e *fakeTimer
	for _, t := range f.armed {
		if e == nil || t.at.Before(e.at) || (t.at.Equal(e.at) && t.seq < e.seq) {
			e = t
		}
	}
	return e
}

func (f *Fake) armLocked(t *fakeTimer, d time.Duration) {
	f.seq++
	t.at, t.seq = f.now.Add(d), f.seq
	if !t.isArmed {
		t.isArmed = true
		f.armed = append(f.armed, t)
	}
	f.notifyLocked()
}

// disarmLocked reports whether t was armed.
func (f *Fake) disarmLocked(t *fakeTimer) bool {
	if !t.isArmed {
		return false
	}
	t.isArmed = false
	f.armed = slices.DeleteFunc(f.armed, func(x *fakeTimer) bool { return x == t })
	f.notifyLocked()
	return true
}

func (f *Fake) changedLocked() chan struct{} {
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

func (f *Fake) notifyLocked() {
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// fakeTimer is a Fake's timer, AfterFunc (fn set) or ticker (period set).
type fakeTimer struct {
	f       *Fake
	c       chan time.Time
	fn      func()
	period  time.Duration
	at      time.Time
	seq     uint64
	isArmed bool
}

func (t *fakeTimer) C() <-chan time.Time {
	if t.c == nil {
		return nil
	}
	return t.c
}

// Stop reports true also for a timer that fired but whose time was not
// received, as a Go 1.23 timer does.
func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	unread := t.drain()
	return t.f.disarmLocked(t) || unread
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.drain() || t.isArmed
	if d <= 0 && t.c != nil {
		t.f.disarmLocked(t)
		t.c <- t.f.now
		return was
	}
	t.f.armLocked(t, max(d, 0))
	return was
}

// drain drops a time sent but not received, so none is stale after Stop
// or Reset (Go 1.23 timer semantics); it reports whether it dropped one.
func (t *fakeTimer) drain() bool {
	if t.c == nil {
		return false
	}
	select {
	case <-t.c:
		return true
	default:
		return false
	}
}

type fakeTicker struct{ t *fakeTimer }

func (k fakeTicker) C() <-chan time.Time { return k.t.c }
func (k fakeTicker) Stop()               { k.t.Stop() }
func (k fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	k.t.f.mu.Lock()
	defer k.t.f.mu.Unlock()
	k.t.drain()
	k.t.period = d
	k.t.f.armLocked(k.t, d)
}
