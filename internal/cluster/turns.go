package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrTurnHeld is Claim's answer when another node runs the conversation's
// turn.
var ErrTurnHeld = errors.New("another node is running this conversation's turn")

// TurnsOptions configure the turn claims.
type TurnsOptions struct {
	Bucket string // key-value bucket (default OS1_TURNS)
	// TTL is how long a claim outlives the node that took it: a live node
	// renews its claims every TTL/3, so a claim disappears at most TTL after
	// its node died (default 30s).
	TTL      time.Duration
	Replicas int // bucket replicas in a NATS cluster (default 1)
	Node     string
	Log      *slog.Logger
}

// Turns says which conversations have a turn running somewhere in the
// cluster: a node claims a conversation before its turn starts and releases
// it when the turn ends, so two messages sent to one conversation on two
// nodes at once start one turn, and every node can answer "is a reply being
// written here?". Claims live in a JetStream key-value bucket kept in the
// NATS server's memory (they mean nothing after a NATS restart, when every
// node's turns are still guarded by their own process). A node renews what it
// holds; a dead node's claims expire after TTL.
type Turns struct {
	js   jetstream.JetStream
	cfg  jetstream.KeyValueConfig
	kvMu sync.Mutex
	kv   jetstream.KeyValue // the bucket; made again when NATS lost it (bucket)
	opts TurnsOptions

	mu   sync.Mutex
	held map[string]*claim

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// claim is one conversation this node holds. Its lock orders a renewal and
// the release, so the release always names the revision written last.
type claim struct {
	mu       sync.Mutex
	rev      uint64 // the revision this node wrote last
	released bool
}

// OpenTurns creates (or reuses) the claims bucket and starts renewing.
func OpenTurns(ctx context.Context, nc *nats.Conn, o TurnsOptions) (*Turns, error) {
	if o.Bucket == "" {
		o.Bucket = "OS1_TURNS"
	}
	if o.TTL <= 0 {
		o.TTL = 30 * time.Second
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	cfg := jetstream.KeyValueConfig{
		Bucket:      o.Bucket,
		Description: "os1: conversations with a turn running, by node",
		History:     1,
		TTL:         o.TTL,
		Storage:     jetstream.MemoryStorage,
		Replicas:    o.Replicas,
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("turn claims bucket: %w", err)
	}
	t := &Turns{js: js, cfg: cfg, kv: kv, opts: o, held: map[string]*claim{}, stop: make(chan struct{}), done: make(chan struct{})}
	go t.renew()
	return t, nil
}

// turnKey is a conversation's key: the user's ID and the conversation's, each
// as it is when made of letters, digits, '-' and '_', else "=" and its
// base64url (no plain ID has "=", so two IDs never share a key).
func turnKey(userID, conversationID string) string {
	return keyToken(userID) + "." + keyToken(conversationID)
}

func keyToken(id string) string {
	if id != "" && plain(id) {
		return id
	}
	return "=" + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// bucket is the claims bucket as last opened.
func (t *Turns) bucket() jetstream.KeyValue {
	t.kvMu.Lock()
	defer t.kvMu.Unlock()
	return t.kv
}

// gone reports an error that means the bucket no longer exists: it is
// kept in the NATS server's memory, so a restarted server has none.
func gone(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, nats.ErrNoResponders)
}

// reopen makes the bucket again after NATS lost it.
func (t *Turns) reopen(ctx context.Context) error {
	kv, err := t.js.CreateOrUpdateKeyValue(ctx, t.cfg)
	if err != nil {
		return err
	}
	t.kvMu.Lock()
	t.kv = kv
	t.kvMu.Unlock()
	t.opts.Log.Info("cluster: turn claims bucket made again (the NATS server had lost it)", "bucket", t.cfg.Bucket)
	return nil
}

// Claim takes the conversation's turn for this node. ErrTurnHeld when
// another node holds it; any other error means NATS could not say (the
// caller decides whether to go on). release gives the claim back; it is
// safe to call more than once.
func (t *Turns) Claim(ctx context.Context, userID, conversationID string) (release func(), err error) {
	key := turnKey(userID, conversationID)
	rev, err := t.bucket().Create(ctx, key, []byte(t.opts.Node))
	if gone(err) {
		if err = t.reopen(ctx); err == nil {
			rev, err = t.bucket().Create(ctx, key, []byte(t.opts.Node))
		}
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, ErrTurnHeld
	}
	if err != nil {
		return nil, err
	}
	c := &claim{rev: rev}
	t.mu.Lock()
	t.held[key] = c
	t.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { t.release(key, c) }) }, nil
}

func (t *Turns) release(key string, c *claim) {
	t.mu.Lock()
	if t.held[key] == c {
		delete(t.held, key)
	}
	t.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Only our own revision: a claim that expired and was taken by another
	// node stays theirs.
	if err := t.bucket().Delete(ctx, key, jetstream.LastRevision(c.rev)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.opts.Log.Warn("cluster: turn claim not released; it expires on its own", "key", key, "ttl", t.opts.TTL, "err", err)
	}
}

// Held reports whether any node (this one included) holds the
// conversation's turn. An error when NATS could not say.
func (t *Turns) Held(ctx context.Context, userID, conversationID string) (bool, error) {
	_, err := t.bucket().Get(ctx, turnKey(userID, conversationID))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return false, nil
	case gone(err):
		return false, t.reopen(ctx) // nothing is held in a bucket NATS lost
	default:
		return false, err
	}
}

// Revision is the conversation's claim as it stands (0: none), for Drop.
func (t *Turns) Revision(ctx context.Context, userID, conversationID string) (uint64, error) {
	e, err := t.bucket().Get(ctx, turnKey(userID, conversationID))
	switch {
	case err == nil:
		return e.Revision(), nil
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return 0, nil
	case gone(err):
		return 0, t.reopen(ctx)
	default:
		return 0, err
	}
}

// Drop removes a claim no node's turn holds any more (a dead node's, found
// by the sweep), if it is still at revision rev: one taken since stays.
func (t *Turns) Drop(ctx context.Context, userID, conversationID string, rev uint64) error {
	if rev == 0 {
		return nil
	}
	err := t.bucket().Delete(ctx, turnKey(userID, conversationID), jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	return nil
}

// renew rewrites every claim this node holds each TTL/3, so a long turn
// keeps its claim and a dead node's lapse.
func (t *Turns) renew() {
	defer close(t.done)
	tick := time.NewTicker(t.opts.TTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		claims := make(map[string]*claim, len(t.held))
		for k, c := range t.held {
			claims[k] = c
		}
		t.mu.Unlock()
		for k, c := range claims {
			t.renewOne(k, c)
		}
	}
}

func (t *Turns) renewOne(key string, c *claim) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.TTL/3)
	defer cancel()
	next, err := t.bucket().Update(ctx, key, []byte(t.opts.Node), c.rev)
	if gone(err) {
		err = t.reopen(ctx)
	}
	if err != nil {
		// NATS lost the claim (a restarted server keeps no bucket, or a
		// new, empty one another node made): this node's running turn
		// claims its conversation again, so the others keep refusing a
		// second turn. A claim another node holds by now stays theirs.
		if again, cerr := t.bucket().Create(ctx, key, []byte(t.opts.Node)); cerr == nil {
			next, err = again, nil
		}
	}
	if err != nil {
		t.opts.Log.Warn("cluster: turn claim not renewed", "key", key, "err", err)
		return
	}
	c.rev = next
}

// Close stops renewing. Claims still held expire after TTL.
func (t *Turns) Close() {
	t.once.Do(func() { close(t.stop) })
	<-t.done
}
