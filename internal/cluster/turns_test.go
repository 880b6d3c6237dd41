package cluster_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/cluster"
)

func openTurns(t *testing.T, url, node string, ttl time.Duration) *cluster.Turns {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := cluster.OpenTurns(ctx, connect(t, url, node), cluster.TurnsOptions{Node: node, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func held(t *testing.T, tr *cluster.Turns, user, conv string) bool {
	t.Helper()
	h, err := tr.Held(context.Background(), user, conv)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// One conversation's turn is held by one node at a time; every node sees
// it held; released, another node may take it. Other conversations, and
// IDs that are not NATS-safe, are claims of their own.
func TestTurnClaimOneNodeAtATime(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	a := openTurns(t, s.ClientURL(), "a", 30*time.Second)
	b := openTurns(t, s.ClientURL(), "b", 30*time.Second)
	ctx := context.Background()

	release, err := a.Claim(ctx, "usr_1", "cnv_1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, "usr_1", "cnv_1"); !errors.Is(err, cluster.ErrTurnHeld) {
		t.Fatalf("node b claimed a conversation node a holds: %v", err)
	}
	if _, err := a.Claim(ctx, "usr_1", "cnv_1"); !errors.Is(err, cluster.ErrTurnHeld) {
		t.Fatalf("node a claimed its own held conversation twice: %v", err)
	}
	if !held(t, a, "usr_1", "cnv_1") || !held(t, b, "usr_1", "cnv_1") {
		t.Fatal("a held claim is not seen on both nodes")
	}
	// Another conversation, another user, and hostile IDs are separate.
	for _, k := range [][2]string{{"usr_1", "cnv_2"}, {"usr_2", "cnv_1"}, {"usr_1", "cnv.1"}, {"usr_1", "cnv>*"}, {"u.*", "cnv_1"}} {
		rel, err := b.Claim(ctx, k[0], k[1])
		if err != nil {
			t.Fatalf("claim %q: %v", k, err)
		}
		defer rel()
	}
	release()
	release() // twice is harmless
	if held(t, b, "usr_1", "cnv_1") {
		t.Fatal("a released claim is still seen")
	}
	relB, err := b.Claim(ctx, "usr_1", "cnv_1")
	if err != nil {
		t.Fatalf("node b could not take a released conversation: %v", err)
	}
	relB()
}

// A live node keeps its claim past the TTL by renewing it; a node that
// stops (dies) loses it within about the TTL; its late release does not
// take away the claim another node has since made.
func TestTurnClaimRenewedAndExpires(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	const ttl = 900 * time.Millisecond
	a := openTurns(t, s.ClientURL(), "a", ttl)
	b := openTurns(t, s.ClientURL(), "b", ttl)
	ctx := context.Background()
	releaseA, err := a.Claim(ctx, "usr_1", "cnv_1")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * ttl) // real time: the TTL is kept by the NATS server
	if _, err := b.Claim(ctx, "usr_1", "cnv_1"); !errors.Is(err, cluster.ErrTurnHeld) {
		t.Fatalf("a renewed claim was lost after 3 TTLs: %v", err)
	}
	a.Close() // node a stops renewing, as if it died
	deadline := time.Now().Add(10 * ttl)
	var releaseB func()
	for {
		if releaseB, err = b.Claim(ctx, "usr_1", "cnv_1"); err == nil {
			break
		}
		if !errors.Is(err, cluster.ErrTurnHeld) || time.Now().After(deadline) {
			t.Fatalf("a dead node's claim did not expire: %v", err)
		}
		time.Sleep(ttl / 10)
	}
	defer releaseB()
	releaseA() // node a's late release
	if !held(t, b, "usr_1", "cnv_1") {
		t.Fatal("a late release by the node that lost the claim removed the new holder's claim")
	}
}

// The sweep's Drop removes the claim it read, and only that one: a claim
// taken after it was read stays.
func TestTurnClaimDropOnlyTheRevisionRead(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	dead := openTurns(t, s.ClientURL(), "dead", 30*time.Second)
	live := openTurns(t, s.ClientURL(), "live", 30*time.Second)
	ctx := context.Background()
	if rev, err := live.Revision(ctx, "usr_1", "cnv_1"); rev != 0 || err != nil {
		t.Fatalf("no claim yet: revision %d, %v", rev, err)
	}
	if _, err := dead.Claim(ctx, "usr_1", "cnv_1"); err != nil {
		t.Fatal(err)
	}
	rev, err := live.Revision(ctx, "usr_1", "cnv_1")
	if err != nil || rev == 0 {
		t.Fatalf("revision of a held claim: %d, %v", rev, err)
	}
	if err := live.Drop(ctx, "usr_1", "cnv_1", rev); err != nil {
		t.Fatal(err)
	}
	release, err := live.Claim(ctx, "usr_1", "cnv_1")
	if err != nil {
		t.Fatalf("the dropped claim still holds the conversation: %v", err)
	}
	defer release()
	if err := dead.Drop(ctx, "usr_1", "cnv_1", rev); err == nil {
		t.Log("a stale drop reports no error") // either way the claim must stay:
	}
	if !held(t, dead, "usr_1", "cnv_1") {
		t.Fatal("dropping an old revision removed the live node's new claim")
	}
}

// The claims live in the NATS server's memory: after it restarts, the
// bucket is made again on the next claim, and a node's running turn claims
// its conversation again on its next renewal (within TTL/3), after which
// the other node refuses a second turn there again.
func TestTurnClaimsSurviveANATSRestart(t *testing.T) {
	dir := t.TempDir()
	s := natsServer(t, 0, dir)
	port := s.Addr().(*net.TCPAddr).Port
	const ttl = 900 * time.Millisecond
	a := openTurns(t, s.ClientURL(), "a", ttl)
	b := openTurns(t, s.ClientURL(), "b", ttl)
	ctx := context.Background()
	release, err := a.Claim(ctx, "usr_1", "cnv_1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	s.Shutdown()
	s.WaitForShutdown()
	s = natsServer(t, port, dir)
	defer s.Shutdown()

	deadline := time.Now().Add(20 * ttl)
	for {
		rel, err := b.Claim(ctx, "usr_1", "cnv_2")
		if err == nil {
			rel()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no claim after the NATS restart: %v", err)
		}
		time.Sleep(ttl / 10)
	}
	for !held(t, b, "usr_1", "cnv_1") {
		if time.Now().After(deadline) {
			t.Fatal("node a's running turn did not claim its conversation again after the restart")
		}
		time.Sleep(ttl / 10)
	}
	if _, err := b.Claim(ctx, "usr_1", "cnv_1"); !errors.Is(err, cluster.ErrTurnHeld) {
		t.Fatalf("node b took a conversation node a runs, after the restart: %v", err)
	}
}
