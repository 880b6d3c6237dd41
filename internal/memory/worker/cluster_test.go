package worker_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// The cluster tests run two workers on one real PostgreSQL 15 (pgtest);
// under OS1_E2E_REQUIRE=1 a missing PostgreSQL fails them.
func TestMain(m *testing.M) { pgtest.Main(m) }

// coreDB is a core store the memory tables live beside.
type coreDB interface {
	worker.CoreReader
	store.Store
	sqldb.Handle
}

// twoNodes is two memory workers on one database, as two nodes of a
// cluster run them: on PostgreSQL each with its own connection pool and
// memory store, on SQLite (one process) sharing the process's store.
type twoNodes struct {
	t     *testing.T
	ctx   context.Context
	core  [2]coreDB
	mem   [2]*sqlitemem.Store
	llm   *llmtest.Server
	clock *clock.Fake
	user  store.User
	svc   [2]*worker.Service
}

func onPostgres(t *testing.T) *twoNodes {
	url := pgtest.New(t)
	n := &twoNodes{t: t, ctx: t.Context(), clock: clock.NewFake(day0), llm: llmtest.NewServer(t)}
	for i := range n.core {
		db, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		n.core[i] = db
		n.mem[i] = sqlitemem.NewFor(db, sqlitemem.Options{Clock: n.clock})
	}
	n.addUser()
	return n
}

func onSQLite(t *testing.T) *twoNodes {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n := &twoNodes{t: t, ctx: t.Context(), clock: clock.NewFake(day0), llm: llmtest.NewServer(t)}
	mem := sqlitemem.NewFor(db, sqlitemem.Options{Clock: n.clock})
	n.core = [2]coreDB{db, db}
	n.mem = [2]*sqlitemem.Store{mem, mem}
	n.addUser()
	return n
}

func (n *twoNodes) must(err error) {
	n.t.Helper()
	if err != nil {
		n.t.Fatal(err)
	}
}

func (n *twoNodes) addUser() {
	u := store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theodore", Role: store.RoleMember, PasswordHash: "x", CreatedAt: day0}
	db := n.core[0]
	n.must(db.CreateUser(n.ctx, u))
	n.must(db.SavePersona(n.ctx, store.Persona{UserID: u.ID, Name: "Samantha", Voice: "warm and calm", NamedAt: day0, UpdatedAt: day0}))
	n.must(db.SaveProfile(n.ctx, store.Profile{UserID: u.ID, Timezone: "Europe/Berlin", OnboardedAt: day0, UpdatedAt: day0}))
	n.user = u
}

// conversation stores a conversation of the user, written by node 0.
func (n *twoNodes) conversation(id string, msgs ...memtest.Said) {
	n.must(n.core[0].CreateConversation(n.ctx, store.Conversation{ID: id, UserID: n.user.ID, Title: "t", CreatedAt: msgs[0].At, UpdatedAt: msgs[0].At}))
	for _, m := range msgs {
		n.must(n.core[0].AppendMessage(n.ctx, store.Message{ID: m.ID, ConversationID: id, UserID: n.user.ID, Role: store.MessageRole(m.Role),
			Content: m.Text, Status: store.StatusComplete, CreatedAt: m.At, UpdatedAt: m.At}))
	}
}

// start starts both workers at the same moment (their start-up catch-ups
// run together).
func (n *twoNodes) start() {
	for i := range n.svc {
		models := &memtest.SwitchModels{}
		models.Set(memtest.NewProvider(n.llm))
		s := worker.New(worker.Deps{Core: n.core[i], Memory: n.mem[i], Recall: recall.New(n.mem[i], nil, n.clock, recall.DefaultOptions()),
			Models: models, Echoes: memory.NewEchoes(), Clock: n.clock},
			worker.Options{TickEvery: -1, Journal: extract.JournalOptions{IdleAfter: 30 * time.Minute}})
		n.t.Cleanup(s.Close)
		n.svc[i] = s
	}
	for _, s := range n.svc {
		_ = s.Start(n.ctx)
	}
}

// both runs f (Flush, Tick) on both workers at once; the channel gets
// their errors, joined, once both returned.
func (n *twoNodes) both(f func(context.Context, *worker.Service) error) <-chan error {
	out := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(n.ctx, 60*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range n.svc {
			wg.Go(func() { errs[i] = f(ctx, s) })
		}
		wg.Wait()
		out <- errors.Join(errs...)
	}()
	return out
}

func flush(ctx context.Context, s *worker.Service) error { return s.Flush(ctx) }

func (n *twoNodes) flushBoth() { n.must(<-n.both(flush)) }

// requests counts the model requests whose system prompt holds marker.
func (n *twoNodes) requests(marker string) int {
	c := 0
	for _, r := range n.llm.Requests() {
		if strings.Contains(r.System, marker) {
			c++
		}
	}
	return c
}

const (
	extraction = "deciding what to remember"
	journal    = "journal entry"
)

// race waits until one worker's model call (marked) is held at gate, and
// then until the other worker either made the same call too (the
// duplicate this test exists to catch) or waits for the record's lock.
// Only then is the gate opened.
func (n *twoNodes) race(gate *llmtest.Gate, marker, kind, id string) {
	n.t.Helper()
	deadline := time.After(30 * time.Second)
	select {
	case <-gate.Reached():
	case <-deadline:
		n.t.Fatal("no model call reached the gate")
	}
	progress := n.mem[0].Progress().(*sqlitemem.Progress)
	for {
		if n.requests(marker) >= 2 {
			break
		}
		waiting, err := progress.Waiting(n.ctx, kind, id)
		n.must(err)
		if waiting > 0 {
			break
		}
		select {
		case <-deadline:
			gate.Release()
			n.t.Fatal("the second worker neither called the model nor waited for the lock")
		case <-time.After(5 * time.Millisecond): // polling what another process would see
		}
	}
	gate.Release()
}

func eachDialect(t *testing.T, f func(t *testing.T, n *twoNodes)) {
	t.Run("postgres", func(t *testing.T) { f(t, onPostgres(t)) })
	t.Run("sqlite", func(t *testing.T) { f(t, onSQLite(t)) })
}

var catherine = []memtest.Said{
	said("msg_u1", "user", "My sister Catherine just moved to Boston.", day0),
	said("msg_a1", "assistant", "Boston! How does she like it?", day0.Add(time.Second)),
}

// heldExtraction answers every extraction with one fact, held at gate.
func heldExtraction(gate *llmtest.Gate) func(llmtest.Request) llmtest.Reply {
	return func(r llmtest.Request) llmtest.Reply {
		rep := rememberFirst("Theodore's sister Catherine moved to Boston.")(r)
		rep.Hold = gate
		return rep
	}
}

func (n *twoNodes) extractedOnce(conv string) {
	n.t.Helper()
	if c := n.requests(extraction); c != 1 {
		n.t.Errorf("%d extraction calls for one conversation on two nodes, want 1", c)
	}
	items, err := n.mem[0].ListItems(n.ctx, n.user.ID, memory.ItemFilter{History: true})
	n.must(err)
	if len(items) != 1 {
		n.t.Errorf("%d memory items, want 1: %+v", len(items), items)
	}
	w, err := n.mem[1].Progress().Watermark(n.ctx, conv)
	n.must(err)
	if w.Extracted != "msg_a1" || w.Indexed != "msg_a1" {
		n.t.Errorf("watermark = %+v", w)
	}
}

// Two jobs of one conversation taken by two nodes at the same moment:
// one extraction.
func TestTwoNodesOneConversationJob(t *testing.T) {
	eachDialect(t, func(t *testing.T, n *twoNodes) {
		n.start()
		n.flushBoth() // start-up catch-up: nothing yet
		n.conversation("cnv_1", catherine...)
		gate := llmtest.NewGate()
		n.llm.Handle(heldExtraction(gate))
		for _, s := range n.svc {
			s.TurnStored(n.user.ID, "cnv_1")
		}
		done := n.both(flush)
		n.race(gate, extraction, memory.FailedConversation, "cnv_1")
		n.must(<-done)
		n.extractedOnce("cnv_1")
	})
}

// Two nodes starting together catch up on a conversation once.
func TestTwoNodesCatchUpAtStart(t *testing.T) {
	eachDialect(t, func(t *testing.T, n *twoNodes) {
		n.conversation("cnv_1", catherine...)
		gate := llmtest.NewGate()
		n.llm.Handle(heldExtraction(gate))
		n.start()
		done := n.both(flush)
		n.race(gate, extraction, memory.FailedConversation, "cnv_1")
		n.must(<-done)
		n.extractedOnce("cnv_1")
	})
}

// Two nodes ticking together write a due journal entry once.
func TestTwoNodesJournalOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, n *twoNodes) {
		n.conversation("cnv_1", catherine...)
		n.llm.Handle(func(r llmtest.Request) llmtest.Reply { return memtest.OpsReply() }) // nothing to remember
		n.start()
		n.flushBoth()
		gate := llmtest.NewGate()
		n.llm.Handle(func(r llmtest.Request) llmtest.Reply {
			rep := memtest.JournalReply("Theodore talked about Catherine in Boston.")
			rep.Hold = gate
			return rep
		})
		n.clock.Set(day0.Add(time.Hour)) // idle for an hour: the journal is due
		// A node finding the journal locked skips it (the other writes
		// it): one tick returns while the other's journal call is held.
		ctx, cancel := context.WithTimeout(n.ctx, 60*time.Second)
		defer cancel()
		ticked := make(chan error, 2)
		for _, s := range n.svc {
			go func() { ticked <- s.Tick(ctx) }()
		}
		select {
		case <-gate.Reached():
		case <-ctx.Done():
			t.Fatal("no journal call reached the gate")
		}
		left := 2 // ticks still running
	wait:
		for {
			select {
			case err := <-ticked:
				n.must(err)
				left--
				break wait
			case <-ctx.Done():
				gate.Release()
				t.Fatal("neither a second journal call nor a tick that skipped the journal")
			case <-time.After(5 * time.Millisecond): // polling what the model server saw
				if n.requests(journal) >= 2 {
					break wait
				}
			}
		}
		gate.Release()
		for ; left > 0; left-- {
			n.must(<-ticked)
		}
		if c := n.requests(journal); c != 1 {
			t.Errorf("%d journal calls on two nodes, want 1", c)
		}
		js, err := n.mem[1].Journals(n.ctx, n.user.ID, "0000-01-01", "9999-12-31")
		n.must(err)
		if len(js) != 1 {
			t.Errorf("%d journal entries, want 1: %+v", len(js), js)
		}
	})
}

// A conversation whose lock another node keeps past LockWait is put off
// to a retry instead of holding this worker up, and done then.
func TestLockHeldElsewhereIsRetried(t *testing.T) {
	eachDialect(t, func(t *testing.T, n *twoNodes) {
		models := &memtest.SwitchModels{}
		models.Set(memtest.NewProvider(n.llm))
		s := worker.New(worker.Deps{Core: n.core[0], Memory: n.mem[0], Recall: recall.New(n.mem[0], nil, n.clock, recall.DefaultOptions()),
			Models: models, Echoes: memory.NewEchoes(), Clock: n.clock},
			worker.Options{TickEvery: -1, LockWait: 50 * time.Millisecond})
		t.Cleanup(s.Close)
		n.must(s.Start(n.ctx))
		ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
		defer cancel()
		n.must(s.Flush(ctx)) // start-up catch-up: nothing yet
		n.conversation("cnv_1", catherine...)
		n.llm.Handle(rememberFirst("Theodore's sister Catherine moved to Boston."))
		// The other node (its own pool on PostgreSQL) holds the conversation.
		release, err := n.mem[1].Progress().(*sqlitemem.Progress).LockWork(n.ctx, memory.FailedConversation, "cnv_1", 0)
		n.must(err)
		s.TurnStored(n.user.ID, "cnv_1")
		n.must(s.Flush(ctx))
		if c := n.requests(extraction); c != 0 {
			t.Fatalf("%d extraction calls while another node held the conversation", c)
		}
		release()
		n.clock.Advance(time.Minute) // RetryMin
		n.must(s.Tick(ctx))
		n.extractedOnce("cnv_1")
	})
}
