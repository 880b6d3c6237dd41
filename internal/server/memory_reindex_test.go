package server_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

// wordModel is a small real embedder: words hashed (with its salt) into
// dim dimensions. gate, when set, holds every call until it is closed.
type wordModel struct {
	name string
	dim  int
	gate chan struct{}
	held atomic.Bool
}

func (m *wordModel) Name() string { return m.name }
func (m *wordModel) Dim() int     { return m.dim }
func (m *wordModel) Embed(_ context.Context, texts []string) ([][]float32, error) {
	if m.gate != nil && m.held.Load() {
		<-m.gate
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, m.dim)
		v[0] = 0.01
		for _, w := range strings.Fields(strings.ToLower(t)) {
			h := fnv.New32a()
			h.Write([]byte(m.name + w))
			v[h.Sum32()%uint32(m.dim)]++
		}
		out[i] = v
	}
	return out, nil
}

// storeReindexer is app.Reindex without the model loading: the notice from
// the store's model status, the reindex from a real reindex.Runner.
type storeReindexer struct {
	st     *sqlitemem.Store
	runner *reindex.Runner
}

func (r storeReindexer) Notice(ctx context.Context) (string, error) {
	s, err := r.st.ModelStatus(ctx)
	return s.Notice(), err
}
func (r storeReindexer) Start(_ context.Context, users []reindex.User) error {
	return r.runner.Start(users)
}
func (r storeReindexer) State() reindex.State { return r.runner.State() }

// indexWith indexes n messages of the user with m's vectors, over a store
// that uses m (as a server that ran with m did).
func indexWith(t *testing.T, e *env, m *wordModel, userID string, n int) {
	t.Helper()
	ctx := context.Background()
	st := sqlitemem.New(e.db.SQL(), sqlitemem.Options{Clock: e.clock})
	id, err := embed.Identify(ctx, m)
	if err == nil {
		err = st.UseModel(ctx, id, m, true)
	}
	docs, texts := make([]memory.MessageDoc, n), make([]string, n)
	for i := range n {
		texts[i] = fmt.Sprintf("note %d about the garden of %s", i, userID)
		docs[i] = memory.MessageDoc{ID: fmt.Sprintf("%s_m%d", userID, i), UserID: userID, ConversationID: userID + "_c", Role: "user",
			Text: texts[i], Time: e.clock.Now().Add(time.Duration(i) * time.Minute)}
	}
	var vecs [][]float32
	if err == nil {
		vecs, err = m.Embed(ctx, texts)
	}
	if err == nil {
		err = st.IndexMessages(ctx, docs, vecs)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// withReindex serves env with memory and a reindexer that uses model b.
func withReindex(t *testing.T, e *env, b *wordModel) {
	t.Helper()
	ctx := context.Background()
	st := sqlitemem.New(e.db.SQL(), sqlitemem.Options{Clock: e.clock})
	id, err := embed.Identify(ctx, b)
	if err == nil {
		err = st.UseModel(ctx, id, b, true)
	}
	if err != nil {
		t.Fatal(err)
	}
	runner := reindex.NewRunner(st, b, e.clock, nil)
	t.Cleanup(runner.Close)
	d := e.srv.Deps
	d.Memory = &server.Memory{Store: st, Recaller: recall.New(st, nil, e.clock, recall.DefaultOptions()),
		Reindex: storeReindexer{st: st, runner: runner}}
	e.srv = server.New(d)
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = e.srv.HTTPServer("")
	hs.Start()
	t.Cleanup(hs.Close)
	e.http = hs
}

// vectorsOf counts the user's vectors per model name.
func vectorsOf(t *testing.T, e *env, userID string) map[string]int {
	t.Helper()
	rows, err := e.db.SQL().Query(`SELECT coalesce(m.name, ''), count(*) FROM memory_vectors v
		LEFT JOIN memory_embed_models m ON m.id = v.model WHERE v.user_id = ? GROUP BY 1`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

func TestMemoryReindexAPI(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	rosa := e.member(o, "rosa")
	theoID, rosaID := o.user["id"].(string), rosa.user["id"].(string)
	a := &wordModel{name: "words-a", dim: 64}
	indexWith(t, e, a, theoID, 40)
	indexWith(t, e, a, rosaID, 7)
	b := &wordModel{name: "words-b", dim: 48, gate: make(chan struct{})}
	withReindex(t, e, b)

	// The model changed: both see the notice in the status.
	for _, c := range []*client{o, rosa} {
		st := c.want(http.StatusOK, "GET", "/api/status", nil)
		if n, _ := st["memory_notice"].(string); !strings.Contains(n, "from words-a") || !strings.Contains(n, "os1 memory reindex") {
			t.Errorf("status's memory_notice: %q", n)
		}
	}
	// The reindex is the owner's: it costs the server's CPU for everyone.
	if r := rosa.do("GET", "/api/memory/reindex", nil); r.Status != http.StatusForbidden {
		t.Errorf("member's GET: %d %s", r.Status, r.Body)
	}
	if r := rosa.do("POST", "/api/memory/reindex", map[string]any{"all": true}); r.Status != http.StatusForbidden {
		t.Errorf("member's POST: %d %s", r.Status, r.Body)
	}
	o.want(http.StatusBadRequest, "POST", "/api/memory/reindex", map[string]any{})
	o.want(http.StatusBadRequest, "POST", "/api/memory/reindex", map[string]any{"all": true, "user": "theo"})
	o.want(http.StatusNotFound, "POST", "/api/memory/reindex", map[string]any{"user": "nobody"})
	if got := vectorsOf(t, e, theoID)["words-b"] + vectorsOf(t, e, rosaID)["words-b"]; got != 0 {
		t.Fatalf("refused requests rebuilt %d vectors", got)
	}

	// One user: the answer shows the run; a second start is refused while it runs.
	b.held.Store(true)
	st := o.want(http.StatusAccepted, "POST", "/api/memory/reindex", map[string]any{"user": "THEO"})
	users, _ := st["users"].([]any)
	if st["running"] != true || len(users) != 1 || users[0].(map[string]any)["username"] != "theo" || users[0].(map[string]any)["user_id"] != theoID {
		t.Errorf("POST's answer: %v", st)
	}
	if r := o.do("POST", "/api/memory/reindex", map[string]any{"all": true}); r.Status != http.StatusConflict || r.code() != "reindex_running" {
		t.Errorf("second start: %d %s", r.Status, r.Body)
	}
	b.held.Store(false)
	close(b.gate)
	var last map[string]any
	testrig.Eventually(t, 10*time.Second, "the reindex of theo finishes", func() (bool, string) {
		last = o.want(http.StatusOK, "GET", "/api/memory/reindex", nil)
		return last["running"] == false, fmt.Sprint(last)
	})
	p := last["users"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"username": "theo", "done": 40.0, "total": 40.0, "finished": true} {
		if p[k] != want {
			t.Errorf("progress %s = %v, want %v (%v)", k, p[k], want, p)
		}
	}
	if _, ok := p["rate"].(float64); !ok || last["error"] != nil || last["started_at"] == nil || last["finished_at"] == nil {
		t.Errorf("progress shape: %v", last)
	}
	// Isolation: only theo's vectors were rebuilt; rosa's wait for theirs,
	// so the notice stays and counts them.
	if got := vectorsOf(t, e, theoID); got["words-b"] != 40 || len(got) != 1 {
		t.Errorf("theo's vectors: %v", got)
	}
	if got := vectorsOf(t, e, rosaID); got["words-a"] != 7 || len(got) != 1 {
		t.Errorf("rosa's vectors after theo's reindex: %v", got)
	}
	if n, _ := last["notice"].(string); !strings.Contains(n, "for the 7 documents") {
		t.Errorf("notice after theo's reindex: %q", n)
	}

	// All: the notice goes away.
	o.want(http.StatusAccepted, "POST", "/api/memory/reindex", map[string]any{"all": true})
	testrig.Eventually(t, 10*time.Second, "the reindex of all finishes", func() (bool, string) {
		last = o.want(http.StatusOK, "GET", "/api/memory/reindex", nil)
		return last["running"] == false, fmt.Sprint(last)
	})
	if got := vectorsOf(t, e, rosaID); got["words-b"] != 7 || len(got) != 1 {
		t.Errorf("rosa's vectors after --all: %v", got)
	}
	if _, ok := last["notice"]; ok || len(last["users"].([]any)) != 2 {
		t.Errorf("after --all: %v", last)
	}
	if _, ok := o.want(http.StatusOK, "GET", "/api/status", nil)["memory_notice"]; ok {
		t.Error("the status still has a memory_notice after the reindex")
	}
}

func TestMemoryReindexUnavailable(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	withMemory(e) // memory without a reindexer (no embedding model)
	if r := o.do("GET", "/api/memory/reindex", nil); r.Status != http.StatusServiceUnavailable || r.code() != "memory_unavailable" {
		t.Errorf("GET without a reindexer: %d %s", r.Status, r.Body)
	}
	if _, ok := o.want(http.StatusOK, "GET", "/api/status", nil)["memory_notice"]; ok {
		t.Error("a memory_notice without a reindexer")
	}
}
