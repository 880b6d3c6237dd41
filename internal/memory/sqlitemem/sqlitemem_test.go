package sqlitemem_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memorytest"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// openDB opens (migrating) the core database at path with the given users.
func openDB(t testing.TB, path string, users ...string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
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

func TestContract(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store {
		db := openDB(t, filepath.Join(t.TempDir(), "os1.db"), memorytest.UserA, memorytest.UserB)
		return sqlitemem.New(db.SQL(), sqlitemem.Options{Clock: clock.NewFake(t0)})
	})
}

// Also run the contract with a candidate set smaller than the documents, so
// the Hamming pre-selection (not only the exact re-rank) is exercised.
func TestContractFewCandidates(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store {
		db := openDB(t, filepath.Join(t.TempDir(), "os1.db"), memorytest.UserA, memorytest.UserB)
		return sqlitemem.New(db.SQL(), sqlitemem.Options{Clock: clock.NewFake(t0), Candidates: 12})
	})
}

func vec(i int) []float32 {
	v := make([]float32, 8)
	v[i] = 1
	return v
}

// Forget must hold after the process restarts: nothing of the item may come
// back from the FTS index, the vector table or a rebuilt in-memory index.
func TestForgetSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "os1.db")
	ctx := t.Context()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, store.User{ID: "u1", Username: "u1", Role: store.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	s := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	it := memory.Item{ID: "it_s", UserID: "u1", Kind: memory.KindFact, Text: "The safe code is 1234.", Sources: []string{"m1"}}
	if err := s.AddItem(ctx, it, vec(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexMessage(ctx, memory.MessageDoc{ID: "m1", UserID: "u1", Text: "The safe code is 1234.", Time: t0}, vec(3)); err != nil {
		t.Fatal(err)
	}
	// Load the in-memory index before forgetting, so its patching is tested too.
	if hits, err := s.SearchVector(ctx, "u1", vec(3), memory.Query{}); err != nil || len(hits) != 2 {
		t.Fatalf("before Forget: %v, %v", hits, err)
	}
	if err := s.Forget(ctx, "u1", "it_s"); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetMessage(ctx, "u1", "m1"); err != nil {
		t.Fatal(err)
	}
	memorytest.CheckForgotten(t, s, "u1", "it_s", "safe code 1234", vec(3))
	memorytest.CheckForgotten(t, s, "u1", "m1", "safe code 1234", vec(3))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	s = sqlitemem.New(db.SQL(), sqlitemem.Options{})
	memorytest.CheckForgotten(t, s, "u1", "it_s", "safe code 1234", vec(3))
	memorytest.CheckForgotten(t, s, "u1", "m1", "safe code 1234", vec(3))
	for _, table := range []string{"memory_docs", "memory_vectors", "memory_items", "memory_item_sources", "memory_messages"} {
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s still has %d rows", table, n)
		}
	}
	// The FTS index itself (not only the join) must have no entry left.
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'safe'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("memory_fts still matches %d rows for a forgotten word", n)
	}
	if err := db.SQL().QueryRowContext(ctx, `INSERT INTO memory_fts (memory_fts, rank) VALUES ('integrity-check', 1)`).Err(); err != nil {
		t.Errorf("FTS integrity check: %v", err)
	}
}

// Deleting a conversation in the core store takes its messages out of
// recall (the trigger in 00002_memory.sql), even from a loaded vector index.
func TestCoreDeleteLeavesRecall(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{})
		conv := store.Conversation{ID: "c1", UserID: "u1", Title: "t", CreatedAt: t0, UpdatedAt: t0}
		if err := db.CreateConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
		msg := store.Message{ID: "m1", ConversationID: "c1", UserID: "u1", Role: store.RoleUser, Content: "Tulips in April.", Status: store.StatusComplete, CreatedAt: t0, UpdatedAt: t0}
		if err := db.AppendMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexMessage(ctx, memory.MessageDoc{ID: "m1", UserID: "u1", ConversationID: "c1", Text: msg.Content, Time: t0}, vec(0)); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexMessage(ctx, memory.MessageDoc{ID: "m_other", UserID: "u1", ConversationID: "c2", Text: "Roses in June.", Time: t0}, vec(1)); err != nil {
			t.Fatal(err)
		}
		if hits, _ := s.SearchVector(ctx, "u1", vec(0), memory.Query{}); len(hits) != 2 {
			t.Fatalf("before delete: %d hits", len(hits))
		}
		if err := db.DeleteConversation(ctx, "u1", "c1"); err != nil {
			t.Fatal(err)
		}
		memorytest.CheckForgotten(t, s, "u1", "m1", "tulips april", vec(0))
		if hits, _ := s.SearchVector(ctx, "u1", vec(0), memory.Query{}); len(hits) != 1 || hits[0].ID != "m_other" {
			t.Errorf("after delete: %+v", hits)
		}
	}, "u1")
}

// Writes and searches of several users race against each other and against
// index eviction; run with -race.
func TestConcurrent(t *testing.T) {
	users := []string{"u0", "u1", "u2"}
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		// A budget of one user's index forces constant eviction and reloading.
		s := sqlitemem.NewFor(db, sqlitemem.Options{IndexBudget: 1})
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for w, u := range users {
			wg.Go(func() {
				for i := range 30 {
					id := fmt.Sprintf("%s_m%d", u, i)
					if err := s.IndexMessage(ctx, memory.MessageDoc{ID: id, UserID: u, Text: "note " + id, Time: t0.Add(time.Duration(i) * time.Minute)}, vec((w+i)%8)); err != nil {
						errs <- err
						return
					}
					hits, err := s.SearchVector(ctx, u, vec(w), memory.Query{Limit: 50})
					if err != nil {
						errs <- err
						return
					}
					for _, h := range hits {
						if h.ID[:2] != u {
							errs <- fmt.Errorf("user %s got %s", u, h.ID)
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, u := range users {
			hits, err := s.SearchVector(ctx, u, vec(0), memory.Query{Limit: 100})
			if err != nil || len(hits) != 30 {
				t.Errorf("%s: %d hits, %v; want all 30", u, len(hits), err)
			}
		}
	}, users...)
}

// An idle user's index is dropped after IndexIdle and rebuilt on demand.
func TestIndexEviction(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		clk := clock.NewFake(t0)
		s := sqlitemem.NewFor(db, sqlitemem.Options{Clock: clk, IndexIdle: time.Minute})
		for _, u := range []string{"u1", "u2"} {
			if err := s.IndexMessage(ctx, memory.MessageDoc{ID: u + "m", UserID: u, Text: "x", Time: t0}, vec(0)); err != nil {
				t.Fatal(err)
			}
		}
		search := func(u string) {
			t.Helper()
			if hits, err := s.SearchVector(ctx, u, vec(0), memory.Query{}); err != nil || len(hits) != 1 {
				t.Fatalf("search %s: %v, %v", u, hits, err)
			}
		}
		search("u1")
		one := s.IndexBytes()
		search("u2")
		if got := s.IndexBytes(); got != 2*one {
			t.Errorf("two users' indexes hold %d bytes, want %d", got, 2*one)
		}
		clk.Advance(2 * time.Minute)
		search("u2") // u1 has been idle too long
		if got := s.IndexBytes(); got != one {
			t.Errorf("after u1 idled out: %d bytes, want %d", got, one)
		}
		search("u1")
	}, "u1", "u2")
}

// Words matching more than MaxTextMatches documents are dropped while rarer
// words remain; with only such words, the user's newest documents are ranked.
func TestTextCommonWords(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{MaxTextMatches: 3})
		for i := range 10 {
			text := "common word"
			if i == 2 {
				text = "common word and a rare one"
			}
			if err := s.IndexMessage(ctx, memory.MessageDoc{ID: fmt.Sprintf("m%d", i), UserID: "u1", Text: text, Time: t0.Add(time.Duration(i) * time.Hour)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(q string) []string {
			hits, err := s.SearchText(ctx, "u1", memory.Query{Text: q, Limit: 20})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, h := range hits {
				out = append(out, h.ID)
			}
			slices.Sort(out)
			return out
		}
		if got := ids("common rare"); !slices.Equal(got, []string{"m2"}) {
			t.Errorf("common + rare word = %v, want only the rare word's message", got)
		}
		if got := ids("common"); !slices.Equal(got, []string{"m7", "m8", "m9"}) {
			t.Errorf("only a common word = %v, want the 3 newest", got)
		}
		if got := ids("unknownword"); len(got) != 0 {
			t.Errorf("unknown word = %v", got)
		}
	}, "u1")
}

// Deleting an account deletes all of its memory, full-text entries included.
func TestUserDeleteCascades(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{})
		for _, u := range []string{"u1", "u2"} {
			if err := s.SaveEntity(ctx, memory.Entity{ID: "e_" + u, UserID: u, Name: "Theo", Aliases: []string{"T"}}); err != nil {
				t.Fatal(err)
			}
			it := memory.Item{ID: "it_" + u, UserID: u, Kind: memory.KindFact, Text: "Theo plays chess.", Sources: []string{"m_" + u}, EntityIDs: []string{"e_" + u}}
			if err := s.AddItem(ctx, it, vec(1)); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveJournal(ctx, memory.Journal{ID: "j_" + u, UserID: u, Day: "2025-01-01", Text: "Chess day.", Sources: []string{"m_" + u}}, vec(2)); err != nil {
				t.Fatal(err)
			}
			if err := s.IndexMessage(ctx, memory.MessageDoc{ID: "m_" + u, UserID: u, Text: "Chess with Theo.", Time: t0}, vec(3)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM users WHERE id = 'u1'`); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"memory_docs", "memory_vectors", "memory_items", "memory_item_sources", "memory_item_entities",
			"memory_entities", "memory_entity_names", "memory_journals", "memory_messages"} {
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"memory_docs": 3, "memory_vectors": 3, "memory_entity_names": 2}[table]
			if want == 0 {
				want = 1
			}
			if n != want {
				t.Errorf("%s has %d rows after deleting one of two users, want %d (the other user's)", table, n, want)
			}
		}
		var n int
		match := `SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'chess'`
		if db.Dialect() == sqldb.Postgres {
			match = `SELECT count(*) FROM memory_docs WHERE fts @@ to_tsquery('english', 'chess')`
		}
		if err := db.SQL().QueryRowContext(ctx, match).Scan(&n); err != nil || n != 3 {
			t.Errorf("memory_fts matches %d rows for the remaining user's 3 documents (%v)", n, err)
		}
	}, "u1", "u2")
}
