package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/os1ai/os1/internal/clock"
)

// Bus is the part of a node's events bus the Bridge needs; events.Bus and
// events.Local satisfy it (internal/events is not changed for the cluster).
type Bus[T any] interface {
	Publish(ctx context.Context, userID string, ev T)
	Subscribe(ctx context.Context, userID string) iter.Seq[T]
}

// Message headers of a bridged event.
const (
	// hdrOrigin is the publishing node's instance ID, "/", and the
	// generation of its sequence counter for this user: a counter dropped
	// while idle and made again is a new origin to the receivers.
	hdrOrigin = "Os1-Origin"
	hdrSeq    = "Os1-Seq" // the origin's sequence number for this user, from 1
)

// BridgeOptions tune a Bridge.
type BridgeOptions struct {
	// Node names the node in logs; the Bridge adds a per-process instance
	// ID, so a restarted node is a new origin.
	Node string
	Log  *slog.Logger
	// Clock drives the interest announcements, their expiry, the grace
	// period and the pruning of sequence counters (default the system clock).
	Clock clock.Clock
	// SubscribeWait bounds how long Subscribe waits for the NATS server to
	// confirm this node's interest (default 2s).
	SubscribeWait time.Duration
	// AckWait bounds how long Subscribe waits for the other nodes to
	// acknowledge that this node follows a user (default 1s). It is a
	// network wait on the real clock.
	AckWait time.Duration
	// InterestEvery is how often a node announces again the users it
	// follows (default 10s); another node's interest expires after three
	// times this without an announcement.
	InterestEvery time.Duration
	// Grace is how long after start and after a reconnect the node relays
	// every event, until the other nodes have told it what they follow
	// (default 2s).
	Grace time.Duration
	// PruneAfter drops a user's sequence counter once the node has not
	// published for that user for this long (default 10m).
	PruneAfter time.Duration
	// PendingMsgs bounds the events buffered for one user before NATS drops
	// them (default 65536); a drop is seen as a gap and becomes a lagged marker.
	PendingMsgs int
}

// Bridge is a node's events bus joined to the other nodes' through NATS. It
// is itself a Bus: Publish delivers to this node's subscribers and to the
// other nodes' that follow the user; Subscribe follows the user's events
// from every node.
//
// Relay by interest: a node publishes a user's events on NATS only while
// another node follows that user (interest.go); a node relays everything
// for a grace period after it starts or reconnects, until it has heard what
// the others follow.
//
// Delivery: the local bus keeps its promise (package events) for every
// event, local or remote. Between nodes, core NATS carries each event at most
// once, in order per publishing node; every event carries its origin and a
// per-user sequence number (counted for every event, relayed or not), so a
// node never delivers its own events twice nor a remote event twice (a
// replay after reconnect is dropped), and an event that NATS lost (a
// disconnect, a slow node) or that was not relayed while the user was
// followed is replaced by the bus's lagged marker: the reader re-reads what
// is stored, as with a local lag. Subscribe returns once every other node
// has acknowledged the interest; a node that acknowledges late gives the
// reader one lagged marker. After a reconnect every bridged user gets one
// lagged marker, since events published elsewhere during the outage may be
// gone.
type Bridge[T any] struct {
	nc       *nats.Conn
	local    Bus[T]
	classify func(T) (bool, T)
	id       string // this process's instance ID: node name "." nuid
	log      *slog.Logger
	opts     BridgeOptions
	clk      clock.Clock

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // the announcer has stopped

	pubMu sync.Mutex
	seq   map[string]*counter // user -> its sequence counter
	gen   uint64              // the last counter generation handed out

	interest interest // what the other nodes follow

	inbox  string // where the other nodes acknowledge this node's interest
	subs   []*nats.Subscription
	mu     sync.Mutex
	users  map[string]*remote // users with local subscribers
	closed bool
}

// counter is a user's sequence on the publishing node.
type counter struct {
	gen  uint64
	n    uint64
	used time.Time
}

// remote is one user's NATS subscription and what it has seen.
type remote struct {
	refs  int
	sub   *nats.Subscription
	ready chan struct{} // closed once the other nodes acknowledged (or the wait ended)
	mu    sync.Mutex
	last  map[string]*seen // origin -> last sequence delivered
	ref   string           // names this follow in the acknowledgements
	// While Subscribe waits (waiting), an acknowledgement is in time; one
	// that comes after gives the readers a lagged marker.
	waiting bool
	wait    map[string]bool // known nodes not acknowledged yet
	acked   chan struct{}   // closed when wait empties
	got     map[string]bool // nodes that acknowledged
	late    map[string]bool // nodes that had not acknowledged when Subscribe returned
}

type seen struct {
	n  uint64
	at time.Time
}

// NewBridge joins local to the cluster through nc. classify is the bus's
// delivery rule (the function given to events.NewLocal). The Bridge listens
// for reconnects on nc; call Close before closing nc.
func NewBridge[T any](nc *nats.Conn, local Bus[T], classify func(T) (bool, T), opts BridgeOptions) *Bridge[T] {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.SubscribeWait <= 0 {
		opts.SubscribeWait = 2 * time.Second
	}
	if opts.AckWait <= 0 {
		opts.AckWait = time.Second
	}
	if opts.InterestEvery <= 0 {
		opts.InterestEvery = 10 * time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 2 * time.Second
	}
	if opts.PruneAfter <= 0 {
		opts.PruneAfter = 10 * time.Minute
	}
	if opts.PendingMsgs <= 0 {
		opts.PendingMsgs = 65536
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge[T]{nc: nc, local: local, classify: classify, id: opts.Node + "." + nuid.Next(),
		log: opts.Log, opts: opts, clk: opts.Clock, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		seq: map[string]*counter{}, users: map[string]*remote{}}
	b.interest.init(b.clk.Now().Add(opts.Grace))
	b.inbox = nc.NewInbox()
	for subj, h := range map[string]nats.MsgHandler{InterestSubject: b.heard, b.inbox: b.acked} {
		sub, err := nc.Subscribe(subj, h)
		if err != nil {
			// Without the interest protocol the node relays everything.
			b.log.Warn("cluster: interest not followed; relaying every event", "err", err)
			b.interest.relayAlways()
			continue
		}
		b.subs = append(b.subs, sub)
	}
	nc.SetReconnectHandler(chain(nc.ReconnectHandler(), b.reconnected))
	if nc.IsConnected() {
		_ = nc.FlushTimeout(opts.SubscribeWait)
	}
	b.announce(interestMsg{Op: opSync}, "")
	go b.announcer()
	return b
}

func chain(prev nats.ConnHandler, next func(*nats.Conn)) nats.ConnHandler {
	return func(nc *nats.Conn) {
		if prev != nil {
			prev(nc)
		}
		next(nc)
	}
}

// Origin is this Bridge's instance ID; its events carry it, followed by
// "/" and a counter generation.
func (b *Bridge[T]) Origin() string { return b.id }

// Publish delivers ev to userID's subscribers on this node and, while
// another node follows userID, hands it to NATS. NATS never blocks it: while
// disconnected the client buffers, and past its buffer the event is lost for
// the other nodes (they see a gap and a lagged marker).
func (b *Bridge[T]) Publish(ctx context.Context, userID string, ev T) {
	b.relay(userID, ev)
	b.local.Publish(ctx, userID, ev)
}

func (b *Bridge[T]) relay(userID string, ev T) {
	var data []byte
	if b.interest.wanted(userID, b.clk.Now()) {
		data = b.marshal(ev)
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	now := b.clk.Now()
	c := b.seq[userID]
	if c == nil {
		b.gen++
		c = &counter{gen: b.gen}
		b.seq[userID] = c
	}
	// The sequence moves for every event, relayed or not, and when the
	// publish fails, so a node that follows the user sees the gap.
	c.n++
	c.used = now
	// Decided again under pubMu, after the counter moved: an event counted
	// after another node's interest was recorded is relayed.
	if !b.interest.wanted(userID, now) {
		return
	}
	if data == nil {
		if data = b.marshal(ev); data == nil {
			return
		}
	}
	m := &nats.Msg{Subject: EventsSubject(userID), Data: data, Header: nats.Header{}}
	m.Header.Set(hdrOrigin, b.id+"/"+strconv.FormatUint(c.gen, 10))
	m.Header.Set(hdrSeq, strconv.FormatUint(c.n, 10))
	if err := b.nc.PublishMsg(m); err != nil {
		b.log.Warn("cluster: event not relayed", "err", err)
	}
}

func (b *Bridge[T]) marshal(ev T) []byte {
	data, err := json.Marshal(ev)
	if err != nil {
		b.log.Error("cluster: event not relayed", "err", err)
		return nil
	}
	return data
}

// Subscribe follows userID's events from every node until ctx ends or the
// caller stops ranging. Like the local bus it registers before it returns:
// this node's interest is confirmed by the NATS server (within
// SubscribeWait; while disconnected it is registered on reconnect) and
// acknowledged by the other nodes (within AckWait).
func (b *Bridge[T]) Subscribe(ctx context.Context, userID string) iter.Seq[T] {
	seq := b.local.Subscribe(ctx, userID)
	if err := b.acquire(userID); err != nil {
		b.log.Warn("cluster: remote events not followed", "err", err)
		return seq
	}
	var once sync.Once
	release := func() { once.Do(func() { b.release(userID) }) }
	stop := context.AfterFunc(ctx, release)
	return func(yield func(T) bool) {
		defer func() { stop(); release() }()
		for ev := range seq {
			if !yield(ev) {
				return
			}
		}
	}
}

func (b *Bridge[T]) acquire(userID string) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("bridge closed")
	}
	if r, ok := b.users[userID]; ok {
		r.refs++
		b.mu.Unlock()
		<-r.ready // the first subscriber's announcement covers this one
		return nil
	}
	r := &remote{refs: 1, last: map[string]*seen{}, ready: make(chan struct{}), ref: nuid.Next()}
	defer close(r.ready)
	sub, err := b.nc.Subscribe(EventsSubject(userID), func(m *nats.Msg) { b.deliver(userID, r, m) })
	if err != nil {
		b.mu.Unlock()
		return err
	}
	_ = sub.SetPendingLimits(b.opts.PendingMsgs, -1)
	r.sub = sub
	b.users[userID] = r
	b.mu.Unlock()
	b.follow(userID, r)
	return nil
}

// follow tells the other nodes this node follows userID and waits for them
// to acknowledge: an event they count after acknowledging is relayed. The
// events subscription is made first, so the NATS server has it before any
// node hears of the interest.
func (b *Bridge[T]) follow(userID string, r *remote) {
	if !b.nc.IsConnected() {
		// Registered on reconnect, which re-announces every followed user
		// and gives each a lagged marker.
		b.announce(interestMsg{Op: opFollow, Users: []string{userID}}, "")
		return
	}
	peers, slow := b.interest.peersAt(b.clk.Now())
	r.mu.Lock()
	r.waiting = true
	r.got = map[string]bool{}
	r.late = map[string]bool{}
	for _, p := range slow {
		r.late[p] = true // not waited for; its acknowledgement gives a lagged marker
	}
	r.wait = map[string]bool{}
	for _, p := range peers {
		r.wait[p] = true
	}
	var acked chan struct{}
	if len(peers) > 0 {
		acked = make(chan struct{})
		r.acked = acked
	}
	r.mu.Unlock()
	b.announce(interestMsg{Op: opFollow, Users: []string{userID}, Ref: r.ref}, b.inbox)
	if acked == nil {
		if err := b.nc.FlushTimeout(b.opts.SubscribeWait); err != nil {
			b.log.Warn("cluster: subscription not confirmed", "err", err)
		}
	} else {
		t := time.NewTimer(b.opts.AckWait)
		select {
		case <-acked:
		case <-t.C:
		case <-b.ctx.Done():
		}
		t.Stop()
	}
	r.mu.Lock()
	var missing []string
	for p := range r.wait {
		r.late[p] = true
		missing = append(missing, p)
	}
	r.waiting, r.wait, r.acked = false, nil, nil
	r.mu.Unlock()
	if len(missing) > 0 {
		b.interest.markSlow(missing, true)
		b.log.Warn("cluster: nodes did not acknowledge a followed user in time", "nodes", missing, "wait", b.opts.AckWait)
	}
}

func (b *Bridge[T]) release(userID string) {
	b.mu.Lock()
	r, ok := b.users[userID]
	if !ok {
		b.mu.Unlock()
		return
	}
	if r.refs--; r.refs > 0 {
		b.mu.Unlock()
		return
	}
	delete(b.users, userID)
	_ = r.sub.Unsubscribe()
	closed := b.closed
	b.mu.Unlock()
	if !closed {
		b.announce(interestMsg{Op: opUnfollow, Users: []string{userID}}, "")
	}
}

// deliver runs on the user's subscription goroutine: a stalled reader of
// one user holds only that user's remote events, within the bus's limits.
func (b *Bridge[T]) deliver(userID string, r *remote, m *nats.Msg) {
	origin := m.Header.Get(hdrOrigin)
	if origin == "" || origin == b.id || strings.HasPrefix(origin, b.id+"/") {
		return // our own event, or not a bridged one
	}
	n, err := strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
	if err != nil || n == 0 {
		return
	}
	var ev T
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		b.log.Warn("cluster: bad event dropped", "origin", origin, "err", err)
		n = 0 // still count it as missed below
	}
	now := b.clk.Now()
	r.mu.Lock()
	s := r.last[origin]
	var last uint64
	if s != nil {
		last = s.n
	}
	if n != 0 && n <= last {
		r.mu.Unlock()
		return // delivered already
	}
	gap := n == 0 || (last != 0 && n > last+1)
	if n != 0 {
		if s == nil {
			s = &seen{}
			r.last[origin] = s
		}
		s.n, s.at = n, now
	}
	r.mu.Unlock()
	if gap {
		_, marker := b.classify(ev)
		b.local.Publish(b.ctx, userID, marker)
	}
	if n != 0 {
		b.local.Publish(b.ctx, userID, ev)
	}
}

// lagged gives userID's readers on this node one lagged marker, off the
// NATS callbacks.
func (b *Bridge[T]) lagged(userID string) {
	var zero T
	_, marker := b.classify(zero)
	go b.local.Publish(b.ctx, userID, marker)
}

// followed lists the users this node follows.
func (b *Bridge[T]) followed() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	users := make([]string, 0, len(b.users))
	for u := range b.users {
		users = append(users, u)
	}
	return users
}

// reconnected relays everything again for the grace period, asks the other
// nodes what they follow, tells them what this node follows, and tells
// every bridged user's readers that remote events may have been missed
// during the outage.
func (b *Bridge[T]) reconnected(*nats.Conn) {
	b.interest.restart(b.clk.Now().Add(b.opts.Grace))
	b.announce(interestMsg{Op: opSync}, "")
	users := b.followed()
	b.announceAll(users)
	for _, u := range users {
		b.lagged(u)
	}
}

// prune drops the sequence counters of users not published for
// PruneAfter, and what readers remember of origins not heard from for twice
// that (such an origin has dropped its counter and comes back as a new one).
func (b *Bridge[T]) prune(now time.Time) {
	b.pubMu.Lock()
	for u, c := range b.seq {
		if now.Sub(c.used) >= b.opts.PruneAfter {
			delete(b.seq, u)
		}
	}
	b.pubMu.Unlock()
	b.mu.Lock()
	rs := make([]*remote, 0, len(b.users))
	for _, r := range b.users {
		rs = append(rs, r)
	}
	b.mu.Unlock()
	for _, r := range rs {
		r.mu.Lock()
		for o, s := range r.last {
			if now.Sub(s.at) >= 2*b.opts.PruneAfter {
				delete(r.last, o)
			}
		}
		r.mu.Unlock()
	}
}

// Relays reports whether Publish hands userID's events to NATS now: another
// node follows the user, or this node is in its grace period.
func (b *Bridge[T]) Relays(userID string) bool { return b.interest.wanted(userID, b.clk.Now()) }

// Nodes is how many other live nodes this node knows of.
func (b *Bridge[T]) Nodes() int {
	wait, slow := b.interest.peersAt(b.clk.Now())
	return len(wait) + len(slow)
}

// Counters is how many per-user sequence counters the node keeps (tests).
func (b *Bridge[T]) Counters() int {
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	return len(b.seq)
}

// Close stops following remote events and tells the other nodes this node
// follows nothing any more; local subscribers keep the local bus.
func (b *Bridge[T]) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	for u, r := range b.users {
		_ = r.sub.Unsubscribe()
		delete(b.users, u)
	}
	b.mu.Unlock()
	b.cancel()
	<-b.done
	for _, s := range b.subs {
		_ = s.Unsubscribe()
	}
	b.announce(interestMsg{Op: opBye}, "")
	if b.nc.IsConnected() {
		_ = b.nc.FlushTimeout(b.opts.SubscribeWait)
	}
}
