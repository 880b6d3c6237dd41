package sqlitemem_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// hugeText is the memory of issue 8: "kk " ten million times (30 MiB). Ranking
// it whole needs more than SQLite's 256 MiB per connection.
var hugeText = strings.Repeat("kk ", 10_000_000)

// A document far longer than anything the API lets in, written straight into
// the tables (an old import, a hand edit), is indexed only up to
// IndexedChars: recall ranks it, finds it, and returns its whole text.
// Before the cap, SearchText panicked with "sqlite3: out of memory".
func TestHugeDocumentIsIndexedCut(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "os1.db"), "u1")
	s := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	ctx := t.Context()
	res, err := db.SQL().ExecContext(ctx, `INSERT INTO memory_docs (user_id, doc_kind, doc_id, text, time, current)
		VALUES ('u1', 'item', 'it_huge', ?, NULL, 1)`, hugeText)
	if err != nil {
		t.Fatal(err)
	}
	seq, _ := res.LastInsertId()
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO memory_items (id, user_id, seq, kind, confidence, importance, superseded_by)
		VALUES ('it_huge', 'u1', ?, 'fact', 1, 1, '')`, seq); err != nil {
		t.Fatal(err)
	}
	if err := s.AddItem(ctx, memory.Item{ID: "it_1", UserID: "u1", Kind: memory.KindFact, Text: "kk is what Theo calls his cat.",
		Sources: []string{"m1"}}, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := s.SearchText(ctx, "u1", memory.Query{Text: "kk"})
	if err != nil {
		t.Fatalf("SearchText over a 30 MiB document: %v", err)
	}
	if len(hits) != 2 {
		t.Fatalf("got %d hits, want both items", len(hits))
	}
	for _, h := range hits {
		if h.ID == "it_huge" && len(h.Text) != len(hugeText) {
			t.Errorf("the huge item came back with %d bytes of text, want all %d", len(h.Text), len(hugeText))
		}
	}
	// Forgetting it un-indexes the same prefix: the index stays consistent.
	if err := s.Forget(ctx, "u1", "it_huge"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO memory_fts (memory_fts) VALUES ('integrity-check')`); err != nil {
		t.Fatalf("full-text index after forgetting the huge item: %v", err)
	}
	if hits, err := s.SearchText(ctx, "u1", memory.Query{Text: "kk"}); err != nil || len(hits) != 1 {
		t.Fatalf("after forgetting: %d hits, %v", len(hits), err)
	}
}

// When SQLite does run out of memory (here: a document indexed whole, as
// before migration 00004, searched over a connection given 16 MiB), the
// driver's panic is the store's error: the caller, a user's turn or the
// memory worker, goes on.
func TestDatabasePanicIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "os1.db")
	db := openDB(t, path, "u1")
	ctx := t.Context()
	if err := sqlitemem.New(db.SQL(), sqlitemem.Options{}).IndexMessage(ctx,
		memory.MessageDoc{ID: "m1", UserID: "u1", Text: "kk", Time: t0}, nil); err != nil {
		t.Fatal(err)
	}
	// The old index of m1: the whole long text in memory_fts.
	long := strings.Repeat("kk ", 1_000_000)
	for _, q := range []string{
		`INSERT INTO memory_fts (memory_fts, rowid, text, user_id, doc_kind, doc_id) SELECT 'delete', seq, text, user_id, doc_kind, doc_id FROM memory_docs WHERE ? != ''`,
		`INSERT INTO memory_fts (rowid, text, user_id, doc_kind, doc_id) SELECT seq, ?, user_id, doc_kind, doc_id FROM memory_docs`,
	} {
		if _, err := db.SQL().ExecContext(ctx, q, long); err != nil {
			t.Fatal(err)
		}
	}
	// A pool whose one connection is opened with 16 MiB of memory.
	small, err := sqlitedriver.Open("file:"+filepath.ToSlash(path), fts5.Register)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	lctx := sqlite3.WithMaxMemory(ctx, 16<<20)
	s := sqlitemem.New(small, sqlitemem.Options{})
	_, err = s.SearchText(lctx, "u1", memory.Query{Text: "kk"})
	if !errors.Is(err, sqlitemem.ErrDatabase) {
		t.Fatalf("SearchText = %v, want ErrDatabase", err)
	}
	t.Logf("error: %v", err)
}
