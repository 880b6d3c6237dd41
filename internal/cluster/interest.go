package cluster

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// InterestSubject carries the interest protocol: which node follows which
// user, so that a node publishes a user's events on NATS only while another
// node follows that user. Every node subscribes to it; each message is JSON
// (interestMsg), one of:
//
//	here      the users a node follows (every InterestEvery, in chunks, and
//	          after a sync); also says the node is alive
//	follow    a node now follows a user; sent as a request whose reply
//	          subject collects one "ack" from each other node once it has
//	          recorded the interest
//	unfollow  a node's last subscriber of a user left
//	bye       a node closes: forget all it followed
//	sync      a node started or reconnected: every node answers with "here"
const InterestSubject = "os1.interest"

const (
	opHere     = "here"
	opFollow   = "follow"
	opUnfollow = "unfollow"
	opBye      = "bye"
	opSync     = "sync"
	opAck      = "ack"
)

// hereChunk bounds the users in one "here" message.
const hereChunk = 500

type interestMsg struct {
	Node  string   `json:"node"`
	Op    string   `json:"op"`
	Users []string `json:"users,omitempty"`
	Ref   string   `json:"ref,omitempty"` // a follow's name, echoed by its acks
	// All, in an ack: the node relays every event (its grace period), so
	// nothing it published before the ack was held back.
	All bool `json:"all,omitempty"`
}

// interest is what a node knows of the other nodes: who is alive and which
// users they follow, each until an expiry that their announcements renew.
type interest struct {
	mu     sync.RWMutex
	always bool      // the protocol could not be joined: relay everything
	grace  time.Time // relay everything before this
	wants  map[string]map[string]time.Time
	peers  map[string]time.Time // node -> expiry
	slow   map[string]bool      // nodes that missed an acknowledgement
}

func (in *interest) init(grace time.Time) {
	in.grace = grace
	in.wants = map[string]map[string]time.Time{}
	in.peers = map[string]time.Time{}
	in.slow = map[string]bool{}
}

// relaysAll reports whether the node relays every event now.
func (in *interest) relaysAll(now time.Time) bool {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.always || now.Before(in.grace)
}

func (in *interest) relayAlways() {
	in.mu.Lock()
	in.always = true
	in.mu.Unlock()
}

// restart relays everything again until grace (after a reconnect).
func (in *interest) restart(grace time.Time) {
	in.mu.Lock()
	in.grace = grace
	in.mu.Unlock()
}

// wanted reports whether another node follows user (or the node is in its
// grace period).
func (in *interest) wanted(user string, now time.Time) bool {
	in.mu.RLock()
	defer in.mu.RUnlock()
	if in.always || now.Before(in.grace) {
		return true
	}
	for _, exp := range in.wants[user] {
		if now.Before(exp) {
			return true
		}
	}
	return false
}

// record notes that node is alive and follows users until exp.
func (in *interest) record(node string, users []string, exp time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.peers[node] = exp
	for _, u := range users {
		w := in.wants[u]
		if w == nil {
			w = map[string]time.Time{}
			in.wants[u] = w
		}
		w[node] = exp
	}
}

func (in *interest) drop(node string, users []string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, u := range users {
		delete(in.wants[u], node)
		if len(in.wants[u]) == 0 {
			delete(in.wants, u)
		}
	}
}

// forget drops a node that said goodbye.
func (in *interest) forget(node string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.peers, node)
	delete(in.slow, node)
	for u, w := range in.wants {
		delete(w, node)
		if len(w) == 0 {
			delete(in.wants, u)
		}
	}
}

// peers lists the other live nodes: those to wait for, and the slow ones.
func (in *interest) peersAt(now time.Time) (wait, slow []string) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	for p, exp := range in.peers {
		if !now.Before(exp) {
			continue
		}
		if in.slow[p] {
			slow = append(slow, p)
		} else {
			wait = append(wait, p)
		}
	}
	return wait, slow
}

func (in *interest) markSlow(nodes []string, slow bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, n := range nodes {
		if slow {
			in.slow[n] = true
		} else {
			delete(in.slow, n)
		}
	}
}

// sweep drops what has expired.
func (in *interest) sweep(now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for u, w := range in.wants {
		for n, exp := range w {
			if !now.Before(exp) {
				delete(w, n)
			}
		}
		if len(w) == 0 {
			delete(in.wants, u)
		}
	}
	for p, exp := range in.peers {
		if !now.Before(exp) {
			delete(in.peers, p)
			delete(in.slow, p)
		}
	}
}

// announce publishes m as this node's; reply, when set, asks for acks.
func (b *Bridge[T]) announce(m interestMsg, reply string) {
	m.Node = b.id
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	if err := b.nc.PublishMsg(&nats.Msg{Subject: InterestSubject, Reply: reply, Data: data}); err != nil {
		b.log.Warn("cluster: interest not announced", "op", m.Op, "err", err)
	}
}

// announceAll says which users this node follows (and that it is alive).
func (b *Bridge[T]) announceAll(users []string) {
	for len(users) > hereChunk {
		b.announce(interestMsg{Op: opHere, Users: users[:hereChunk]}, "")
		users = users[hereChunk:]
	}
	b.announce(interestMsg{Op: opHere, Users: users}, "")
}

// announcer re-announces what this node follows every InterestEvery, drops
// expired interest and prunes idle sequence counters.
func (b *Bridge[T]) announcer() {
	defer close(b.done)
	t := b.clk.NewTicker(b.opts.InterestEvery)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case now := <-t.C():
			b.announceAll(b.followed())
			b.interest.sweep(now)
			b.prune(now)
		}
	}
}

// heard handles another node's announcement.
func (b *Bridge[T]) heard(msg *nats.Msg) {
	var m interestMsg
	if err := json.Unmarshal(msg.Data, &m); err != nil || m.Node == "" || m.Node == b.id {
		return
	}
	exp := b.clk.Now().Add(3 * b.opts.InterestEvery)
	switch m.Op {
	case opHere:
		b.interest.record(m.Node, m.Users, exp)
	case opFollow:
		b.interest.record(m.Node, m.Users, exp)
		if msg.Reply != "" { // recorded first: what this node counts from now on is relayed
			all := b.interest.relaysAll(b.clk.Now())
			data, _ := json.Marshal(interestMsg{Node: b.id, Op: opAck, Users: m.Users, Ref: m.Ref, All: all})
			if err := b.nc.Publish(msg.Reply, data); err != nil {
				b.log.Warn("cluster: interest not acknowledged", "err", err)
			}
		}
	case opUnfollow:
		b.interest.record(m.Node, nil, exp)
		b.interest.drop(m.Node, m.Users)
	case opBye:
		b.interest.forget(m.Node)
	case opSync:
		b.interest.record(m.Node, nil, exp)
		b.announceAll(b.followed())
		// The node may have missed this node's interest while it was away; it
		// relays everything until it has heard this answer, but what it
		// published before may be lost for these readers.
		for _, u := range b.lateFor(m.Node) {
			b.lagged(u)
		}
	}
}

// acked handles an acknowledgement of this node's follow.
func (b *Bridge[T]) acked(msg *nats.Msg) {
	var m interestMsg
	if err := json.Unmarshal(msg.Data, &m); err != nil || m.Op != opAck || len(m.Users) != 1 {
		return
	}
	b.interest.markSlow([]string{m.Node}, false)
	b.mu.Lock()
	r := b.users[m.Users[0]]
	b.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.ref != m.Ref || r.got == nil || r.got[m.Node] {
		r.mu.Unlock()
		return // an earlier follow's, or a repeat
	}
	r.got[m.Node] = true
	delete(r.late, m.Node)
	late := !r.waiting && !m.All
	if r.waiting {
		delete(r.wait, m.Node)
		if len(r.wait) == 0 && r.acked != nil {
			close(r.acked)
			r.acked = nil
		}
	}
	r.mu.Unlock()
	if late {
		// Subscribe returned before this node recorded the interest: what
		// it published meanwhile was not relayed.
		b.lagged(m.Users[0])
	}
}

// lateFor lists the followed users that node has not acknowledged, and
// forgets them.
func (b *Bridge[T]) lateFor(node string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var users []string
	for u, r := range b.users {
		r.mu.Lock()
		if r.late[node] {
			delete(r.late, node)
			users = append(users, u)
		}
		r.mu.Unlock()
	}
	return users
}
