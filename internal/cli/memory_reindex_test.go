package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// embeddingsServer speaks the OpenAI /v1/embeddings protocol with two tiny
// models: "a" hashes words into 64 dimensions, "b" into 32.
func embeddingsServer(t *testing.T) *httptest.Server {
	srv, _ := countedEmbeddingsServer(t)
	return srv
}

// countedEmbeddingsServer is embeddingsServer with a count of its requests.
func countedEmbeddingsServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var reqs atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		var in struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.URL.Path != "/v1/embeddings" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		dim := map[string]int{"a": 64, "b": 32}[in.Model]
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var out struct {
			Data []item `json:"data"`
		}
		for i, text := range in.Input {
			v := make([]float32, dim)
			v[0] = 0.01
			for _, word := range strings.Fields(strings.ToLower(text)) {
				h := fnv.New32a()
				h.Write([]byte(in.Model + word))
				v[h.Sum32()%uint32(dim)]++
			}
			out.Data = append(out.Data, item{Index: i, Embedding: v})
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

func TestMemoryReindexAfterModelChange(t *testing.T) {
	d := newDataDir(t, "caroline")
	srv := embeddingsServer(t)
	d.env["OS1_EMBED_URL"], d.env["OS1_EMBED_MODEL"] = srv.URL+"/v1", "a"
	f := d.file(t, "t.json", transcriptFile)
	if code, out, stderr := d.run("memory", "import", "--format", "transcript", "--no-extract", f); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}
	if got := vectorModels(t, d); got != "remote:a=4" {
		t.Fatalf("vectors after the import: %s", got)
	}

	d.env["OS1_EMBED_MODEL"] = "b"
	code, out, stderr := d.run("memory", "reindex")
	if code != 0 {
		t.Fatalf("reindex: %d %q %q", code, out, stderr)
	}
	// Not a terminal: plain lines, the first and the last.
	if !strings.Contains(out, "caroline reindexed 0/4 documents (0%)") || !strings.Contains(out, "caroline done: 4/4 documents (100%)") {
		t.Errorf("progress output: %q", out)
	}
	if got := vectorModels(t, d); got != "remote:b=4" {
		t.Errorf("vectors after the reindex: %s", got)
	}
	q := d.file(t, "q.txt", "pottery class\n")
	if code, out, _ := d.run("memory", "search", "--mode", "vector", "--queries", q, "--limit", "1"); code != 0 || !strings.Contains(out, `"lc-3"`) {
		t.Errorf("vector search with model b: %d %q", code, out)
	}
	if code, _, stderr := d.run("memory", "reindex", "--all", "--user", "caroline"); code == 0 || !strings.Contains(stderr, "not both") {
		t.Errorf("--all with --user: %d %q", code, stderr)
	}
}

// vectorModels is "name=count,…" of the data dir's vectors by model.
func vectorModels(t *testing.T, d *dataDir) string {
	t.Helper()
	sdb, err := sqlite.Open(context.Background(), filepath.Join(d.dir, "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	rows, err := sdb.SQL().Query(`SELECT coalesce(m.name, '?'), count(*) FROM memory_vectors v LEFT JOIN memory_embed_models m ON m.id = v.model GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, n))
	}
	return strings.Join(parts, ",")
}

func TestReindexPrinter(t *testing.T) {
	var b bytes.Buffer
	p := newReindexPrinter(&b, false)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.show("theo", reindex.Progress{Done: 0, Total: 1000}, t0)
	p.show("theo", reindex.Progress{Done: 100, Total: 1000, Rate: 20, ETA: 45 * time.Second}, t0.Add(5*time.Second))
	p.show("theo", reindex.Progress{Done: 250, Total: 1000, Rate: 25, ETA: 30 * time.Second}, t0.Add(10*time.Second))
	p.show("theo", reindex.Progress{Done: 1000, Total: 1000, Rate: 25, Finished: true}, t0.Add(40*time.Second))
	want := "theo reindexed 0/1000 documents (0%)\n" +
		"theo reindexed 250/1000 documents (25%), 25.0 a second, about 30s left\n" +
		"theo done: 1000/1000 documents (100%), 25.0 a second\n"
	if b.String() != want {
		t.Errorf("plain progress:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	p = newReindexPrinter(&b, true)
	p.show("theo", reindex.Progress{Done: 500, Total: 1000, Rate: 10, ETA: 50 * time.Second}, t0)
	p.show("theo", reindex.Progress{Done: 1000, Total: 1000, Rate: 10, Finished: true}, t0)
	want = "\rtheo [###############...............] 500/1000, 10.0 a second, about 50s left\x1b[K" +
		"\rtheo [##############################] 1000/1000, 10.0 a second\x1b[K\n"
	if b.String() != want {
		t.Errorf("bar:\n%q\nwant:\n%q", b.String(), want)
	}
}

// TestDoctorReportsModelChange: doctor loads the embedding model only when
// memory holds vectors, and warns with what to run after a model change.
func TestDoctorReportsModelChange(t *testing.T) {
	d := newDataDir(t, "caroline")
	srv, reqs := countedEmbeddingsServer(t)
	d.env["OS1_EMBED_URL"], d.env["OS1_EMBED_MODEL"] = srv.URL+"/v1", "a"

	_, out, _ := d.run("doctor")
	if !strings.Contains(out, "[ok  ] embedding  no memory vectors yet") {
		t.Errorf("doctor without vectors:\n%s", out)
	}
	if n := reqs.Load(); n != 0 {
		t.Errorf("doctor asked the embedding model %d times with no vectors in memory, want 0", n)
	}

	f := d.file(t, "t.json", transcriptFile)
	if code, out, stderr := d.run("memory", "import", "--format", "transcript", "--no-extract", f); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}
	_, out, _ = d.run("doctor")
	if !strings.Contains(out, "[ok  ] embedding  memory's vectors are remote:a") {
		t.Errorf("doctor with the same model:\n%s", out)
	}

	d.env["OS1_EMBED_MODEL"] = "b"
	_, out, _ = d.run("doctor")
	if !strings.Contains(out, "[warn] embedding  The embedding model changed from remote:a") ||
		!strings.Contains(out, "fix: run `os1 memory reindex --all`") {
		t.Errorf("doctor after a model change:\n%s", out)
	}
	if got := vectorModels(t, d); got != "remote:a=4" {
		t.Errorf("doctor wrote to the database: vectors %s", got)
	}
	if code, out, stderr := d.run("memory", "reindex"); code != 0 {
		t.Fatalf("reindex: %d %q %q", code, out, stderr)
	}
	_, out, _ = d.run("doctor")
	if !strings.Contains(out, "[ok  ] embedding  memory's vectors are remote:b") {
		t.Errorf("doctor after the reindex:\n%s", out)
	}
}
