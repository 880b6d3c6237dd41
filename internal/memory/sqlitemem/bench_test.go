package sqlitemem_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// Benchmarks of retrieval for one user with n messages (512-d vectors and
// text), run as
//
//	go test -run '^$' -bench . -cpu 1 ./internal/memory/sqlitemem/
//
// and with OS1_BENCH_1M=1 for a million messages. The database is built once
// per size under os.TempDir() and reused. Vectors are seeded, grouped
// around topics like sentence embeddings; a message's words come partly from
// its topic, so text and vectors agree the way real ones do. Each benchmark
// reports ns/op plus p50/p99 latency in ms; vector search also its recall@10
// against exact float search, and the in-memory index's bytes per vector.

const (
	benchDim    = 512
	benchTopics = 2000
	benchUser   = "bench_user"
	benchSeed   = 7
	benchFormat = 2 // bump when the generated data changes
)

func benchSizes(b *testing.B) []int {
	sizes := []int{10_000, 100_000}
	if os.Getenv("OS1_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	return sizes
}

// corpus generates the benchmark data deterministically: message i is the
// same on every run, so exact answers can be recomputed without storing them.
type corpus struct {
	centres [][]float32
	vocab   []string
}

func newCorpus() *corpus {
	rng := rand.New(rand.NewPCG(benchSeed, 1))
	c := &corpus{}
	for range benchTopics {
		v := make([]float32, benchDim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		c.centres = append(c.centres, v)
	}
	syl := []string{"ka", "lo", "mi", "ne", "ru", "ta", "ve", "so", "pi", "da", "fe", "gu", "ho", "ji", "be", "zu"}
	for i := range 20000 {
		w := ""
		for x := i + 1; x > 0; x /= 16 {
			w += syl[x%16]
		}
		c.vocab = append(c.vocab, w)
	}
	return c
}

// doc returns message i's topic, text and vector.
func (c *corpus) doc(i int) (string, []float32) {
	rng := rand.New(rand.NewPCG(benchSeed, uint64(i)+100))
	topic := rng.IntN(benchTopics)
	v := make([]float32, benchDim)
	for j := range v {
		v[j] = c.centres[topic][j] + float32(1.2*rng.NormFloat64())
	}
	return c.words(rng, topic, 8+rng.IntN(18)), v
}

// query returns query q's text and vector: a topic's words and a point near it.
func (c *corpus) query(q int) (string, []float32) {
	rng := rand.New(rand.NewPCG(benchSeed+1, uint64(q)))
	topic := rng.IntN(benchTopics)
	v := make([]float32, benchDim)
	for j := range v {
		v[j] = c.centres[topic][j] + float32(1.2*rng.NormFloat64())
	}
	return c.words(rng, topic, 3+rng.IntN(4)), v
}

// words mixes English stopwords, Zipf-common words and the topic's own words.
func (c *corpus) words(rng *rand.Rand, topic, n int) string {
	stop := []string{"the", "and", "I", "we", "was", "it", "to", "of"}
	zipf := rand.NewZipf(rng, 1.1, 1, 4999)
	out := make([]string, n)
	for k := range out {
		switch r := rng.IntN(10); {
		case r < 3:
			out[k] = stop[rng.IntN(len(stop))]
		case r < 6:
			out[k] = c.vocab[zipf.Uint64()]
		default: // 15 words per topic from the rarer part of the vocabulary
			out[k] = c.vocab[5000+topic*7+rng.IntN(15)]
		}
	}
	return strings.Join(out, " ")
}

var benchT0 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// benchDB opens the cached database with n messages, building it if needed.
func benchDB(b *testing.B, n int) (*sqlite.DB, *corpus) {
	b.Helper()
	c := newCorpus()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("os1-sqlitemem-bench-v%d-%d.db", benchFormat, n))
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		start := time.Now()
		if err := buildBenchDB(b.Context(), path, n, c); err != nil {
			b.Fatalf("build benchmark database: %v", err)
		}
		b.Logf("built %s in %v", path, time.Since(start).Round(time.Second))
	}
	db, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, c
}

func buildBenchDB(ctx context.Context, path string, n int, c *corpus) error {
	tmp := path + ".building"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	db, err := sqlite.Open(ctx, tmp)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateUser(ctx, store.User{ID: benchUser, Username: benchUser, Role: store.RoleOwner}); err != nil {
		return err
	}
	s := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	const batch = 1000
	docs := make([]memory.MessageDoc, 0, batch)
	vecs := make([][]float32, 0, batch)
	for i := range n {
		text, v := c.doc(i)
		docs = append(docs, memory.MessageDoc{ID: fmt.Sprintf("m%07d", i), UserID: benchUser, ConversationID: "c", Role: "user",
			Text: text, Time: benchT0.Add(time.Duration(i) * 10 * time.Minute)})
		vecs = append(vecs, v)
		if len(docs) == batch || i == n-1 {
			if err := s.IndexMessages(ctx, docs, vecs); err != nil {
				return err
			}
			docs, vecs = docs[:0], vecs[:0]
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// latencies collects per-operation wall and CPU times and reports their
// p50 and p99. The CPU time is the process's (the benchmark runs nothing
// else meanwhile), so it counts a query's work on every goroutine (recall
// searches text and vectors side by side) and is what the query costs even
// when the machine is busy; wall time also counts waiting for a core and,
// with -cpu above 1, gains from the searches running at once.
type latencies struct {
	wall, cpu           []time.Duration
	wallStart, cpuStart time.Duration
	t0                  time.Time
}

func newLatencies(*testing.B) *latencies { return &latencies{} }

func (l *latencies) start() { l.t0, l.cpuStart = time.Now(), sqlitemem.ProcessCPU() }

func (l *latencies) stop() {
	l.wall = append(l.wall, time.Since(l.t0))
	l.cpu = append(l.cpu, sqlitemem.ProcessCPU()-l.cpuStart)
}

func (l *latencies) report(b *testing.B) {
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"wall", l.wall}, {"cpu", l.cpu}} {
		if len(m.d) == 0 {
			continue
		}
		slices.Sort(m.d)
		at := func(p float64) float64 {
			return float64(m.d[min(len(m.d)-1, int(p*float64(len(m.d))))].Microseconds()) / 1000
		}
		b.ReportMetric(at(0.50), m.name+"-p50-ms")
		b.ReportMetric(at(0.99), m.name+"-p99-ms")
	}
}

const benchQueries = 200

func BenchmarkSearchVector(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			db, c := benchDB(b, n)
			s := sqlitemem.New(db.SQL(), sqlitemem.Options{IndexBudget: 1 << 30})
			ctx := b.Context()
			qs := make([][]float32, benchQueries)
			for i := range qs {
				_, qs[i] = c.query(i)
			}
			start := time.Now()
			if _, err := s.SearchVector(ctx, benchUser, qs[0], memory.Query{}); err != nil {
				b.Fatal(err)
			}
			load := time.Since(start)
			lat := newLatencies(b)
			for i := 0; b.Loop(); i++ {
				lat.start()
				if _, err := s.SearchVector(ctx, benchUser, qs[i%len(qs)], memory.Query{}); err != nil {
					b.Fatal(err)
				}
				lat.stop()
			}
			lat.report(b)
			b.ReportMetric(float64(load.Milliseconds()), "load-ms")
			b.ReportMetric(float64(s.IndexBytes())/float64(n), "index-B/vec")
			b.ReportMetric(vectorRecall(b, s, c, n, 10), "recall@10")
		})
	}
}

// vectorRecall compares SearchVector's top k with exact float search over
// the regenerated corpus for a few queries.
func vectorRecall(b *testing.B, s *sqlitemem.Store, c *corpus, n, k int) float64 {
	nq := 10
	if n >= 1_000_000 {
		nq = 3
	}
	type scored struct {
		id string
		s  float64
	}
	qs := make([][]float32, nq)
	best := make([][]scored, nq)
	for q := range qs {
		_, qs[q] = c.query(q)
		unit(qs[q])
	}
	for i := range n {
		_, v := c.doc(i)
		unit(v)
		for q := range qs {
			var d float64
			for j := range v {
				d += float64(v[j]) * float64(qs[q][j])
			}
			best[q] = append(best[q], scored{fmt.Sprintf("m%07d", i), d})
			if len(best[q]) > 4*k {
				slices.SortFunc(best[q], func(a, b scored) int { return cmpFloat(b.s, a.s) })
				best[q] = best[q][:k]
			}
		}
	}
	found := 0
	for q := range qs {
		slices.SortFunc(best[q], func(a, b scored) int { return cmpFloat(b.s, a.s) })
		truth := map[string]bool{}
		for _, x := range best[q][:k] {
			truth[x.id] = true
		}
		hits, err := s.SearchVector(b.Context(), benchUser, qs[q], memory.Query{Limit: k})
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range hits {
			if truth[h.ID] {
				found++
			}
		}
	}
	return float64(found) / float64(k*nq)
}

func unit(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func BenchmarkSearchText(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			db, c := benchDB(b, n)
			s := sqlitemem.New(db.SQL(), sqlitemem.Options{})
			texts := make([]string, benchQueries)
			for i := range texts {
				texts[i], _ = c.query(i)
			}
			lat := newLatencies(b)
			for i := 0; b.Loop(); i++ {
				lat.start()
				if _, err := s.SearchText(b.Context(), benchUser, memory.Query{Text: texts[i%len(texts)], Limit: 50}); err != nil {
					b.Fatal(err)
				}
				lat.stop()
			}
			lat.report(b)
		})
	}
}

// queryEmbedder answers the benchmark's query vectors for its query texts,
// so Recall is measured without a model's embedding time.
type queryEmbedder map[string][]float32

func (e queryEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := e[t]
		if !ok {
			return nil, fmt.Errorf("no vector for %q", t)
		}
		out[i] = v
	}
	return out, nil
}

func BenchmarkRecall(b *testing.B) {
	for _, n := range benchSizes(b) {
		for _, mode := range []recall.Mode{recall.Hybrid, recall.TextOnly, recall.VectorOnly} {
			b.Run(fmt.Sprintf("n=%d/%s", n, mode), func(b *testing.B) {
				db, c := benchDB(b, n)
				s := sqlitemem.New(db.SQL(), sqlitemem.Options{IndexBudget: 1 << 30})
				emb := queryEmbedder{}
				texts := make([]string, benchQueries)
				for i := range texts {
					text, v := c.query(i)
					texts[i], emb[text] = text, v
				}
				opts := recall.DefaultOptions()
				opts.Mode = mode
				r := recall.New(s, emb, clock.System{}, opts)
				if _, err := r.Recall(b.Context(), benchUser, memory.Query{Text: texts[0]}, time.UTC); err != nil {
					b.Fatal(err) // also loads the vector index
				}
				lat := newLatencies(b)
				for i := 0; b.Loop(); i++ {
					lat.start()
					if _, err := r.Recall(b.Context(), benchUser, memory.Query{Text: texts[i%len(texts)]}, time.UTC); err != nil {
						b.Fatal(err)
					}
					lat.stop()
				}
				lat.report(b)
			})
		}
	}
}
