package sqlitemem_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/os1ai/os1/bench/memory/dataset"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/memory/transfer"
	"github.com/os1ai/os1/internal/store"
)

// BenchmarkLongMemEvalText is bench/memory's LongMemEval text mode in one
// process, on SQLite and on PostgreSQL: each history imported into a fresh
// database (as `os1 memory import --format transcript`, without vectors),
// its question recalled in text mode (as `os1 memory search --mode text
// --limit 10 --now <question time>`, after a warm-up query), recall@5 and @10 of the evidence
// messages among the hits' sources. It compares full-text ranking (FTS5's
// BM25, PostgreSQL's weighted ts_rank, fulltext_pg.go); the vector side is
// the same code on both. OS1_LME is the dataset directory
// (/work/shared/datasets/longmemeval_s), OS1_LME_LIMIT the number of
// histories (spread evenly; default all).
//
//	OS1_LME=/work/shared/datasets/longmemeval_s go test -run '^$' -bench LongMemEvalText -benchtime 1x ./internal/memory/sqlitemem
func BenchmarkLongMemEvalText(b *testing.B) {
	dir := os.Getenv("OS1_LME")
	if dir == "" {
		b.Skip("OS1_LME is not set (the LongMemEval_S directory)")
	}
	hs, err := dataset.ReadLME(dir)
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := strconv.Atoi(os.Getenv("OS1_LME_LIMIT")); n > 0 && n < len(hs) {
		picked := make([]dataset.LMEHistory, n)
		for i := range n {
			picked[i] = hs[i*len(hs)/n]
		}
		hs = picked
	}
	backends := []struct {
		name string
		open func(b *testing.B) coreDB
	}{
		{"sqlite", func(b *testing.B) coreDB {
			return openDB(b, filepath.Join(b.TempDir(), "os1.db"))
		}},
		{"postgres", func(b *testing.B) coreDB { return openPG(b) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for range b.N {
				var r5, r10 float64
				var search time.Duration
				for _, h := range hs {
					db := be.open(b)
					x5, x10, took := lmeQuestion(b, db, h)
					db.Close() // a pool per history would exhaust PostgreSQL's connections
					r5, r10, search = r5+x5, r10+x10, search+took
				}
				n := float64(len(hs))
				b.ReportMetric(r5/n, "R@5")
				b.ReportMetric(r10/n, "R@10")
				b.ReportMetric(float64(search.Microseconds())/1000/n, "ms/query")
			}
		})
	}
}

// lmeQuestion imports one history into db and scores its question.
func lmeQuestion(b *testing.B, db coreDB, h dataset.LMEHistory) (r5, r10 float64, took time.Duration) {
	ctx := b.Context()
	u := store.User{ID: "u_" + h.ID, Username: "user", DisplayName: "user", Role: store.RoleOwner, CreatedAt: h.Now}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(h.Transcript)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := transfer.ParseTranscript(data)
	if err != nil {
		b.Fatal(err)
	}
	clk := clock.NewFake(h.Now)
	mem := sqlitemem.NewFor(db, sqlitemem.Options{Clock: clk})
	t := &transfer.Transfer{Core: db, Memory: mem, Clock: clk, Watermarks: mem.Progress()}
	if _, err := t.ImportTranscript(ctx, u, tr, false); err != nil {
		b.Fatal(err)
	}
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	rc := recall.New(mem, nil, clk, opts)
	// As the harness: a warm-up query first (statements prepared, pages read).
	if _, err := rc.Recall(ctx, u.ID, memory.Query{Text: "warm up", Limit: 10}, store.Profile{}.Location()); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	hits, err := rc.Recall(ctx, u.ID, memory.Query{Text: h.Question.Question, Limit: 10}, store.Profile{}.Location())
	took = time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	at := func(k int) float64 {
		found := map[string]bool{}
		for _, hit := range hits[:min(k, len(hits))] {
			for _, s := range hit.Sources {
				found[s] = true
			}
		}
		n := 0
		for _, a := range h.Question.Answers {
			if found[a] {
				n++
			}
		}
		return float64(n) / float64(len(h.Question.Answers))
	}
	return at(5), at(10), took
}
