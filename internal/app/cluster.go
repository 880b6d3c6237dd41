package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/cluster"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/events"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqltime"
)

// Cluster is this node's part of a cluster of os1 nodes joined through NATS
// (docs/scale.md): a user's events reach every node (the Bridge is the
// companion's bus), a turn is cancelled from any node (Cancel), the memory
// worker's jobs go through a JetStream work queue (Jobs), and replies cut
// off by a dead node are swept to interrupted. It is nil without
// [cluster] nats_url: then none of this runs.
type Cluster struct {
	Node   string // this node's name, in logs and /healthz
	Bridge *cluster.Bridge[companion.Event]
	Cancel *cluster.CancelService // nil until the companion is attached
	Jobs   *cluster.Jobs
	Turns  *cluster.Turns // which conversations have a turn running, on any node

	revokeSub *nats.Subscription // other nodes' revocations (revocations)

	nc         *nats.Conn
	log        *slog.Logger
	clock      clock.Clock
	db         sqldb.Handle
	companion  *companion.Companion
	worker     *worker.Service // nil: this node does no memory work
	staleAfter time.Duration

	ctx      context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup // the jobs' worker and the sweep
	queueing sync.WaitGroup // jobs being handed to NATS
	closed   sync.Once
}

// NodeName is the configured node name, else hostname-pid.
func NodeName(cfg config.Config) string {
	if cfg.Cluster.Node != "" {
		return cfg.Cluster.Node
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "os1"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// newCluster connects to NATS and opens the jobs stream. The companion is
// attached later (attach), once built on the Bridge.
func newCluster(ctx context.Context, cfg config.Config, log *slog.Logger, clk clock.Clock, db sqldb.Handle) (*Cluster, error) {
	node := NodeName(cfg)
	nc, err := cluster.Connect(cfg.Cluster.NATSURL, node, log.With("component", "cluster"))
	log = log.With("component", "cluster", "node", node)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS ([cluster] nats_url, OS1_NATS_URL): %w (is nats-server running there? `os1 doctor` shows the URL it tried)", err)
	}
	c := &Cluster{Node: node, nc: nc, log: log, clock: clk, db: db,
		staleAfter: cfg.Cluster.StaleAfter.Duration}
	if c.staleAfter <= 0 {
		c.staleAfter = config.DefaultStaleAfter
	}
	c.ctx, c.stop = context.WithCancel(context.Background())
	c.Bridge = cluster.NewBridge(nc, companion.NewBus(events.Limits{}), companion.Classify, cluster.BridgeOptions{Node: node, Log: log})
	jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if c.Jobs, err = cluster.OpenJobs(jctx, nc, cluster.JobsOptions{AckWait: cfg.Cluster.JobAckWait.Duration, Log: log}); err != nil {
		c.Bridge.Close()
		nc.Close()
		return nil, fmt.Errorf("open the jobs queue on NATS: %w (JetStream must be on: start nats-server with -js, or jetstream {} in its config)", err)
	}
	// A claim outlives its dead node by stale_after (at least a second),
	// unless the sweep drops it first.
	if c.Turns, err = cluster.OpenTurns(jctx, nc, cluster.TurnsOptions{TTL: max(c.staleAfter, time.Second), Node: node, Log: log}); err != nil {
		c.Bridge.Close()
		nc.Close()
		return nil, fmt.Errorf("open the turn claims on NATS: %w (JetStream must be on: start nats-server with -js, or jetstream {} in its config)", err)
	}
	log.Info("joined the cluster", "nats", nc.ConnectedUrlRedacted(), "stale_after", c.staleAfter)
	return c, nil
}

// bus is the companion's events bus: the Bridge, or nil (the companion's
// own in-process bus) without a cluster.
func (c *Cluster) bus() events.Bus[companion.Event] {
	if c == nil {
		return nil
	}
	return c.Bridge
}

// listener puts the memory worker's turns on the jobs queue; without a
// cluster (or a worker) it is the worker itself.
func (c *Cluster) listener(w *worker.Service) companion.Listener {
	if w == nil {
		return nil
	}
	if c == nil {
		return w
	}
	c.worker = w
	return memoryJobs{c: c}
}

// attach answers the other nodes' cancel requests with the companion and
// makes its Cancel reach theirs.
func (c *Cluster) attach(comp *companion.Companion) error {
	if c == nil {
		return nil
	}
	svc, err := cluster.NewCancelService(c.nc, localTurns{comp}, 0, c.log)
	if err != nil {
		return fmt.Errorf("cluster cancel service: %w", err)
	}
	c.Cancel = svc
	c.companion = comp
	comp.SetRemoteCancel(svc.Remote)
	comp.SetTurnClaims(turnClaims{c})
	return nil
}

// revokeSubject carries each node's ends of live connections (server.Revocation)
// to the others: a sign-out, a revoked session or token, a changed password
// or a disabled user ends the user's sockets and calls on every node, not
// only on the node that handled the request. It carries user IDs and the
// hashes of the credentials the database keeps, never a credential.
const revokeSubject = "os1.revoke"

// revocations makes srv broadcast its revocations and apply the others'.
func (c *Cluster) revocations(srv *server.Server) error {
	if c == nil || srv == nil {
		return nil
	}
	origin := c.Bridge.Origin()
	sub, err := c.nc.Subscribe(revokeSubject, func(m *nats.Msg) {
		if m.Header.Get("Os1-Origin") == origin {
			return
		}
		var rev server.Revocation
		if err := json.Unmarshal(m.Data, &rev); err != nil || (rev.User == "" && len(rev.Creds) == 0) {
			c.log.Warn("cluster: a revocation that cannot be read was dropped", "err", err)
			return
		}
		if n := srv.EndConnections(rev); n > 0 {
			c.log.Info("cluster: connections ended for another node's revocation", "connections", n, "reason", rev.Reason)
		}
	})
	if err != nil {
		return fmt.Errorf("cluster: follow revocations: %w", err)
	}
	c.revokeSub = sub
	srv.Revocations = natsRevocations{c: c, origin: origin}
	return nil
}

type natsRevocations struct {
	c      *Cluster
	origin string
}

// Broadcast hands rev to NATS. While NATS is down it is buffered by the
// client; if it is lost, the other nodes' sockets still check their
// credential before each frame they act on (server/ws.go), so nothing more
// is done in the revoked user's name.
func (r natsRevocations) Broadcast(_ context.Context, rev server.Revocation) {
	data, err := json.Marshal(rev)
	if err != nil {
		return
	}
	m := &nats.Msg{Subject: revokeSubject, Data: data, Header: nats.Header{}}
	m.Header.Set("Os1-Origin", r.origin)
	if err := r.c.nc.PublishMsg(m); err != nil {
		r.c.log.Warn("cluster: a revocation did not reach the other nodes; their sockets check again before acting", "err", err)
	}
}

// turnClaims is the cluster's turn claims as the companion asks them.
type turnClaims struct{ c *Cluster }

// Claim takes the conversation's turn. Holding it, this node knows no
// turn runs in the conversation anywhere, so a reply still streaming there
// was cut off by a dead node: it is marked interrupted now, before the new
// turn, rather than when the sweep gets to it (the dead node's claim may
// expire before the sweep runs, and the sweep leaves a conversation with a
// live turn alone).
func (tc turnClaims) Claim(ctx context.Context, userID, conversationID string) (func(), error) {
	release, err := tc.c.Turns.Claim(ctx, userID, conversationID)
	if errors.Is(err, cluster.ErrTurnHeld) {
		return nil, companion.ErrBusy
	}
	if err != nil {
		return nil, err
	}
	tc.c.interruptOrphans(ctx, userID, conversationID)
	return release, nil
}

func (tc turnClaims) Held(ctx context.Context, userID, conversationID string) (bool, error) {
	return tc.c.Turns.Held(ctx, userID, conversationID)
}

// interruptOrphans marks the conversation's streaming replies interrupted
// and tells its open pages. Called only while this node holds the
// conversation's claim and before its own reply exists.
func (c *Cluster) interruptOrphans(ctx context.Context, userID, conversationID string) {
	res, err := c.db.SQL().ExecContext(ctx, `UPDATE messages SET status = ?, updated_at = ?
		WHERE user_id = ? AND conversation_id = ? AND status = ?`,
		string(store.StatusInterrupted), sqltime.Value(c.clock.Now()), userID, conversationID, string(store.StatusStreaming))
	if err != nil {
		c.log.Warn("cluster: a reply left streaming by a dead node not marked; the sweep will", "conversation", conversationID, "err", err)
		return
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		c.log.Info("cluster: a reply cut off by a dead node marked interrupted", "conversation", conversationID, "replies", n)
		c.Bridge.Publish(ctx, userID, companion.Event{Type: companion.EvLagged, ConversationID: conversationID})
	}
}

// localTurns is the companion as the other nodes reach it: cancel only a
// turn running here (the asking node has asked the rest).
type localTurns struct{ c *companion.Companion }

func (l localTurns) Cancel(ctx context.Context, userID, conversationID string) (bool, error) {
	return l.c.CancelLocal(ctx, userID, conversationID)
}

func (l localTurns) Running(conversationID string) bool { return l.c.Running(conversationID) }

// Start runs the memory jobs' worker and the sweep of cut-off replies.
func (c *Cluster) Start(context.Context) error {
	if c.worker != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = c.Jobs.Work(c.ctx, c.memoryJob)
		}()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.sweepLoop(c.ctx)
	}()
	return nil
}

// stopWork stops taking jobs and sweeping; a job in hand goes back to the
// queue. It runs before the memory worker closes.
func (c *Cluster) stopWork() {
	c.stop()
	c.wg.Wait()
}

// Close stops the cluster's work and leaves NATS (what is buffered is
// sent). It runs after the companion closed, so the interrupted turns'
// last events and memory jobs reach the other nodes.
func (c *Cluster) Close() error {
	c.closed.Do(func() {
		c.stopWork()
		c.queueing.Wait()
		if c.Cancel != nil {
			c.Cancel.Close()
		}
		c.Turns.Close() // what a dead turn still held expires on its own
		if c.revokeSub != nil {
			_ = c.revokeSub.Unsubscribe()
		}
		c.Bridge.Close()
		if err := c.nc.Drain(); err != nil {
			c.nc.Close()
		}
	})
	return nil
}

// Memory jobs.

const memoryJobKind = "memory"

// memoryJob is a turn stored (or a message revised) for the memory worker.
type memoryJob struct {
	UserID         string `json:"user_id"`
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id,omitempty"` // a revised message
}

// memoryJobs is the companion's listener on a cluster: each stored turn is
// a job on the shared queue, which some node's worker does (this node's,
// or, if it dies first, another's).
type memoryJobs struct{ c *Cluster }

var (
	_ companion.Listener = memoryJobs{}
	_ companion.Reviser  = memoryJobs{}
)

func (m memoryJobs) TurnStored(userID, conversationID string) {
	m.c.enqueue(memoryJob{UserID: userID, ConversationID: conversationID})
}

func (m memoryJobs) MessageRevised(userID, conversationID, messageID string) {
	m.c.enqueue(memoryJob{UserID: userID, ConversationID: conversationID, MessageID: messageID})
}

// enqueue never holds up the turn that stored the messages. When the queue
// cannot be reached the job goes to this node's worker, as on one process.
func (c *Cluster) enqueue(j memoryJob) {
	data, err := json.Marshal(j)
	if err != nil {
		return
	}
	c.queueing.Add(1)
	go func() {
		defer c.queueing.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Jobs.Enqueue(ctx, memoryJobKind, "", data); err != nil {
			c.log.Warn("memory job not queued; this node does it", "conversation", j.ConversationID, "err", err)
			c.runLocal(j)
		}
	}()
}

func (c *Cluster) runLocal(j memoryJob) {
	if j.MessageID != "" {
		c.worker.MessageRevised(j.UserID, j.ConversationID, j.MessageID)
		return
	}
	c.worker.TurnStored(j.UserID, j.ConversationID)
}

// memoryJob hands a job to this node's worker and returns once the worker
// has done it (a failure there is retried by the worker, with backoff; a
// node that dies first leaves the job to another node after AckWait).
func (c *Cluster) memoryJob(ctx context.Context, job cluster.Job) error {
	var j memoryJob
	if err := json.Unmarshal(job.Data, &j); err != nil || j.UserID == "" || j.ConversationID == "" {
		c.log.Error("memory job dropped: unreadable", "err", err)
		return nil // never retried: it cannot get better
	}
	c.runLocal(j)
	return c.worker.Flush(ctx)
}

// The sweep of replies cut off by a dead node.

// sweepLoop sweeps now and then every staleAfter/3.
func (c *Cluster) sweepLoop(ctx context.Context) {
	every := max(c.staleAfter/3, 100*time.Millisecond)
	t := c.clock.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := c.Sweep(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("sweep of cut-off replies failed; will try again", "err", err)
		} else if n > 0 {
			c.log.Info("replies cut off by a stopped node were marked interrupted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// sweepBatch bounds the messages one sweep looks at.
const sweepBatch = 200

// Sweep marks interrupted every reply still streaming whose last save is
// older than the stale bound and whose turn no node runs (its node died).
// Any node may sweep at any time: the update is conditional on the message
// being unchanged, so two sweeps never conflict and a turn that goes on
// keeps its status. When NATS cannot be asked, nothing is marked.
func (c *Cluster) Sweep(ctx context.Context) (int, error) {
	if c.companion == nil {
		return 0, nil
	}
	now := c.clock.Now()
	before := now.Add(-c.staleAfter)
	db := c.db.SQL()
	rows, err := db.QueryContext(ctx, `SELECT id, user_id, conversation_id FROM messages
		WHERE status = ? AND updated_at < ? LIMIT `+fmt.Sprint(sweepBatch),
		string(store.StatusStreaming), sqltime.Value(before))
	if err != nil {
		return 0, fmt.Errorf("find stale streaming replies: %w", err)
	}
	type ref struct{ id, user, conv string }
	var stale []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.id, &r.user, &r.conv); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find stale streaming replies: %w", err)
		}
		stale = append(stale, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find stale streaming replies: %w", err)
	}
	// Ask about every stale reply at once: a node stays silent about a
	// turn it does not run, so each question takes the whole wait.
	// A dead node's claim on the conversation is read first, so only that
	// claim is dropped below, never one a live node takes meanwhile.
	running := make([]bool, len(stale))
	claims := make([]uint64, len(stale))
	errs := make([]error, len(stale))
	var wg sync.WaitGroup
	for i, r := range stale {
		if c.companion.Running(r.conv) {
			running[i] = true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if claims[i], errs[i] = c.Turns.Revision(ctx, r.user, r.conv); errs[i] != nil {
				return
			}
			running[i], errs[i] = c.Cancel.RunningElsewhere(ctx, r.user, r.conv)
		}()
	}
	wg.Wait()
	n := 0
	for i, r := range stale {
		if errs[i] != nil {
			return n, fmt.Errorf("ask the other nodes about a streaming reply: %w", errs[i])
		}
		if running[i] {
			continue
		}
		res, err := db.ExecContext(ctx, `UPDATE messages SET status = ?, updated_at = ?
			WHERE id = ? AND user_id = ? AND status = ? AND updated_at < ?`,
			string(store.StatusInterrupted), sqltime.Value(now), r.id, r.user, string(store.StatusStreaming), sqltime.Value(before))
		if err != nil {
			return n, fmt.Errorf("mark a cut-off reply interrupted: %w", err)
		}
		if k, err := res.RowsAffected(); err == nil && k > 0 {
			n++
			// The conversation takes new messages at once, not after the
			// dead node's claim expires.
			if err := c.Turns.Drop(ctx, r.user, r.conv, claims[i]); err != nil {
				c.log.Warn("cluster: a dead node's turn claim not dropped; it expires on its own", "conversation", r.conv, "err", err)
			}
			// Open pages re-read the conversation.
			c.Bridge.Publish(ctx, r.user, companion.Event{Type: companion.EvLagged, ConversationID: r.conv, MessageID: r.id})
		}
	}
	return n, nil
}

// sweepStore is the server's store on a cluster: its start-up chore
// "mark every streaming reply interrupted" would cut the live turns of the
// other nodes, so it sweeps only replies whose node is gone.
type sweepStore struct {
	store.Store
	c *Cluster
}

func (s sweepStore) MarkInterrupted(ctx context.Context, _ time.Time) (int, error) {
	return s.c.Sweep(ctx)
}

// serverStore is the store the HTTP server is given.
func (c *Cluster) serverStore(db store.Store) store.Store {
	if c == nil {
		return db
	}
	return sweepStore{Store: db, c: c}
}

// node is the node's name for /healthz; "" without a cluster.
func (c *Cluster) node() string {
	if c == nil {
		return ""
	}
	return c.Node
}
