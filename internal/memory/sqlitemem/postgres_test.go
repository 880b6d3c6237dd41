package sqlitemem_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memorytest"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
)

// The store's tests run on SQLite and on a real PostgreSQL 15 (pgtest);
// under OS1_E2E_REQUIRE=1 a missing PostgreSQL fails them.
func TestMain(m *testing.M) { pgtest.Main(m) }

// coreDB is a core store the memory store keeps its tables beside.
type coreDB interface {
	store.Store
	sqldb.Handle
}

// openPG opens (migrating) a fresh PostgreSQL database with the given users.
func openPG(t testing.TB, users ...string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range users {
		err := db.CreateUser(t.Context(), store.User{ID: u, Username: u, DisplayName: u, Role: store.RoleMember, CreatedAt: t0})
		if err != nil {
			t.Fatalf("CreateUser(%s): %v", u, err)
		}
	}
	return db
}

// eachDB runs f as a subtest on SQLite and on PostgreSQL, each a fresh
// database holding users.
func eachDB(t *testing.T, f func(t *testing.T, db coreDB), users ...string) {
	t.Run("sqlite", func(t *testing.T) { f(t, openDB(t, filepath.Join(t.TempDir(), "os1.db"), users...)) })
	t.Run("postgres", func(t *testing.T) { f(t, openPG(t, users...)) })
}

// The same contract suite as SQLite's, on PostgreSQL.
func TestContractPostgres(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store {
		db := openPG(t, memorytest.UserA, memorytest.UserB)
		return sqlitemem.NewFor(db, sqlitemem.Options{Clock: clock.NewFake(t0)})
	})
}

func TestContractFewCandidatesPostgres(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store {
		db := openPG(t, memorytest.UserA, memorytest.UserB)
		return sqlitemem.NewFor(db, sqlitemem.Options{Clock: clock.NewFake(t0), Candidates: 12})
	})
}

// Writers racing on one user's memory (two nodes, or the worker and the
// user) take turns as SQLite's one writer does: an item is superseded once,
// a day keeps one journal entry, a message re-indexed at once is indexed
// once, and no writer fails for having lost the race.
func TestConcurrentWritersTakeTurns(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{Clock: clock.NewFake(t0)})
		old := memory.Item{ID: "it_old", UserID: "u1", Kind: memory.KindFact, Text: "Lives in Lyon.", Sources: []string{"m0"}, Confidence: 1, Importance: 0.5}
		if err := s.AddItem(ctx, old, vec(0)); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		superseded := make(chan string, n)
		errs := make(chan error, 3*n)
		for i := range n {
			wg.Go(func() {
				next := memory.Item{ID: fmt.Sprintf("it_new%d", i), Kind: memory.KindFact, Text: fmt.Sprintf("Moved to city %d.", i), Sources: []string{"m1"}, Confidence: 1, Importance: 0.5}
				if err := s.Supersede(ctx, "u1", "it_old", next, vec(1), t0.Add(time.Hour)); err == nil {
					superseded <- next.ID
				}
			})
			wg.Go(func() {
				j := memory.Journal{ID: fmt.Sprintf("j%d", i), UserID: "u1", Day: "2025-03-14", Text: fmt.Sprintf("Entry %d.", i), Sources: []string{"m1"}}
				if err := s.SaveJournal(ctx, j, vec(2)); err != nil {
					errs <- fmt.Errorf("journal %d: %w", i, err)
				}
			})
			wg.Go(func() {
				m := memory.MessageDoc{ID: "m_same", UserID: "u1", Text: fmt.Sprintf("Version %d.", i), Time: t0}
				if err := s.IndexMessage(ctx, m, vec(3)); err != nil {
					errs <- fmt.Errorf("message %d: %w", i, err)
				}
			})
		}
		wg.Wait()
		close(superseded)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var winners []string
		for id := range superseded {
			winners = append(winners, id)
		}
		if len(winners) != 1 {
			t.Fatalf("%d supersessions of one item succeeded (%v), want 1", len(winners), winners)
		}
		got, err := s.Item(ctx, "u1", "it_old")
		if err != nil || got.SupersededBy != winners[0] {
			t.Errorf("old item superseded by %q (%v), want %q", got.SupersededBy, err, winners[0])
		}
		current, err := s.ListItems(ctx, "u1", memory.ItemFilter{})
		if err != nil || len(current) != 1 || current[0].ID != winners[0] {
			t.Errorf("current items %v (%v), want only %s", current, err, winners[0])
		}
		if js, err := s.Journals(ctx, "u1", "2025-03-14", "2025-03-14"); err != nil || len(js) != 1 {
			t.Errorf("journals of the day: %v (%v), want one", js, err)
		}
		for _, c := range []struct {
			kind memory.DocKind
			want int
		}{{memory.DocJournal, 1}, {memory.DocMessage, 1}, {memory.DocItem, 1}} {
			hits, err := s.SearchVector(ctx, "u1", vec(3), memory.Query{Kinds: []memory.DocKind{c.kind}, Limit: 50})
			if err != nil || len(hits) != c.want {
				t.Errorf("%s documents found by vector: %d (%v), want %d", c.kind, len(hits), err, c.want)
			}
		}
	}, "u1")
}

// Two servers starting at once on one database record their embedding
// model once, so each searches the vectors the other writes.
func TestConcurrentUseModelRecordsOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		id := embed.Identity{Name: "test-model", Dim: 8, Probe: vec(5)}
		a := sqlitemem.NewFor(db, sqlitemem.Options{})
		b := sqlitemem.NewFor(db, sqlitemem.Options{})
		var wg sync.WaitGroup
		for _, s := range []*sqlitemem.Store{a, b} {
			wg.Go(func() {
				if err := s.UseModel(ctx, id, nil, true); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if err := a.IndexMessage(ctx, memory.MessageDoc{ID: "m1", UserID: "u1", Text: "Tulips.", Time: t0}, vec(0)); err != nil {
			t.Fatal(err)
		}
		if hits, err := b.SearchVector(ctx, "u1", vec(0), memory.Query{}); err != nil || len(hits) != 1 {
			t.Errorf("the other server finds %d documents (%v), want 1", len(hits), err)
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM memory_embed_models`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d models recorded (%v), want 1", n, err)
		}
	}, "u1")
}

// Two os1 nodes on one PostgreSQL database each keep their own vector
// index: a document one node adds is found by the other's vector search
// although that node's index was loaded before it (vecsync.go).
func TestNodesSeeEachOthersVectors(t *testing.T) {
	ctx := t.Context()
	db := openPG(t, "u1")
	a := sqlitemem.NewFor(db, sqlitemem.Options{})
	b := sqlitemem.NewFor(db, sqlitemem.Options{})
	if err := a.IndexMessage(ctx, memory.MessageDoc{ID: "m1", UserID: "u1", Text: "Tulips.", Time: t0}, vec(0)); err != nil {
		t.Fatal(err)
	}
	if hits, err := b.SearchVector(ctx, "u1", vec(1), memory.Query{}); err != nil || len(hits) != 1 {
		t.Fatalf("node b before: %d hits (%v), want 1", len(hits), err)
	}
	for i, id := range []string{"m2", "m3"} {
		if err := a.IndexMessage(ctx, memory.MessageDoc{ID: id, UserID: "u1", Text: "Roses.", Time: t0.Add(time.Hour)}, vec(1+i)); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := b.SearchVector(ctx, "u1", vec(1), memory.Query{})
	if err != nil || len(hits) != 3 || hits[0].ID != "m2" {
		t.Fatalf("node b after node a wrote: %v (%v), want m2 first of 3", hits, err)
	}
	// b's own write and a's are both in b's index once, not twice.
	if err := b.IndexMessage(ctx, memory.MessageDoc{ID: "m4", UserID: "u1", Text: "Lilies.", Time: t0}, vec(4)); err != nil {
		t.Fatal(err)
	}
	if err := a.ForgetMessage(ctx, "u1", "m2"); err != nil {
		t.Fatal(err)
	}
	hits, err = b.SearchVector(ctx, "u1", vec(4), memory.Query{Limit: 10})
	if err != nil || len(hits) != 3 || hits[0].ID != "m4" {
		t.Errorf("node b at the end: %v (%v), want m4 first of 3 (m2 forgotten)", hits, err)
	}
}
