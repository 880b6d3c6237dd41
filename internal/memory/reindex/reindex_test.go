package reindex_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// bagModel is a small real embedder: words hashed (with its salt) into dim
// dimensions. Two bagModels with different salts or sizes are different
// models whose vectors must never be compared.
type bagModel struct {
	name  string
	dim   int
	salt  string
	texts atomic.Int64 // texts embedded
	// before, when set, runs before each call (to cancel or block).
	before func()
}

func (b *bagModel) Name() string { return b.name }
func (b *bagModel) Dim() int     { return b.dim }

func (b *bagModel) Embed(_ context.Context, texts []string) ([][]float32, error) {
	if b.before != nil {
		b.before()
	}
	b.texts.Add(int64(len(texts)))
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, b.dim)
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') }) {
			f := fnv.New32a()
			f.Write([]byte(b.salt + w))
			v[f.Sum32()%uint32(b.dim)]++
		}
		var n float64
		for _, x := range v {
			n += float64(x * x)
		}
		if n == 0 {
			v[0], n = 1, 1
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(n))
		}
		out[i] = v
	}
	return out, nil
}

func modelA() *bagModel { return &bagModel{name: "bag", dim: 256, salt: "a"} }
func modelB() *bagModel { return &bagModel{name: "bag-b", dim: 96, salt: "b"} }

// use opens a fresh Store over h's database (as a restarted server would)
// with model m.
func use(t *testing.T, h *memtest.Harness, m *bagModel) *sqlitemem.Store {
	t.Helper()
	s := sqlitemem.New(h.DB.SQL(), sqlitemem.Options{Clock: h.Clock})
	id, err := embed.Identify(h.Ctx, m)
	h.Must(err)
	h.Must(s.UseModel(h.Ctx, id, m, true))
	return s
}

// fill indexes n messages of h.User with m's vectors; message i says
// "note i" and message 7 also mentions a lighthouse.
func fill(t *testing.T, h *memtest.Harness, s *sqlitemem.Store, m *bagModel, n int) {
	t.Helper()
	docs := make([]memory.MessageDoc, n)
	texts := make([]string, n)
	for i := range n {
		texts[i] = fmt.Sprintf("note %d about the garden and the weather", i)
		if i == 7 {
			texts[i] = "we walked to the old lighthouse on the cliff"
		}
		docs[i] = memory.MessageDoc{ID: fmt.Sprintf("msg_%03d", i), UserID: h.User.ID, ConversationID: "cnv_1", Speaker: "Theodore",
			Role: "user", Text: texts[i], Time: memtest.Day0.Add(time.Duration(i) * time.Minute)}
	}
	vecs, err := m.Embed(h.Ctx, texts)
	h.Must(err)
	h.Must(s.IndexMessages(h.Ctx, docs, vecs))
}

// vectorsByModel counts the user's vectors per recorded model name ("" for
// model 0) and checks that every document has exactly one.
func vectorsByModel(t *testing.T, h *memtest.Harness) map[string]int {
	t.Helper()
	rows, err := h.DB.SQL().QueryContext(h.Ctx, `SELECT coalesce(m.name, ''), count(*) FROM memory_vectors v
		LEFT JOIN memory_embed_models m ON m.id = v.model WHERE v.user_id = ? GROUP BY 1`, h.User.ID)
	h.Must(err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		h.Must(rows.Scan(&name, &n))
		out[name] = n
	}
	var dup int
	h.Must(h.DB.SQL().QueryRowContext(h.Ctx, `SELECT count(*) FROM (SELECT seq FROM memory_vectors GROUP BY seq HAVING count(*) > 1)`).Scan(&dup))
	if dup > 0 {
		t.Errorf("%d documents have more than one vector", dup)
	}
	return out
}

func query(t *testing.T, h *memtest.Harness, m *bagModel, text string) []float32 {
	t.Helper()
	v, err := m.Embed(h.Ctx, []string{text})
	h.Must(err)
	return v[0]
}

func TestModelChangeIsNoticedAndRecallFallsBackToText(t *testing.T) {
	h := memtest.New(t)
	a, b := modelA(), modelB()
	sa := use(t, h, a)
	fill(t, h, sa, a, 40)
	hits, err := sa.SearchVector(h.Ctx, h.User.ID, query(t, h, a, "lighthouse cliff"), memory.Query{Limit: 3})
	h.Must(err)
	if len(hits) == 0 || hits[0].ID != "msg_007" {
		t.Fatalf("model A's vector search: got %v, want msg_007 first", hits)
	}
	st, err := sa.ModelStatus(h.Ctx)
	h.Must(err)
	if st.NeedsReindex() || st.Notice() != "" {
		t.Fatalf("one model only: status says %q", st.Notice())
	}

	// Restart with model B (another size): the store says what to run.
	sb := use(t, h, b)
	st, err = sb.ModelStatus(h.Ctx)
	h.Must(err)
	notice := st.Notice()
	for _, want := range []string{"from bag (256 dimensions", "to bag-b (96 dimensions", "os1 memory reindex --all", "text only", "40 documents"} {
		if !strings.Contains(notice, want) {
			t.Errorf("notice %q lacks %q", notice, want)
		}
	}
	// B's vector search sees none of A's vectors (never compares them) ...
	hits, err = sb.SearchVector(h.Ctx, h.User.ID, query(t, h, b, "lighthouse cliff"), memory.Query{Limit: 3})
	h.Must(err)
	if len(hits) != 0 {
		t.Errorf("model B's search returned model A's documents: %v", hits)
	}
	// ... and recall still finds the message by its words.
	rb := recall.New(sb, b, h.Clock, recall.DefaultOptions())
	got, err := rb.Recall(h.Ctx, h.User.ID, memory.Query{Text: "lighthouse", Limit: 3}, time.UTC)
	h.Must(err)
	if len(got) == 0 || got[0].ID != "msg_007" {
		t.Errorf("recall during the mismatch: got %v, want msg_007 by text", got)
	}
	// A new message meanwhile gets a vector of model B at once.
	v := query(t, h, b, "the red kite over the harbour")
	h.Must(sb.IndexMessage(h.Ctx, memory.MessageDoc{ID: "msg_new", UserID: h.User.ID, ConversationID: "cnv_1", Speaker: "Theodore",
		Role: "user", Text: "the red kite over the harbour", Time: memtest.Day0.Add(time.Hour)}, v))
	hits, err = sb.SearchVector(h.Ctx, h.User.ID, query(t, h, b, "kite harbour"), memory.Query{Limit: 3})
	h.Must(err)
	if len(hits) != 1 || hits[0].ID != "msg_new" {
		t.Errorf("model B's search after a new write: got %v, want only msg_new", hits)
	}

	p, err := reindex.Run(h.Ctx, sb, b, h.User.ID, reindex.Options{Batch: 16, Clock: h.Clock})
	h.Must(err)
	if !p.Finished || p.Done != 41 || p.Total != 41 {
		t.Errorf("reindex: %+v, want 41 of 41 finished", p)
	}
	if got := vectorsByModel(t, h); got["bag-b"] != 41 || len(got) != 1 {
		t.Errorf("vectors after the reindex: %v, want 41 of bag-b only", got)
	}
	st, err = sb.ModelStatus(h.Ctx)
	h.Must(err)
	if st.NeedsReindex() {
		t.Errorf("after the reindex the status still says %q", st.Notice())
	}
	hits, err = sb.SearchVector(h.Ctx, h.User.ID, query(t, h, b, "lighthouse cliff"), memory.Query{Limit: 3})
	h.Must(err)
	if len(hits) == 0 || hits[0].ID != "msg_007" {
		t.Errorf("model B's vector search after the reindex: got %v, want msg_007 first", hits)
	}
}

func TestReindexResumesAfterCancel(t *testing.T) {
	h := memtest.New(t)
	a := modelA()
	fill(t, h, use(t, h, a), a, 150)

	ctx, cancel := context.WithCancel(h.Ctx)
	b := modelB()
	calls := 0
	b.before = func() {
		calls++
		if calls == 4 { // the probe, then two batches; cancel during the third
			cancel()
		}
	}
	sb := use(t, h, b)
	var seen []reindex.Progress
	_, err := reindex.Run(ctx, sb, &ctxModel{b}, h.User.ID, reindex.Options{Batch: 32, Clock: h.Clock,
		OnProgress: func(p reindex.Progress) { seen = append(seen, p) }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reindex returned %v, want context.Canceled", err)
	}
	if got := vectorsByModel(t, h); got["bag-b"] != 64 || got["bag"] != 86 {
		t.Fatalf("after two committed batches: %v, want 64 of bag-b and 86 of bag", got)
	}
	if last := seen[len(seen)-1]; last.Done != 64 || last.Total != 150 || last.Finished {
		t.Errorf("last progress before the cancel: %+v", last)
	}

	// A fresh process goes on where it stopped: it embeds only the rest.
	b2 := modelB()
	sb2 := use(t, h, b2)
	before := b2.texts.Load()
	p, err := reindex.Run(h.Ctx, sb2, b2, h.User.ID, reindex.Options{Batch: 32, Clock: h.Clock})
	h.Must(err)
	if got := b2.texts.Load() - before; got != 150-64 {
		t.Errorf("the rerun embedded %d documents, want %d", got, 150-64)
	}
	if !p.Finished || p.Done != 150 || p.Total != 150 {
		t.Errorf("rerun: %+v", p)
	}
	if got := vectorsByModel(t, h); got["bag-b"] != 150 || len(got) != 1 {
		t.Errorf("after the rerun: %v, want 150 of bag-b only", got)
	}
}

// ctxModel fails when ctx is done, as a real model server's request would.
type ctxModel struct{ *bagModel }

func (m *ctxModel) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := m.bagModel.Embed(ctx, texts)
	if err == nil {
		err = ctx.Err()
	}
	return vecs, err
}

func TestProgressRateAndETA(t *testing.T) {
	h := memtest.New(t)
	a := modelA()
	fill(t, h, use(t, h, a), a, 100)
	b := modelB()
	sb := use(t, h, b)
	b.before = func() { h.Clock.Advance(2 * time.Second) } // each batch takes 2 s
	var seen []reindex.Progress
	_, err := reindex.Run(h.Ctx, sb, b, h.User.ID, reindex.Options{Batch: 25, Clock: h.Clock,
		OnProgress: func(p reindex.Progress) { seen = append(seen, p) }})
	h.Must(err)
	// The start, four batches, the end.
	if len(seen) != 6 {
		t.Fatalf("progress reports: %+v", seen)
	}
	first := seen[1]
	if first.Done != 25 || first.Rate != 12.5 || first.ETA != 6*time.Second {
		t.Errorf("after one batch: %+v, want 25 done at 12.5/s, 6 s left", first)
	}
	if end := seen[5]; !end.Finished || end.Done != 100 || end.ETA != 0 {
		t.Errorf("end: %+v", end)
	}
}

func TestUnrecordedVectorsAdoptedOnlyByTheirModel(t *testing.T) {
	h := memtest.New(t)
	a := modelA()
	fill(t, h, h.Mem, a, 10) // no UseModel: written as before models were recorded
	if got := vectorsByModel(t, h); got[""] != 10 {
		t.Fatalf("unrecorded vectors: %v", got)
	}
	sb := use(t, h, modelB())
	st, err := sb.ModelStatus(h.Ctx)
	h.Must(err)
	if !strings.Contains(st.Notice(), "from an unrecorded model to bag-b") {
		t.Errorf("model B over unrecorded vectors: notice %q", st.Notice())
	}
	sa := use(t, h, a)
	st, err = sa.ModelStatus(h.Ctx)
	h.Must(err)
	if got := vectorsByModel(t, h); got["bag"] != 10 || st.NeedsReindex() {
		t.Errorf("model A reproduces its vectors: %v, notice %q", got, st.Notice())
	}
}

func TestRunner(t *testing.T) {
	h := memtest.New(t)
	a := modelA()
	fill(t, h, use(t, h, a), a, 50)
	other := h.AddUser("usr_rosa", "rosa", "Rosa")
	b := modelB()
	sb := use(t, h, b)
	h.Must(sb.IndexMessage(h.Ctx, memory.MessageDoc{ID: "msg_rosa", UserID: other.ID, ConversationID: "cnv_2", Speaker: "Rosa",
		Role: "user", Text: "hello", Time: memtest.Day0}, nil))
	r := reindex.NewRunner(sb, b, h.Clock, nil)
	defer r.Close()
	h.Must(r.Start([]reindex.User{{ID: h.User.ID, Username: "theo"}, {ID: other.ID, Username: "rosa"}}))
	r.Wait()
	s := r.State()
	if s.Running || s.Error != "" || len(s.Users) != 2 || !s.Users[0].Finished || s.Users[0].Done != 50 ||
		!s.Users[1].Finished || s.Users[1].Done != 1 || s.Users[1].Username != "rosa" {
		t.Errorf("runner state: %+v", s)
	}
}

// TestReindexSurvivesKill kills a reindex process with SIGKILL after it
// committed some batches, then finishes the reindex here.
func TestReindexSurvivesKill(t *testing.T) {
	if os.Getenv("REINDEX_CHILD_DB") != "" {
		reindexChild(t, os.Getenv("REINDEX_CHILD_DB"))
		return
	}
	h := memtest.New(t)
	a := modelA()
	fill(t, h, use(t, h, a), a, 400)
	var path string
	h.Must(h.DB.SQL().QueryRowContext(h.Ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path))

	cmd := exec.Command(os.Args[0], "-test.run=^TestReindexSurvivesKill$", "-test.v")
	cmd.Env = append(os.Environ(), "REINDEX_CHILD_DB="+path)
	out, err := cmd.StdoutPipe()
	h.Must(err)
	h.Must(cmd.Start())
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "committed 96") {
			break
		}
	}
	h.Must(cmd.Process.Kill())
	_ = cmd.Wait()

	got := vectorsByModel(t, h)
	if got["bag-b"] < 96 || got["bag-b"] >= 400 || got["bag-b"]+got["bag"] != 400 {
		t.Fatalf("after the kill: %v", got)
	}
	b := modelB()
	sb := use(t, h, b)
	p, err := reindex.Run(h.Ctx, sb, b, h.User.ID, reindex.Options{Batch: 32})
	h.Must(err)
	if n := int(b.texts.Load()) - 1; n != 400-got["bag-b"] || !p.Finished {
		t.Errorf("the rerun embedded %d, want %d; %+v", n, 400-got["bag-b"], p)
	}
	if got := vectorsByModel(t, h); got["bag-b"] != 400 || len(got) != 1 {
		t.Errorf("after the rerun: %v", got)
	}
}

// reindexChild runs a slow reindex, printing each commit, until killed.
func reindexChild(t *testing.T, path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	b := modelB()
	id, err := embed.Identify(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UseModel(ctx, id, b, true); err != nil {
		t.Fatal(err)
	}
	users, err := db.ListUsers(ctx)
	if err != nil || len(users) == 0 {
		t.Fatal(users, err)
	}
	block := make(chan struct{})
	b.before = func() {
		if b.texts.Load() >= 200 {
			<-block // wait here for the kill
		}
	}
	_, _ = reindex.Run(ctx, s, b, users[0].ID, reindex.Options{Batch: 32, Clock: clock.System{}, OnProgress: func(p reindex.Progress) {
		fmt.Printf("committed %d\n", p.Done)
	}})
	t.Fatal("the reindex finished before it was killed")
}

// TestRunnerYieldsToTurns: while a user's turn runs, the server's reindex
// embeds nothing and says it is paused; it goes on when the turn ends.
func TestRunnerYieldsToTurns(t *testing.T) {
	h := memtest.New(t)
	a := modelA()
	fill(t, h, use(t, h, a), a, 40)
	b := modelB()
	sb := use(t, h, b)
	var busy atomic.Bool
	busy.Store(true)
	r := reindex.NewRunner(sb, b, h.Clock, nil)
	defer r.Close()
	r.SetBusy(busy.Load)
	before := b.texts.Load()
	h.Must(r.Start([]reindex.User{{ID: h.User.ID, Username: "theo"}}))

	for i := range 3 { // three polls; the turn ends during the last
		h.Must(h.Clock.BlockUntil(h.Ctx, 1))
		if s := r.State(); !s.Running || !s.Users[0].Paused || s.Users[0].Done != 0 {
			t.Fatalf("during a turn: %+v", s)
		}
		if n := b.texts.Load() - before; n != 0 {
			t.Fatalf("embedded %d documents during a turn", n)
		}
		if i == 2 {
			busy.Store(false)
		}
		h.Clock.Advance(reindex.DefaultBusyPoll)
	}
	r.Wait()
	if s := r.State(); s.Running || s.Error != "" || !s.Users[0].Finished || s.Users[0].Paused || s.Users[0].Done != 40 {
		t.Errorf("after the turn: %+v", s)
	}
	if n := b.texts.Load() - before; n != 40 {
		t.Errorf("embedded %d documents, want 40", n)
	}
}

// TestReindexYieldCapped: a turn that never ends holds each batch back at
// most BusyMaxWait, on the injected clock.
func TestReindexYieldCapped(t *testing.T) {
	h := memtest.New(t)
	a := modelA()
	fill(t, h, use(t, h, a), a, 20)
	b := modelB()
	sb := use(t, h, b)
	done := make(chan error, 1)
	var pauses atomic.Int64
	go func() {
		_, err := reindex.Run(h.Ctx, sb, b, h.User.ID, reindex.Options{Batch: 10, Clock: h.Clock,
			Busy: func() bool { return true }, BusyPoll: time.Second, BusyMaxWait: 3 * time.Second,
			OnProgress: func(p reindex.Progress) {
				if p.Paused {
					pauses.Add(1)
				}
			}})
		done <- err
	}()
	start := h.Clock.Now()
	for {
		select {
		case err := <-done:
			h.Must(err)
			// Two batches, each held back 3 s.
			if waited := h.Clock.Now().Sub(start); waited != 6*time.Second || pauses.Load() != 2 {
				t.Errorf("waited %v over %d pauses, want 6s over 2", waited, pauses.Load())
			}
			return
		default:
		}
		ctx, cancel := context.WithTimeout(h.Ctx, 10*time.Millisecond)
		if h.Clock.BlockUntil(ctx, 1) == nil {
			h.Clock.Advance(time.Second)
		}
		cancel()
	}
}
