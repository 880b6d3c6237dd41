package worker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/store"
)

// poisonedStore panics when asked to index one of the poisoned messages;
// the poison can be changed while workers run.
type poisonedStore struct {
	memory.Store
	mu     sync.Mutex
	poison map[string]bool
	hits   *atomic.Int32 // shared by the nodes
}

func (p *poisonedStore) IndexMessage(ctx context.Context, m memory.MessageDoc, vec []float32) error {
	p.mu.Lock()
	bad := p.poison[m.ID]
	p.mu.Unlock()
	if bad {
		p.hits.Add(1)
		panic("sqlite3: out of memory " + m.ID)
	}
	return p.Store.IndexMessage(ctx, m, vec)
}

func (p *poisonedStore) cure(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.poison, id)
}

// startPoisoned starts a worker on each node whose memory store panics on
// the poisoned messages.
func (n *twoNodes) startPoisoned(hits *atomic.Int32, poison ...string) [2]*poisonedStore {
	var ps [2]*poisonedStore
	for i := range n.svc {
		ps[i] = &poisonedStore{Store: n.mem[i], poison: map[string]bool{}, hits: hits}
		for _, id := range poison {
			ps[i].poison[id] = true
		}
		models := &memtest.SwitchModels{}
		models.Set(memtest.NewProvider(n.llm))
		s := worker.New(worker.Deps{Core: n.core[i], Memory: ps[i], Progress: n.mem[i].Progress(),
			Recall: recall.New(n.mem[i], nil, n.clock, recall.DefaultOptions()),
			Models: models, Echoes: memory.NewEchoes(), Clock: n.clock},
			worker.Options{TickEvery: -1, Journal: extract.JournalOptions{IdleAfter: 30 * time.Minute}})
		n.t.Cleanup(s.Close)
		n.svc[i] = s
		n.must(s.Start(n.ctx))
	}
	return ps
}

func (n *twoNodes) flushOne(i int) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
	defer cancel()
	n.must(n.svc[i].Flush(ctx))
}

// failure reads a record's failure as node i's store has it.
func (n *twoNodes) failure(i int, id string) (memory.Failure, bool) {
	n.t.Helper()
	fs, err := n.mem[i].Progress().Failures(n.ctx)
	n.must(err)
	for _, f := range fs {
		if f.Kind == memory.FailedConversation && f.ID == id {
			return f, true
		}
	}
	return memory.Failure{}, false
}

// Two nodes' panics of one conversation add up in the database: run by
// both at once it counts two, the third panic (on either node) quarantines
// it for both, a release on one node is seen by the other, and another
// record's count is left alone. Before, each worker saved its own list
// whole: the nodes overwrote each other's counts, the conversation was
// never quarantined, and the other record's count was lost.
func TestTwoNodesCountPanicsTogether(t *testing.T) {
	eachDialect(t, func(t *testing.T, n *twoNodes) {
		var hits atomic.Int32
		ps := n.startPoisoned(&hits, "msg_bad", "msg_other")
		n.flushBoth() // start-up catch-up: nothing yet
		bad, other := "cnv_bad", "cnv_other"
		n.conversation(bad, said("msg_bad", "user", "kk kk kk", day0))
		n.conversation(other, said("msg_other", "user", "zz zz zz", day0))

		// Both nodes run the conversation at the same time.
		for _, s := range n.svc {
			s.TurnStored(n.user.ID, bad)
		}
		n.flushBoth()
		if f, _ := n.failure(1, bad); hits.Load() != 2 || f.Count != 2 || f.Quarantined {
			t.Fatalf("after one panic on each node: %d panics, failure %+v; want a count of 2, not quarantined", hits.Load(), f)
		}
		// Another record panics once, on node 1.
		n.svc[1].TurnStored(n.user.ID, other)
		n.flushOne(1)
		// The third panic, on node 0, quarantines it.
		n.svc[0].TurnStored(n.user.ID, bad)
		n.flushOne(0)
		f, _ := n.failure(1, bad)
		if hits.Load() != 4 || f.Count != memory.QuarantineAfter || !f.Quarantined || f.UserID != n.user.ID {
			t.Fatalf("after %d panics on two nodes: failure %+v; want quarantined at %d", hits.Load(), f, memory.QuarantineAfter)
		}
		// Neither node runs it again, node 1 (which saw one panic of its
		// own) included, also at a restart's catch-up.
		for _, s := range n.svc {
			s.TurnStored(n.user.ID, bad)
		}
		n.flushBoth()
		if hits.Load() != 4 {
			t.Fatalf("a node ran the quarantined conversation again (%d panics)", hits.Load())
		}
		if q, err := memory.Quarantined(n.ctx, n.mem[0].Progress(), n.user.ID); err != nil || len(q) != 1 || q[0].ID != bad {
			t.Fatalf("quarantined on node 0: %+v, %v", q, err)
		}

		// Released on node 1 once the cause is fixed: node 1 retries it.
		for _, p := range ps {
			p.cure("msg_bad")
		}
		n.llm.Handle(rememberFirst("Theodore says kk."))
		n.must(n.svc[1].Release(n.ctx, n.user.ID, bad))
		n.flushOne(1)
		if c := n.requests(extraction); c != 1 {
			t.Fatalf("%d extractions after the release on node 1, want 1", c)
		}
		// Node 0 sees the release: a new turn of it is processed there.
		at := day0.Add(time.Minute)
		n.must(n.core[0].AppendMessage(n.ctx, store.Message{ID: "msg_bad2", ConversationID: bad, UserID: n.user.ID, Role: store.RoleUser,
			Content: "My sister Catherine called.", Status: store.StatusComplete, CreatedAt: at, UpdatedAt: at}))
		n.svc[0].TurnStored(n.user.ID, bad)
		n.flushOne(0)
		if c := n.requests(extraction); c != 2 {
			t.Fatalf("%d extractions after a new turn on node 0, want 2 (node 0 still skips the released conversation?)", c)
		}
		if _, found := n.failure(0, bad); found {
			t.Errorf("the released conversation still has a failure row")
		}
		// The other record is untouched by all of it.
		fs, err := n.mem[0].Progress().Failures(n.ctx)
		n.must(err)
		if len(fs) != 1 || fs[0].ID != other || fs[0].Count != 1 || fs[0].Quarantined {
			t.Fatalf("failures at the end: %+v; want only %s, counted once", fs, other)
		}
	})
}
