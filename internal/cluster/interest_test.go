package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/cluster"
	"github.com/os1ai/os1/internal/events"
)

const (
	every = 10 * time.Second // InterestEvery in these tests
	grace = 2 * time.Second
)

// newNodeClock is newNode on a shared fake clock, so the grace period,
// announcements and expiry move only when the test says.
func newNodeClock(t *testing.T, url, name string, clk clock.Clock, tune func(*cluster.BridgeOptions)) *node {
	nc := connect(t, url, name)
	local := events.NewLocal(classify, events.Limits{Lossy: 1024, Final: 4096, FinalWait: 5 * time.Second})
	opts := cluster.BridgeOptions{Node: name, Clock: clk, InterestEvery: every, Grace: grace}
	if tune != nil {
		tune(&opts)
	}
	b := cluster.NewBridge(nc, local, classify, opts)
	t.Cleanup(b.Close)
	return &node{nc: nc, local: local, bridge: b}
}

// wire counts the events messages the NATS server carries, per subject.
type wire struct {
	nc *nats.Conn
	mu sync.Mutex
	n  map[string]int
}

func tap(t *testing.T, url string) *wire {
	t.Helper()
	w := &wire{nc: connect(t, url, "tap"), n: map[string]int{}}
	if _, err := w.nc.Subscribe("os1.user.>", func(m *nats.Msg) {
		w.mu.Lock()
		w.n[m.Subject]++
		w.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// settle waits until everything published on nc before has reached the tap,
// then returns and resets the counts.
func (w *wire) settle(t *testing.T, nc *nats.Conn) map[string]int {
	t.Helper()
	mark := "os1.user.mark" + fmt.Sprint(time.Now().UnixNano()) + ".events"
	if err := nc.Publish(mark, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the tap sees the mark", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.n[mark] == 1
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.n, mark)
	got := w.n
	w.n = map[string]int{}
	return got
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func users(n int) []string {
	us := make([]string, n)
	for i := range us {
		us[i] = fmt.Sprintf("u%d", i)
	}
	return us
}

// TestRelayOnlyFollowedUsers: two nodes, ten users, one of them followed
// on the other node. While A is in its grace period it relays every event
// (the old behaviour: 100 messages for 10 events of each user); after it,
// only the followed user's (10), and a user followed only on A costs no
// NATS message at all. B gets the followed user's events once, in order.
func TestRelayOnlyFollowedUsers(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	clk := clock.NewFake(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	a := newNodeClock(t, s.ClientURL(), "a", clk, nil)
	b := newNodeClock(t, s.ClientURL(), "b", clk, nil)
	w := tap(t, s.ClientURL())
	eventually(t, "a and b know each other", func() bool { return a.bridge.Nodes() == 1 && b.bridge.Nodes() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u0"))
	onA := collect(ctx, a.bridge.Subscribe(ctx, "u1")) // followed on the publishing node only
	publish := func(from int) {
		for _, u := range users(10) {
			for i := from; i < from+10; i++ {
				a.bridge.Publish(ctx, u, ev{"final", i, "a"})
			}
		}
	}

	publish(0) // in A's grace period: everything goes out
	before := w.settle(t, a.nc)
	clk.Advance(grace)
	publish(10)
	after := w.settle(t, a.nc)
	t.Logf("2 nodes, 10 users, 1 followed on the other node, 100 events: %d NATS messages relaying everything, %d by interest", total(before), total(after))
	if total(before) != 100 {
		t.Errorf("in the grace period %d messages went out, want 100: %v", total(before), before)
	}
	if total(after) != 10 || after[cluster.EventsSubject("u0")] != 10 {
		t.Errorf("after the grace period: %v; want 10 messages, all u0's", after)
	}
	eventually(t, "B gets u0's events", func() bool { return onB.count("final") == 20 })
	finals(t, "b", onB.events(), "a", 20)
	if l := onB.count("lagged"); l != 0 {
		t.Errorf("b lagged %d times", l)
	}
	eventually(t, "A's own subscriber of u1", func() bool { return onA.count("final") == 20 })
}

// TestNewFollowerMissesNothing: A publishes a stream of final events for u1
// that nobody else follows; B subscribes in the middle. Every event A
// starts publishing after B's Subscribe returned reaches B, once and in
// order, with no marker needed (A acknowledged the interest before
// Subscribe returned).
func TestNewFollowerMissesNothing(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	clk := clock.NewFake(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	a := newNodeClock(t, s.ClientURL(), "a", clk, nil)
	b := newNodeClock(t, s.ClientURL(), "b", clk, nil)
	clk.Advance(grace)
	eventually(t, "a and b know each other", func() bool { return a.bridge.Nodes() == 1 && b.bridge.Nodes() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	for round := range 5 {
		var started atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				started.Store(int64(i))
				a.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
			}
		}()
		time.Sleep(5 * time.Millisecond) // let A publish unrelayed events first
		subCtx, subCancel := context.WithCancel(ctx)
		onB := collect(subCtx, b.bridge.Subscribe(subCtx, "u1"))
		from := int(started.Load()) + 1 // published after Subscribe returned
		time.Sleep(20 * time.Millisecond)
		close(stop)
		<-done
		last := int(started.Load())
		eventually(t, "b gets the last event", func() bool {
			es := onB.events()
			return len(es) > 0 && es[len(es)-1].N == last
		})
		got := onB.events()
		prev, seen := 0, map[int]bool{}
		for _, e := range got {
			if e.Kind != "final" {
				t.Fatalf("round %d: b got %v among %d events", round, e, len(got))
			}
			if e.N <= prev {
				t.Fatalf("round %d: b got %d after %d (twice or out of order)", round, e.N, prev)
			}
			prev = e.N
			seen[e.N] = true
		}
		for i := from; i <= last; i++ {
			if !seen[i] {
				t.Fatalf("round %d: b missed event %d, published after Subscribe returned (from %d to %d)", round, i, from, last)
			}
		}
		t.Logf("round %d: %d events before Subscribe returned, %d after, b got %d", round, from-1, last-from+1, len(got))
		subCancel()
		eventually(t, "a stops relaying u1", func() bool { return !a.bridge.Relays("u1") })
	}
}

// TestRelayStops: when B's last subscriber of u1 leaves, A stops relaying
// at once; when B dies without a word, A stops once B's interest expires
// (three announcement intervals).
func TestRelayStops(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	clk := clock.NewFake(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	a := newNodeClock(t, s.ClientURL(), "a", clk, nil)
	b := newNodeClock(t, s.ClientURL(), "b", clk, nil)
	w := tap(t, s.ClientURL())
	eventually(t, "a and b know each other", func() bool { return a.bridge.Nodes() == 1 && b.bridge.Nodes() == 1 })
	clk.Advance(grace)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sub1, cancel1 := context.WithCancel(ctx)
	_ = collect(sub1, b.bridge.Subscribe(sub1, "u1"))
	sub2, cancel2 := context.WithCancel(ctx)
	_ = collect(sub2, b.bridge.Subscribe(sub2, "u1"))
	cancel1()
	a.bridge.Publish(ctx, "u1", ev{"final", 0, "a"})
	if got := w.settle(t, a.nc); total(got) != 1 {
		t.Fatalf("with one of B's two subscribers left: %v; want u1's event relayed", got)
	}
	cancel2()
	eventually(t, "a hears b's withdrawal", func() bool { return !a.bridge.Relays("u1") })
	a.bridge.Publish(ctx, "u1", ev{"final", 1, "a"})
	if got := w.settle(t, a.nc); total(got) != 0 {
		t.Fatalf("after B's last subscriber left: %v; want nothing", got)
	}

	// B follows u2, then its connection dies with no goodbye.
	_ = collect(ctx, b.bridge.Subscribe(ctx, "u2"))
	if !a.bridge.Relays("u2") {
		t.Fatal("a does not relay u2 after b's Subscribe returned")
	}
	b.nc.Close()
	clk.Advance(every)
	if !a.bridge.Relays("u2") {
		t.Fatal("b's interest expired after one interval")
	}
	clk.Advance(2 * every)
	if a.bridge.Relays("u2") {
		t.Fatal("b's interest outlived three intervals without an announcement")
	}
	a.bridge.Publish(ctx, "u2", ev{"final", 0, "a"})
	if got := w.settle(t, a.nc); total(got) != 0 {
		t.Fatalf("after b's interest expired: %v; want nothing", got)
	}
}

// TestInterestRelearned: a node that starts, or whose NATS connection comes
// back, relays everything until its grace period ends, by which time it has
// learned again what the others follow.
func TestInterestRelearned(t *testing.T) {
	dir := t.TempDir()
	s := natsServer(t, 0, dir)
	port := s.Addr().(*net.TCPAddr).Port
	clk := clock.NewFake(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	b := newNodeClock(t, s.ClientURL(), "b", clk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u1"))

	// A starts after B followed u1: it relays everything at first, and
	// learns B's interest from the answers to its sync.
	a := newNodeClock(t, s.ClientURL(), "a", clk, nil)
	if !a.bridge.Relays("u9") {
		t.Fatal("a new node does not relay everything in its grace period")
	}
	a.bridge.Publish(ctx, "u1", ev{"final", 0, "a"})
	clk.Advance(grace)
	eventually(t, "a learned b's interest", func() bool { return a.bridge.Relays("u1") })
	if a.bridge.Relays("u9") {
		t.Fatal("a relays an unfollowed user after its grace period")
	}
	a.bridge.Publish(ctx, "u1", ev{"final", 1, "a"})
	eventually(t, "b gets both", func() bool { return onB.count("final") == 2 })

	// NATS restarts; while it is down every interest expires on A.
	s.Shutdown()
	s.WaitForShutdown()
	eventually(t, "nodes see the outage", func() bool { return !a.nc.IsConnected() && !b.nc.IsConnected() })
	clk.Advance(3 * every)
	if a.bridge.Relays("u1") {
		t.Fatal("b's interest outlived its expiry on a")
	}
	s = natsServer(t, port, dir)
	defer s.Shutdown()
	eventually(t, "nodes reconnect", func() bool { return a.nc.IsConnected() && b.nc.IsConnected() })
	// The fake clock has not moved: only the reconnect's grace period makes
	// a relay an unfollowed user again.
	eventually(t, "a relays everything after a reconnect", func() bool { return a.bridge.Relays("u9") })
	clk.Advance(grace)
	eventually(t, "a learned b's interest again", func() bool { return a.bridge.Relays("u1") })
	if a.bridge.Relays("u9") {
		t.Fatal("a relays an unfollowed user after its grace period")
	}
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	a.bridge.Publish(ctx, "u1", ev{"final", 2, "a"})
	eventually(t, "b gets events after the restart", func() bool { return onB.count("final") == 3 })
	finals(t, "b", onB.events(), "a", 3)
	if onB.count("lagged") == 0 {
		t.Error("b was not told of the outage")
	}
}

// TestPrunedCounterIsNotAReplay: A drops its idle sequence counter for u1
// and starts again from 1 under a new generation; B, which saw 1..3 from
// A's first counter, takes the new events as a new origin's, not replays.
func TestPrunedCounterIsNotAReplay(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	clk := clock.NewFake(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	prune := func(o *cluster.BridgeOptions) { o.PruneAfter = 15 * time.Second }
	a := newNodeClock(t, s.ClientURL(), "a", clk, prune)
	b := newNodeClock(t, s.ClientURL(), "b", clk, prune)
	eventually(t, "a and b know each other", func() bool { return a.bridge.Nodes() == 1 && b.bridge.Nodes() == 1 })
	clk.Advance(grace)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u1"))
	for i := range 3 {
		a.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
	}
	a.bridge.Publish(ctx, "u2", ev{"final", 0, "a"}) // unrelayed, counted
	eventually(t, "first events", func() bool { return onB.count("final") == 3 })
	if n := a.bridge.Counters(); n != 2 {
		t.Fatalf("a keeps %d counters, want 2", n)
	}
	// Announcements every 10s keep B's interest; the counters go after 15s idle.
	clk.Advance(every - grace)
	clk.Advance(every)
	eventually(t, "a prunes its idle counters", func() bool { return a.bridge.Counters() == 0 })
	if !a.bridge.Relays("u1") {
		t.Fatal("b's interest lapsed while b announced it")
	}
	for i := 3; i < 6; i++ {
		a.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
	}
	eventually(t, "events after the prune", func() bool { return onB.count("final") == 6 })
	finals(t, "b", onB.events(), "a", 6)
	if l := onB.count("lagged"); l != 0 {
		t.Errorf("b lagged %d times", l)
	}
}

// TestLateAcknowledgementIsLagged: a node that does not acknowledge B's
// interest within AckWait makes Subscribe return without it; its late
// acknowledgement gives B's reader a lagged marker (what it published
// meanwhile was not relayed), and B does not wait for it again.
func TestLateAcknowledgementIsLagged(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	clk := clock.NewFake(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	const wait = 300 * time.Millisecond
	b := newNodeClock(t, s.ClientURL(), "b", clk, func(o *cluster.BridgeOptions) { o.AckWait = wait })
	slow := connect(t, s.ClientURL(), "slow")
	follows := make(chan *nats.Msg, 1000)
	if _, err := slow.ChanSubscribe(cluster.InterestSubject, follows); err != nil {
		t.Fatal(err)
	}
	if err := slow.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nextFollow := func(user string) (ref, reply string) {
		t.Helper()
		for {
			select {
			case m := <-follows:
				var body struct {
					Op, Ref string
					Users   []string
				}
				if json.Unmarshal(m.Data, &body) == nil && body.Op == "follow" && m.Reply != "" &&
					len(body.Users) == 1 && body.Users[0] == user {
					return body.Ref, m.Reply
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no follow announced for %s", user)
			}
		}
	}
	ackLate := func(user string, ref, reply string) {
		t.Helper()
		ack, _ := json.Marshal(map[string]any{"node": "slow", "op": "ack", "users": []string{user}, "ref": ref})
		if err := slow.Publish(reply, ack); err != nil {
			t.Fatal(err)
		}
	}

	// A node b has not heard of yet acknowledges after Subscribe returned.
	onU0 := collect(ctx, b.bridge.Subscribe(ctx, "u0"))
	ref, reply := nextFollow("u0")
	ackLate("u0", ref, reply)
	eventually(t, "u0's reader is told it may have missed events", func() bool { return onU0.count("lagged") == 1 })

	// A known node that does not acknowledge in time.
	if err := slow.Publish(cluster.InterestSubject, []byte(`{"node":"slow","op":"here"}`)); err != nil {
		t.Fatal(err)
	}
	if err := slow.Flush(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b knows the slow node", func() bool { return b.bridge.Nodes() == 1 })
	start := time.Now()
	_ = collect(ctx, b.bridge.Subscribe(ctx, "probe"))
	if d := time.Since(start); d < wait {
		t.Fatalf("Subscribe returned after %s without the known node's acknowledgement (AckWait %s)", d, wait)
	}

	start = time.Now()
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u1"))
	if d := time.Since(start); d >= wait {
		t.Fatalf("Subscribe waited %s for a node known to be slow", d)
	}
	ref, reply = nextFollow("u1")
	ackLate("u1", ref, reply)
	eventually(t, "b's reader is told it may have missed events", func() bool { return onB.count("lagged") == 1 })
	time.Sleep(50 * time.Millisecond)
	if got := onB.events(); len(got) != 1 {
		t.Fatalf("b's reader got %v; want one lagged marker", got)
	}
}

// BenchmarkPublish: node A publishes for ten users, one of them followed on
// node B (a subscriber there drains it). relay-all is the Bridge before
// interest (every event marshalled and published on NATS); by-interest
// publishes only the followed user's. ns/op is per event on A.
func BenchmarkPublish(b *testing.B) {
	for _, c := range []struct {
		name  string
		grace time.Duration
	}{{"relay-all", time.Hour}, {"by-interest", time.Nanosecond}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
			if err != nil {
				b.Fatal(err)
			}
			go s.Start()
			if !s.ReadyForConnections(10 * time.Second) {
				b.Fatal("nats server not ready")
			}
			defer s.Shutdown()
			mk := func(name string) (*cluster.Bridge[ev], *nats.Conn) {
				quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
				nc, err := cluster.Connect(s.ClientURL(), name, quiet)
				if err != nil {
					b.Fatal(err)
				}
				local := events.NewLocal(classify, events.Limits{Lossy: 1 << 16, Final: 1 << 17})
				return cluster.NewBridge(nc, local, classify, cluster.BridgeOptions{Node: name, Log: quiet, Grace: c.grace}), nc
			}
			a, ncA := mk("a")
			defer ncA.Close()
			defer a.Close()
			bb, ncB := mk("b")
			defer ncB.Close()
			defer bb.Close()
			deadline := time.Now().Add(10 * time.Second)
			for a.Nodes() != 1 || bb.Nodes() != 1 {
				if time.Now().After(deadline) {
					b.Fatal("nodes do not know each other")
				}
				time.Sleep(time.Millisecond)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				for range bb.Subscribe(ctx, "u0") {
				}
			}()
			deadline = time.Now().Add(10 * time.Second)
			for !a.Relays("u0") {
				if time.Now().After(deadline) {
					b.Fatal("a never learned b's interest")
				}
				time.Sleep(time.Millisecond)
			}
			us := users(10)
			b.ResetTimer()
			for i := range b.N {
				a.Publish(ctx, us[i%10], ev{"delta", i, "a"})
			}
			b.StopTimer()
			_ = ncA.Flush()
		})
	}
}
