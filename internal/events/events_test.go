package events_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/events"
)

// ev is a test event: deltas are lossy, everything else is final.
type ev struct {
	Kind string // "delta", "final", "lagged"
	N    int
}

func classify(e ev) (bool, ev) { return e.Kind == "delta", ev{Kind: "lagged", N: e.N} }

func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %s", what, d)
	}
}

// TestReaderThatNeverReads is the promise of the package doc: a subscriber
// that never reads costs the publisher at most one FinalWait, and deltas
// never wait at all.
func TestReaderThatNeverReads(t *testing.T) {
	lim := events.Limits{Lossy: 4, Final: 8, FinalWait: 50 * time.Millisecond}
	b := events.NewLocal(classify, lim)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = b.Subscribe(ctx, "u1") // subscribed, never ranged

	within(t, 5*time.Second, "10000 deltas to a stalled reader", func() {
		for i := range 10000 {
			b.Publish(context.Background(), "u1", ev{"delta", i})
		}
	})
	start := time.Now()
	within(t, 5*time.Second, "100 final events to a stalled reader", func() {
		for i := range 100 {
			b.Publish(context.Background(), "u1", ev{"final", i})
		}
	})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 final events took %s; a stalled reader may cost one FinalWait (%s)", d, lim.FinalWait)
	}
	if n := b.Subscribers("u1"); n != 0 {
		t.Errorf("the stalled reader is still subscribed (%d); it should be cut off", n)
	}
}

// TestSlowReaderGetsLaggedThenResumes: deltas beyond the limit become one
// marker; final events all arrive, in order.
func TestSlowReaderGetsLaggedThenResumes(t *testing.T) {
	b := events.NewLocal(classify, events.Limits{Lossy: 4, Final: 64, FinalWait: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := b.Subscribe(ctx, "u1")
	for i := range 20 {
		b.Publish(ctx, "u1", ev{"delta", i})
	}
	b.Publish(ctx, "u1", ev{"final", 100})
	var got []ev
	for e := range sub {
		got = append(got, e)
		if e.Kind == "final" {
			break
		}
	}
	want := []ev{{"delta", 0}, {"delta", 1}, {"delta", 2}, {"delta", 3}, {"lagged", 4}, {"final", 100}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("slow reader got %v, want %v", got, want)
	}

	// After the marker, deltas flow again.
	sub2 := b.Subscribe(ctx, "u1")
	b.Publish(ctx, "u1", ev{"delta", 7})
	for e := range sub2 {
		if e != (ev{"delta", 7}) {
			t.Fatalf("after a lag got %v, want delta 7", e)
		}
		break
	}
}

// TestCutOffReaderSeesMarkerAndEnd: a reader behind by more than Final gets
// what was queued, then a lagged marker, then the end of its stream.
func TestCutOffReaderSeesMarkerAndEnd(t *testing.T) {
	b := events.NewLocal(classify, events.Limits{Lossy: 2, Final: 4, FinalWait: 10 * time.Millisecond})
	ctx := context.Background()
	sub := b.Subscribe(ctx, "u1")
	for i := range 10 {
		b.Publish(ctx, "u1", ev{"final", i})
	}
	var got []ev
	within(t, 5*time.Second, "reading a cut-off subscription", func() {
		for e := range sub {
			got = append(got, e)
		}
	})
	want := []ev{{"final", 0}, {"final", 1}, {"final", 2}, {"final", 3}, {"lagged", 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cut-off reader got %v, want %v", got, want)
	}
}

// TestUsersAreSeparate: a stalled reader of one user does not slow another
// user's publisher, and nobody sees another user's events.
func TestUsersAreSeparate(t *testing.T) {
	b := events.NewLocal(classify, events.Limits{Lossy: 2, Final: 4, FinalWait: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = b.Subscribe(ctx, "stalled")
	for i := range 4 {
		b.Publish(ctx, "stalled", ev{"final", i}) // fills its queue
	}
	sub := b.Subscribe(ctx, "u2")
	within(t, 5*time.Second, "u2's publisher", func() {
		b.Publish(ctx, "u2", ev{"final", 1})
	})
	for e := range sub {
		if e != (ev{"final", 1}) {
			t.Fatalf("u2 got %v", e)
		}
		break
	}
	// The stalled user's publisher waits no longer than its own context.
	pctx, pcancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer pcancel()
	within(t, 5*time.Second, "a publisher whose context ends", func() {
		b.Publish(pctx, "stalled", ev{"final", 5})
	})
}

// TestSubscriptionEndsWithContext: ranging stops when ctx ends, and an
// unranged subscription is removed.
func TestSubscriptionEndsWithContext(t *testing.T) {
	b := events.NewLocal(classify, events.Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	sub := b.Subscribe(ctx, "u1")
	_ = b.Subscribe(ctx, "u1")
	if n := b.Subscribers("u1"); n != 2 {
		t.Fatalf("Subscribers = %d, want 2", n)
	}
	go cancel()
	within(t, 5*time.Second, "ranging a cancelled subscription", func() {
		for range sub {
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for b.Subscribers("u1") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Subscribers = %d after cancel, want 0", b.Subscribers("u1"))
		}
		time.Sleep(time.Millisecond)
	}
}

// bothDeltas and sumDeltas join neighbouring deltas of the test event: N adds up.
func bothDeltas(a, b ev) bool { return a.Kind == "delta" && b.Kind == "delta" }

func sumDeltas(run []ev) ev {
	n := 0
	for _, e := range run {
		n += e.N
	}
	return ev{"delta", n}
}

// TestCoalesceJoinsWhatPiledUp: a reader that fell behind takes the deltas
// queued meanwhile as one event; finals and markers are never merged, and
// order is kept.
func TestCoalesceJoinsWhatPiledUp(t *testing.T) {
	q := events.NewQueue(classify, events.Limits{Lossy: 6, Final: 16, FinalWait: time.Second})
	q.Coalesce(bothDeltas, sumDeltas)
	ctx := context.Background()
	for _, e := range []ev{{"delta", 1}, {"delta", 2}, {"delta", 3}, {"final", 10}, {"delta", 4}, {"delta", 5}} {
		q.Push(ctx, e)
	}
	// Over Lossy: the marker stands for what follows; it is never merged.
	for i := range 3 {
		q.Push(ctx, ev{"delta", 100 + i})
	}
	q.Push(ctx, ev{"final", 20})
	q.Close()
	var got []ev
	for e := range q.Events(ctx) {
		got = append(got, e)
	}
	want := []ev{{"delta", 6}, {"final", 10}, {"delta", 9}, {"lagged", 100}, {"final", 20}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read %v, want %v", got, want)
	}
}

// TestCoalesceKeepsPaceWithAReaderThatKeepsUp: a reader that takes each
// event before the next is published sees every one of them.
func TestCoalesceKeepsPaceWithAReaderThatKeepsUp(t *testing.T) {
	b := events.NewLocal(classify, events.Limits{})
	b.Coalesce(bothDeltas, sumDeltas)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := b.Subscribe(ctx, "u1")
	got := make(chan ev)
	go func() {
		for e := range sub {
			got <- e
		}
	}()
	for i := range 5 {
		b.Publish(ctx, "u1", ev{"delta", i})
		if e := <-got; e != (ev{"delta", i}) {
			t.Fatalf("read %v, want delta %d alone", e, i)
		}
	}
}
