package clock

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestFake(t *testing.T) {
	f := NewFake(t0)
	f.Advance(time.Hour)
	if !f.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("Advance: %v", f.Now())
	}
	f.Set(t0)
	if !f.Now().Equal(t0) {
		t.Fatalf("Set: %v", f.Now())
	}
}

// TestFakeFiresInTimeOrder arms timers, AfterFuncs and tickers and checks
// what each Advance fires, in order, and what Now reads while it fires.
func TestFakeFiresInTimeOrder(t *testing.T) {
	type arm struct {
		name   string
		kind   string // "timer", "func", "ticker"
		d      time.Duration
		stopAt int // stop after this many fires (tickers); 0: never
	}
	tests := []struct {
		name    string
		arms    []arm
		advance []time.Duration
		want    []string // "name@offset", in firing order
	}{
		{
			name:    "one timer, not yet due",
			arms:    []arm{{"a", "timer", 2 * time.Second, 0}},
			advance: []time.Duration{time.Second},
			want:    nil,
		},
		{
			name:    "one timer, due exactly",
			arms:    []arm{{"a", "timer", 2 * time.Second, 0}},
			advance: []time.Duration{time.Second, time.Second},
			want:    []string{"a@2s"},
		},
		{
			name: "funcs in time order, not arming order",
			arms: []arm{
				{"late", "func", 3 * time.Second, 0},
				{"early", "func", time.Second, 0},
				{"mid", "func", 2 * time.Second, 0},
			},
			advance: []time.Duration{5 * time.Second},
			want:    []string{"early@1s", "mid@2s", "late@3s"},
		},
		{
			name: "same instant fires in arming order",
			arms: []arm{
				{"x", "func", time.Second, 0},
				{"y", "func", time.Second, 0},
				{"z", "func", time.Second, 0},
			},
			advance: []time.Duration{time.Second},
			want:    []string{"x@1s", "y@1s", "z@1s"},
		},
		{
			name: "ticker interleaves with a timer",
			arms: []arm{
				{"tick", "ticker", time.Second, 3},
				{"t", "timer", 1500 * time.Millisecond, 0},
			},
			advance: []time.Duration{time.Second, time.Second, time.Second, time.Second},
			want:    []string{"tick@1s", "t@1.5s", "tick@2s", "tick@3s"},
		},
		{
			name:    "AfterFunc with zero delay waits for Advance(0)",
			arms:    []arm{{"now", "func", 0, 0}},
			advance: []time.Duration{0},
			want:    []string{"now@0s"},
		},
		{
			name:    "negative Advance fires nothing",
			arms:    []arm{{"a", "func", time.Second, 0}},
			advance: []time.Duration{-time.Hour, time.Hour, time.Second},
			want:    []string{"a@1s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(t0)
			var mu sync.Mutex
			var got []string
			record := func(name string, at time.Time) {
				mu.Lock()
				got = append(got, name+"@"+at.Sub(t0).String())
				mu.Unlock()
			}
			type watched struct {
				name  string
				c     <-chan time.Time
				stop  func()
				limit int
				n     int
			}
			var chans []*watched
			for _, a := range tt.arms {
				switch a.kind {
				case "func":
					f.AfterFunc(a.d, func() { record(a.name, f.Now()) })
				case "timer":
					tm := f.NewTimer(a.d)
					chans = append(chans, &watched{name: a.name, c: tm.C(), stop: func() { tm.Stop() }})
				case "ticker":
					tk := f.NewTicker(a.d)
					chans = append(chans, &watched{name: a.name, c: tk.C(), stop: tk.Stop, limit: a.stopAt})
				}
			}
			// Channels are read after each Advance step; a one-step
			// Advance delivers at most one value per channel.
			for _, d := range tt.advance {
				f.Advance(d)
				type fired struct {
					name string
					at   time.Time
				}
				var step []fired
				for _, w := range chans {
					select {
					case at := <-w.c:
						step = append(step, fired{w.name, at})
						w.n++
						if w.limit > 0 && w.n >= w.limit {
							w.stop()
						}
					default:
					}
				}
				slices.SortStableFunc(step, func(a, b fired) int { return a.at.Compare(b.at) })
				for _, s := range step {
					record(s.name, s.at)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("fired %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFakeTimerStopReset(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Second)
	if f.Armed() != 1 {
		t.Fatalf("Armed = %d, want 1", f.Armed())
	}
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer = false")
	}
	if tm.Stop() {
		t.Fatal("second Stop = true")
	}
	f.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if tm.Reset(time.Minute) {
		t.Fatal("Reset of a stopped timer = true")
	}
	f.Advance(59 * time.Second)
	if at, ok := f.Next(); !ok || !at.Equal(t0.Add(time.Hour+time.Minute)) {
		t.Fatalf("Next = %v %v", at, ok)
	}
	f.Advance(time.Second)
	// Fired but not received: Reset drops the stale time (Go 1.23 timers).
	if !tm.Reset(time.Second) {
		t.Fatal("Reset of a fired, unread timer = false")
	}
	select {
	case <-tm.C():
		t.Fatal("stale time after Reset")
	default:
	}
	f.Advance(time.Second)
	if got := <-tm.C(); !got.Equal(t0.Add(time.Hour + time.Minute + time.Second)) {
		t.Fatalf("timer sent %v", got)
	}
	if _, ok := f.Next(); ok || f.Armed() != 0 {
		t.Fatalf("after firing: Armed = %d", f.Armed())
	}
	// A zero or negative timer is due at once, as with the time package.
	if got := <-f.NewTimer(0).C(); !got.Equal(f.Now()) {
		t.Fatalf("NewTimer(0) sent %v", got)
	}
	tm.Reset(-time.Second)
	if got := <-tm.C(); !got.Equal(f.Now()) {
		t.Fatalf("Reset(-1s) sent %v", got)
	}
}

func TestFakeAfterFuncStopReset(t *testing.T) {
	f := NewFake(t0)
	n := 0
	tm := f.AfterFunc(time.Second, func() { n++ })
	if tm.C() != nil {
		t.Fatal("AfterFunc timer has a channel")
	}
	if !tm.Stop() {
		t.Fatal("Stop = false")
	}
	f.Advance(time.Minute)
	if n != 0 {
		t.Fatal("stopped AfterFunc ran")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a stopped AfterFunc = true")
	}
	f.Advance(time.Second)
	if n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
	f.Advance(time.Minute)
	if n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
}

// A function that arms another timer due inside the same Advance sees it
// fire in the same Advance, at its own time.
func TestFakeAfterFuncArmsAnother(t *testing.T) {
	f := NewFake(t0)
	var at []time.Duration
	var chain func()
	chain = func() {
		at = append(at, f.Now().Sub(t0))
		if len(at) < 5 {
			f.AfterFunc(time.Second, chain)
		}
	}
	f.AfterFunc(time.Second, chain)
	f.Advance(3500 * time.Millisecond)
	if want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(at, want) {
		t.Fatalf("ran at %v, want %v", at, want)
	}
	if !f.Now().Equal(t0.Add(3500 * time.Millisecond)) {
		t.Fatalf("Now = %v", f.Now())
	}
	f.Set(t0.Add(time.Hour))
	if len(at) != 5 {
		t.Fatalf("ran %d times, want 5", len(at))
	}
}

func TestFakeTicker(t *testing.T) {
	f := NewFake(t0)
	tk := f.NewTicker(time.Second)
	// A reader that falls behind loses ticks; a long Advance does not spin.
	f.Advance(24 * time.Hour)
	if got := <-tk.C(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("first tick %v", got)
	}
	select {
	case got := <-tk.C():
		t.Fatalf("second tick %v was not dropped", got)
	default:
	}
	f.Advance(time.Second)
	if got := <-tk.C(); !got.Equal(t0.Add(24*time.Hour + time.Second)) {
		t.Fatalf("tick after catch-up %v", got)
	}
	tk.Reset(time.Minute)
	f.Advance(59 * time.Second)
	select {
	case got := <-tk.C():
		t.Fatalf("tick %v before the new period", got)
	default:
	}
	f.Advance(time.Second)
	<-tk.C()
	f.Advance(time.Minute)
	tk.Stop()
	select {
	case got := <-tk.C():
		t.Fatalf("tick %v after Stop", got)
	default:
	}
	f.Advance(time.Hour)
	select {
	case got := <-tk.C():
		t.Fatalf("tick %v after Stop", got)
	default:
	}
	for _, d := range []time.Duration{0, -time.Second} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewTicker(%v) did not panic", d)
				}
			}()
			f.NewTicker(d)
		}()
	}
}

// TestFakeBlockUntil is the pattern for code that arms a timer in its own
// goroutine: wait until it is armed, then move time.
func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, f, time.Minute) }()
	if err := f.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Fatalf("Sleep = %v", err)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	if err := f.BlockUntil(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntil with nothing armed = %v", err)
	}
}

func TestSleep(t *testing.T) {
	f := NewFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	if err := Sleep(ctx, f, 0); err != nil {
		t.Fatalf("Sleep(0) = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, f, time.Hour) }()
	if err := f.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Sleep = %v", err)
	}
	if f.Armed() != 0 {
		t.Fatalf("cancelled Sleep left %d timers armed", f.Armed())
	}
	if err := Sleep(ctx, f, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(0) on a done context = %v", err)
	}
}

// TestFakeConcurrent moves time while other goroutines arm, stop and read
// timers; run with -race.
func TestFakeConcurrent(t *testing.T) {
	f := NewFake(t0)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				d := time.Duration(i+j+1) * time.Millisecond
				switch j % 3 {
				case 0:
					tm := f.NewTimer(d)
					tm.Reset(d)
					tm.Stop()
				case 1:
					f.AfterFunc(d, func() { _ = f.Now() }).Stop()
				case 2:
					tk := f.NewTicker(d)
					tk.Reset(2 * d)
					tk.Stop()
				}
				_ = f.Armed()
			}
		}()
	}
	for range 100 {
		f.Advance(time.Millisecond)
	}
	wg.Wait()
	f.Advance(time.Hour)
	if f.Armed() != 0 {
		t.Fatalf("Armed = %d after everything stopped", f.Armed())
	}
}

// TestSystem checks that System wires the time package; the waits are
// milliseconds and nothing asserts on how long they took.
func TestSystem(t *testing.T) {
	var c Clock = System{}
	if c.Now().IsZero() {
		t.Fatal("Now is zero")
	}
	<-c.NewTimer(time.Millisecond).C()
	tk := c.NewTicker(time.Millisecond)
	<-tk.C()
	tk.Reset(time.Millisecond)
	<-tk.C()
	tk.Stop()
	ran := make(chan struct{})
	tm := c.AfterFunc(time.Millisecond, func() { close(ran) })
	<-ran
	if tm.C() != nil || tm.Stop() {
		t.Fatal("AfterFunc timer: channel or Stop after firing")
	}
	if !c.NewTimer(time.Hour).Stop() {
		t.Fatal("Stop of an armed timer = false")
	}
	if err := Sleep(context.Background(), c, time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestIDsAndTokens(t *testing.T) {
	for _, ids := range []IDs{RandomIDs{}, NewFakeIDs()} {
		seen := map[string]bool{}
		for i := 0; i < 10000; i++ {
			id := ids.NewID("msg_")
			if !strings.HasPrefix(id, "msg_") || len(id) != 4+16 || seen[id] {
				t.Fatalf("%T: bad or repeated id %q", ids, id)
			}
			seen[id] = true
		}
		if a, b := ids.Token(20), ids.Token(20); a == b || len(a) != 32 {
			t.Fatalf("%T: tokens %q %q", ids, a, b)
		}
		if strings.ContainsAny(ids.Token(64), "+/=_-") {
			t.Fatalf("%T: token is not URL-safe base32", ids)
		}
	}
	if id := NewID("cnv_"); !strings.HasPrefix(id, "cnv_") || len(id) != 20 {
		t.Fatalf("NewID = %q", id)
	}
	if tok := Token(32); len(tok) != 52 {
		t.Fatalf("Token(32) = %q", tok)
	}
}

func TestFakeIDsAreDeterministic(t *testing.T) {
	tests := []struct {
		name string
		make func(*FakeIDs) []string
		want []string
	}{
		{"ids count from one and sort", func(f *FakeIDs) []string {
			return []string{f.NewID("msg_"), f.NewID("cnv_"), f.NewID("")}
		}, []string{"msg_0000000000000001", "cnv_0000000000000002", "0000000000000003"}},
		{"tokens count on their own", func(f *FakeIDs) []string {
			return []string{f.Token(5), f.NewID("x_"), f.Token(10), f.Token(0)}
		}, []string{"00000001", "x_0000000000000001", "0000000000000002", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f FakeIDs
			if got := tt.make(&f); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
