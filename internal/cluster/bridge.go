package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Bus is the part of a node's events bus the Bridge needs; events.Bus and
// events.Local satisfy it (internal/events is not changed for the cluster).
type Bus[T any] interface {
	Publish(ctx context.Context, userID string, ev T)
	Subscribe(ctx context.Context, userID string) iter.Seq[T]
}

// Message headers of a bridged event.
const (
	hdrOrigin = "Os1-Origin" // the publishing node's instance ID
	hdrSeq    = "Os1-Seq"    // the origin's sequence number for this user, from 1
)

// BridgeOptions tune a Bridge.
type BridgeOptions struct {
	// Node names the node in logs; the Bridge adds a per-process instance
	// ID, so a restarted node is a new origin.
	Node string
	Log  *slog.Logger
	// SubscribeWait bounds how long Subscribe waits for the NATS server to
	// confirm this node's interest (default 2s).
	SubscribeWait time.Duration
	// PendingMsgs bounds the events buffered for one user before NATS drops
	// them (default 65536); a drop is seen as a gap and becomes a lagged marker.
	PendingMsgs int
}

// Bridge is a node's events bus joined to the other nodes' through NATS. It
// is itself a Bus: Publish delivers to this node's subscribers and to the
// other nodes'; Subscribe follows the user's events from every node.
//
// Delivery: the local bus keeps its promise (package events) for every
// event, local or remote. Between nodes, core NATS carries each event at most
// once, in order per publishing node; every event carries its origin and a
// per-user sequence number, so a node never delivers its own events twice nor
// a remote event twice (a replay after reconnect is dropped), and an event
// that NATS lost (a disconnect, a slow node) is replaced by the bus's lagged
// marker: the reader re-reads what is stored, as with a local lag. After a
// reconnect every bridged user gets one lagged marker, since events
// published elsewhere during the outage may be gone.
type Bridge[T any] struct {
	nc       *nats.Conn
	local    Bus[T]
	classify func(T) (bool, T)
	origin   string
	log      *slog.Logger
	opts     BridgeOptions

	ctx    context.Context
	cancel context.CancelFunc

	pubMu sync.Mutex
	seq   map[string]uint64 // user -> last sequence published

	mu     sync.Mutex
	users  map[string]*remote // users with local subscribers
	closed bool
}

// remote is one user's NATS subscription and what it has seen.
type remote struct {
	refs int
	sub  *nats.Subscription
	mu   sync.Mutex
	last map[string]uint64 // origin -> last sequence delivered
}

// NewBridge joins local to the cluster through nc. classify is the bus's
// delivery rule (the function given to events.NewLocal). The Bridge listens
// for reconnects on nc; call Close before closing nc.
func NewBridge[T any](nc *nats.Conn, local Bus[T], classify func(T) (bool, T), opts BridgeOptions) *Bridge[T] {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.SubscribeWait <= 0 {
		opts.SubscribeWait = 2 * time.Second
	}
	if opts.PendingMsgs <= 0 {
		opts.PendingMsgs = 65536
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge[T]{nc: nc, local: local, classify: classify, origin: opts.Node + "." + nuid.Next(),
		log: opts.Log, opts: opts, ctx: ctx, cancel: cancel,
		seq: map[string]uint64{}, users: map[string]*remote{}}
	nc.SetReconnectHandler(chain(nc.ReconnectHandler(), b.reconnected))
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

// Origin is this Bridge's instance ID, as carried in its events.
func (b *Bridge[T]) Origin() string { return b.origin }

// Publish delivers ev to userID's subscribers on this node and hands it to
// NATS for the other nodes. NATS never blocks it: while disconnected the
// client buffers, and past its buffer the event is lost for the other nodes
// (they see a gap and a lagged marker).
func (b *Bridge[T]) Publish(ctx context.Context, userID string, ev T) {
	b.relay(userID, ev)
	b.local.Publish(ctx, userID, ev)
}

func (b *Bridge[T]) relay(userID string, ev T) {
	data, err := json.Marshal(ev)
	if err != nil {
		b.log.Error("cluster: event not relayed", "err", err)
		return
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	// The sequence moves even when the publish fails, so the others see the gap.
	b.seq[userID]++
	m := &nats.Msg{Subject: EventsSubject(userID), Data: data, Header: nats.Header{}}
	m.Header.Set(hdrOrigin, b.origin)
	m.Header.Set(hdrSeq, strconv.FormatUint(b.seq[userID], 10))
	if err := b.nc.PublishMsg(m); err != nil {
		b.log.Warn("cluster: event not relayed", "err", err)
	}
}

// Subscribe follows userID's events from every node until ctx ends or the
// caller stops ranging. Like the local bus it registers before it returns:
// this node's interest is confirmed by the NATS server (within
// SubscribeWait; while disconnected it is registered on reconnect).
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
		return nil
	}
	r := &remote{refs: 1, last: map[string]uint64{}}
	sub, err := b.nc.Subscribe(EventsSubject(userID), func(m *nats.Msg) { b.deliver(userID, r, m) })
	if err != nil {
		b.mu.Unlock()
		return err
	}
	_ = sub.SetPendingLimits(b.opts.PendingMsgs, -1)
	r.sub = sub
	b.users[userID] = r
	b.mu.Unlock()
	if b.nc.IsConnected() {
		if err := b.nc.FlushTimeout(b.opts.SubscribeWait); err != nil {
			b.log.Warn("cluster: subscription not confirmed", "err", err)
		}
	}
	return nil
}

func (b *Bridge[T]) release(userID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.users[userID]
	if !ok {
		return
	}
	if r.refs--; r.refs > 0 {
		return
	}
	delete(b.users, userID)
	_ = r.sub.Unsubscribe()
}

// deliver runs on the user's subscription goroutine: a stalled reader of
// one user holds only that user's remote events, within the bus's limits.
func (b *Bridge[T]) deliver(userID string, r *remote, m *nats.Msg) {
	origin := m.Header.Get(hdrOrigin)
	if origin == "" || origin == b.origin {
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
	r.mu.Lock()
	last := r.last[origin]
	if n != 0 && n <= last {
		r.mu.Unlock()
		return // delivered already
	}
	gap := n == 0 || (last != 0 && n > last+1)
	if n != 0 {
		r.last[origin] = n
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

// reconnected tells every bridged user's readers that remote events may have
// been missed during the outage.
func (b *Bridge[T]) reconnected(*nats.Conn) {
	b.mu.Lock()
	users := make([]string, 0, len(b.users))
	for u := range b.users {
		users = append(users, u)
	}
	b.mu.Unlock()
	var zero T
	_, marker := b.classify(zero)
	for _, u := range users {
		go b.local.Publish(b.ctx, u, marker) // never hold the NATS callbacks
	}
}

// Close stops following remote events; local subscribers keep the local bus.
func (b *Bridge[T]) Close() {
	b.mu.Lock()
	b.closed = true
	for u, r := range b.users {
		_ = r.sub.Unsubscribe()
		delete(b.users, u)
	}
	b.mu.Unlock()
	b.cancel()
}
