package cluster_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/os1ai/os1/internal/cluster"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/events"
)

// companion.Companion's Cancel is what the cluster cancels remotely.
var _ cluster.Canceller = (*companion.Companion)(nil)

// The Bridge is an events.Bus: the companion takes it in place of its bus.
var _ events.Bus[ev] = (*cluster.Bridge[ev])(nil)

// ev is a test event: deltas are lossy, everything else is final.
type ev struct {
	Kind string // "delta", "final", "lagged"
	N    int
	From string
}

func classify(e ev) (bool, ev) { return e.Kind == "delta", ev{Kind: "lagged", N: e.N} }

// natsServer runs an embedded NATS server with JetStream; port 0 picks one.
func natsServer(t *testing.T, port int, dir string) *server.Server {
	t.Helper()
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true,
		StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	return s
}

func connect(t *testing.T, url, node string) *nats.Conn {
	t.Helper()
	nc, err := cluster.Connect(url, node, nil, nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// node is one os1 process as far as events go: its own bus and Bridge.
type node struct {
	nc     *nats.Conn
	local  *events.Local[ev]
	bridge *cluster.Bridge[ev]
}

func newNode(t *testing.T, url, name string) *node {
	nc := connect(t, url, name)
	local := events.NewLocal(classify, events.Limits{Lossy: 1024, Final: 4096, FinalWait: 5 * time.Second})
	b := cluster.NewBridge(nc, local, classify, cluster.BridgeOptions{Node: name})
	t.Cleanup(b.Close)
	return &node{nc: nc, local: local, bridge: b}
}

// collect ranges sub in the background; stop it and read what arrived.
type collector struct {
	mu  sync.Mutex
	got []ev
}

func collect(ctx context.Context, sub func(func(ev) bool)) *collector {
	c := &collector{}
	go func() {
		for e := range sub {
			c.mu.Lock()
			c.got = append(c.got, e)
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) events() []ev {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ev(nil), c.got...)
}

func (c *collector) count(kind string) int {
	n := 0
	for _, e := range c.events() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finals checks the final events from one origin arrived once each, in order.
func finals(t *testing.T, who string, got []ev, from string, want int) {
	t.Helper()
	var ns []int
	for _, e := range got {
		if e.Kind == "final" && e.From == from {
			ns = append(ns, e.N)
		}
	}
	if len(ns) != want {
		t.Fatalf("%s got %d final events from %s, want %d: %v", who, len(ns), from, want, ns)
	}
	for i, n := range ns {
		if n != i {
			t.Fatalf("%s got finals from %s out of order or twice: %v", who, from, ns)
		}
	}
}

// TestEventsReachEveryNode: three nodes; what one node publishes for a user
// reaches that user's subscribers on every node once, in order, and never
// another user's subscriber.
func TestEventsReachEveryNode(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	a, b, c := newNode(t, s.ClientURL(), "a"), newNode(t, s.ClientURL(), "b"), newNode(t, s.ClientURL(), "c")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	onA := collect(ctx, a.bridge.Subscribe(ctx, "u1"))
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u1"))
	onC := collect(ctx, c.bridge.Subscribe(ctx, "u1"))
	other := collect(ctx, b.bridge.Subscribe(ctx, "u2"))
	odd := collect(ctx, c.bridge.Subscribe(ctx, "u1.*")) // a wildcard-looking ID is just another user

	const n = 200
	var wg sync.WaitGroup
	for _, p := range []struct {
		n    *node
		name string
	}{{a, "a"}, {b, "b"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				p.n.bridge.Publish(ctx, "u1", ev{"delta", i, p.name})
				p.n.bridge.Publish(ctx, "u1", ev{"final", i, p.name})
			}
		}()
	}
	wg.Wait()
	for who, col := range map[string]*collector{"a": onA, "b": onB, "c": onC} {
		eventually(t, who+" gets every final", func() bool { return col.count("final") == 2*n })
	}
	a.bridge.Publish(ctx, "u2", ev{"final", 0, "a"})
	eventually(t, "u2 on b", func() bool { return other.count("final") == 1 })
	time.Sleep(100 * time.Millisecond) // room for a stray duplicate to show up
	for who, col := range map[string]*collector{"a": onA, "b": onB, "c": onC} {
		got := col.events()
		finals(t, who, got, "a", n)
		finals(t, who, got, "b", n)
		if l := col.count("lagged"); l != 0 {
			t.Errorf("%s lagged %d times with room to spare", who, l)
		}
		if d := col.count("delta"); d != 2*n {
			t.Errorf("%s got %d deltas, want %d (none lost with room, none twice)", who, d, 2*n)
		}
	}
	if got := other.events(); len(got) != 1 {
		t.Errorf("u2's subscriber got %v; want only u2's one event", got)
	}
	if got := odd.events(); len(got) != 0 {
		t.Errorf("user %q got %d events of u1", "u1.*", len(got))
	}
}

// TestUnsubscribedNodeStopsListening: once a node's last subscriber for a
// user leaves, the node drops its NATS interest in that user.
func TestUnsubscribedNodeStopsListening(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	a := newNode(t, s.ClientURL(), "a")
	before := s.NumSubscriptions()
	ctx, cancel := context.WithCancel(context.Background())
	sub1 := a.bridge.Subscribe(ctx, "u1")
	sub2 := a.bridge.Subscribe(ctx, "u1")
	_ = collect(ctx, sub1)
	_ = collect(ctx, sub2)
	if got := s.NumSubscriptions(); got != before+1 {
		t.Fatalf("server subscriptions = %d, want %d (one per user per node)", got, before+1)
	}
	cancel()
	eventually(t, "interest dropped", func() bool { return s.NumSubscriptions() == before })
}

// TestReconnectNoDuplicates: the NATS server restarts on the same port and
// store; the nodes reconnect by themselves, events flow again, nothing is
// delivered twice, and each reader learns of the outage by a lagged marker.
func TestReconnectNoDuplicates(t *testing.T) {
	dir := t.TempDir()
	s := natsServer(t, 0, dir)
	port := s.Addr().(*net.TCPAddr).Port
	a, b := newNode(t, s.ClientURL(), "a"), newNode(t, s.ClientURL(), "b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u1"))
	for i := range 10 {
		a.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
	}
	eventually(t, "first events on b", func() bool { return onB.count("final") == 10 })

	s.Shutdown()
	s.WaitForShutdown()
	eventually(t, "nodes see the outage", func() bool { return !a.nc.IsConnected() && !b.nc.IsConnected() })
	for i := 10; i < 20; i++ { // buffered by a's client; b may or may not get them
		a.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
	}
	s = natsServer(t, port, dir)
	defer s.Shutdown()
	eventually(t, "nodes reconnect", func() bool { return a.nc.IsConnected() && b.nc.IsConnected() })
	if err := b.nc.Flush(); err != nil { // b's interest is back on the server
		t.Fatal(err)
	}
	for i := 20; i < 30; i++ {
		a.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
	}
	eventually(t, "events after the restart", func() bool {
		for _, e := range onB.events() {
			if e == (ev{"final", 29, "a"}) {
				return true
			}
		}
		return false
	})
	time.Sleep(100 * time.Millisecond)
	got := onB.events()
	last, seen := -1, map[int]bool{}
	for _, e := range got {
		if e.Kind != "final" {
			continue
		}
		if e.N <= last {
			t.Fatalf("b got final %d after %d (duplicate or reordered): %v", e.N, last, got)
		}
		last = e.N
		seen[e.N] = true
	}
	for i := range 30 {
		if (i < 10 || i >= 20) && !seen[i] {
			t.Fatalf("b missed final %d: %v", i, got)
		}
	}
	t.Logf("b got %v", got)
	if onB.count("lagged") == 0 {
		t.Fatalf("b was not told it may have missed events during the outage: %v", got)
	}
}

// TestReplayedEventDropped: an event seen twice (a replay) is delivered
// once, and a hole in an origin's sequence becomes a lagged marker.
func TestReplayedEventDropped(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	b := newNode(t, s.ClientURL(), "b")
	raw := connect(t, s.ClientURL(), "raw")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u1"))
	send := func(origin string, seq int, n int) {
		m := &nats.Msg{Subject: cluster.EventsSubject("u1"), Header: nats.Header{},
			Data: []byte(fmt.Sprintf(`{"Kind":"final","N":%d,"From":%q}`, n, origin))}
		m.Header.Set("Os1-Origin", origin)
		m.Header.Set("Os1-Seq", fmt.Sprint(seq))
		if err := raw.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	send("x", 1, 1)
	send("x", 1, 1)
	send("x", 2, 2)
	send("x", 4, 4)
	send("x", 3, 3)               // late: older than what was delivered
	send(b.bridge.Origin(), 9, 9) // b's own event, echoed
	send("y", 5, 5)               // another origin: its own sequence
	eventually(t, "events on b", func() bool { return onB.count("final") >= 4 })
	time.Sleep(50 * time.Millisecond)
	want := []ev{{"final", 1, "x"}, {"final", 2, "x"}, {"lagged", 4, ""}, {"final", 4, "x"}, {"final", 5, "y"}}
	if got := onB.events(); fmtEvents(got) != fmtEvents(want) {
		t.Fatalf("b got %v, want %v", got, want)
	}
}

// TestStalledRemoteReaderHoldsOnlyItsUser: on node B a reader of u1 never
// reads; u1's remote events wait for it within the bus's limits, and u2's
// remote events on B still arrive at once.
func TestStalledRemoteReaderHoldsOnlyItsUser(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	a := newNode(t, s.ClientURL(), "a")
	ncB := connect(t, s.ClientURL(), "b")
	localB := events.NewLocal(classify, events.Limits{Lossy: 2, Final: 4, FinalWait: time.Hour})
	b := cluster.NewBridge(ncB, localB, classify, cluster.BridgeOptions{Node: "b"})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = b.Subscribe(ctx, "u1") // subscribed, never ranged
	onU2 := collect(ctx, b.Subscribe(ctx, "u2"))
	start := time.Now()
	for i := range 20 { // a's publisher is never held by b's stalled reader
		a.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
	}
	a.bridge.Publish(ctx, "u2", ev{"final", 0, "a"})
	eventually(t, "u2's event on b", func() bool { return onU2.count("final") == 1 })
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("u2's event took %s behind u1's stalled reader", d)
	}
}

// TestRestartedNodeIsHeard: a node that restarts starts its sequence again;
// it is a new origin, so its events are not taken for replays.
func TestRestartedNodeIsHeard(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	b := newNode(t, s.ClientURL(), "b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onB := collect(ctx, b.bridge.Subscribe(ctx, "u1"))
	a1 := newNode(t, s.ClientURL(), "a")
	for i := range 5 {
		a1.bridge.Publish(ctx, "u1", ev{"final", i, "a"})
	}
	eventually(t, "a's first life", func() bool { return onB.count("final") == 5 })
	a1.bridge.Close()
	a1.nc.Close()
	a2 := newNode(t, s.ClientURL(), "a")
	for i := range 5 {
		a2.bridge.Publish(ctx, "u1", ev{"final", 10 + i, "a"})
	}
	eventually(t, "a's second life", func() bool { return onB.count("final") == 10 })
	if l := onB.count("lagged"); l != 0 {
		t.Errorf("b lagged %d times", l)
	}
}

type fakeTurns struct {
	mu      sync.Mutex
	running map[string]string // conversation -> user
}

func (f *fakeTurns) runner(conv string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running[conv]
}

func (f *fakeTurns) start(conv, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running[conv] = user
}

func (f *fakeTurns) Cancel(_ context.Context, userID, conv string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[conv] != userID {
		return false, nil
	}
	delete(f.running, conv)
	return true, nil
}

// TestRemoteCancel: node B stops a turn that runs on node A; a cancel for a
// conversation nobody runs, or for another user's conversation, stops nothing.
func TestRemoteCancel(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	turnsA := &fakeTurns{running: map[string]string{"c1": "u1", "c9": "u9"}}
	turnsB := &fakeTurns{running: map[string]string{}}
	svcA, err := cluster.NewCancelService(connect(t, s.ClientURL(), "a"), turnsA, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svcA.Close()
	svcB, err := cluster.NewCancelService(connect(t, s.ClientURL(), "b"), turnsB, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svcB.Close()
	ctx := context.Background()

	if ok, err := svcB.Cancel(ctx, "u1", "c9"); ok || err != nil {
		t.Fatalf("u1 cancelling u9's conversation: %v, %v; want false", ok, err)
	}
	if ok, err := svcB.Cancel(ctx, "u1", "c1"); !ok || err != nil {
		t.Fatalf("cancel from B of A's turn: %v, %v; want true", ok, err)
	}
	if turnsA.runner("c1") != "" {
		t.Fatal("A's turn still running")
	}
	if ok, err := svcB.Cancel(ctx, "u1", "c1"); ok || err != nil {
		t.Fatalf("second cancel: %v, %v; want false (nothing running)", ok, err)
	}
	if turnsA.runner("c9") != "u9" {
		t.Fatal("u9's turn was stopped by another user's request")
	}
	// A local turn is cancelled without asking the others.
	turnsB.start("c2", "u1")
	if ok, err := svcB.Cancel(ctx, "u1", "c2"); !ok || err != nil {
		t.Fatalf("local cancel: %v, %v", ok, err)
	}
}

func fmtEvents(es []ev) string { return fmt.Sprint(es) }

func (f *fakeTurns) Running(conv string) bool { return f.runner(conv) != "" }

// TestRunningElsewhere: a node learns whether another node runs a
// conversation's turn (the sweep of cut-off replies asks before it marks
// one interrupted).
func TestRunningElsewhere(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	turnsA := &fakeTurns{running: map[string]string{"c1": "u1"}}
	turnsB := &fakeTurns{running: map[string]string{"c2": "u1"}}
	svcA, err := cluster.NewCancelService(connect(t, s.ClientURL(), "a"), turnsA, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svcA.Close()
	svcB, err := cluster.NewCancelService(connect(t, s.ClientURL(), "b"), turnsB, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svcB.Close()
	ctx := context.Background()
	for _, c := range []struct {
		svc  *cluster.CancelService
		conv string
		want bool
	}{{svcB, "c1", true}, {svcA, "c2", true}, {svcB, "c3", false}} {
		if got, err := c.svc.RunningElsewhere(ctx, "u1", c.conv); got != c.want || err != nil {
			t.Errorf("running elsewhere %s: %v, %v; want %v", c.conv, got, err, c.want)
		}
	}
	turnsA.Cancel(ctx, "u1", "c1")
	if got, err := svcB.RunningElsewhere(ctx, "u1", "c1"); got || err != nil {
		t.Errorf("after the turn ended: %v, %v; want false", got, err)
	}
}
