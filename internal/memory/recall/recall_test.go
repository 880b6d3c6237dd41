package recall_test

import (
	"context"
	"errors"
	"fmt"
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

// fakeEmbedder maps known texts to hand-made vectors; any other text is a
// fixed vector far from all of them. It counts its calls.
type fakeEmbedder struct {
	vecs  map[string][]float32
	err   error
	calls int
}

func (e *fakeEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.calls++
	if e.err != nil {
		return nil, e.err
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := e.vecs[t]
		if !ok {
			v = vec(7, 1, 7, 0)
		}
		out[i] = v
	}
	return out, nil
}

// vec returns a·e_i + b·e_j in 8 dimensions.
func vec(i int, a float32, j int, b float32) []float32 {
	v := make([]float32, 8)
	v[i] += a
	v[j] += b
	return v
}

var now = time.Date(2025, 6, 11, 15, 0, 0, 0, time.UTC)

func newStore(t *testing.T) *sqlitemem.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range []string{"alice", "bob"} {
		if err := db.CreateUser(t.Context(), store.User{ID: u, Username: u, Role: store.RoleMember}); err != nil {
			t.Fatal(err)
		}
	}
	return sqlitemem.New(db.SQL(), sqlitemem.Options{Clock: clock.NewFake(now)})
}

func index(t *testing.T, s memory.Store, user, id, text string, at time.Time, v []float32) {
	t.Helper()
	if err := s.IndexMessage(t.Context(), memory.MessageDoc{ID: id, UserID: user, Text: text, Time: at}, v); err != nil {
		t.Fatal(err)
	}
}

func ids(hits []memory.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
		if len(h.Sources) == 0 {
			panic("hit without sources: " + h.ID)
		}
	}
	return out
}

// The target is second in both lists and first in neither; fusion puts it
// first, where either retriever alone fails.
func TestFusionBeatsEither(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	const q = "where does Catherine live"
	emb := &fakeEmbedder{vecs: map[string][]float32{q: vec(0, 1, 0, 0)}}
	index(t, s, "alice", "m_lexical", "Catherine, live! Catherine live, live.", day, vec(5, 1, 0, 0))             // words, wrong meaning
	index(t, s, "alice", "m_target", "Catherine lives in Boston with Mark since spring.", day, vec(0, 1, 1, 0.6)) // both, second
	index(t, s, "alice", "m_semantic", "Her sister's flat is near the harbour.", day, vec(0, 1, 1, 0.3))          // meaning, no words
	index(t, s, "alice", "m_noise", "Groceries: milk, eggs.", day, vec(6, 1, 0, 0))

	top := func(mode recall.Mode) string {
		opts := recall.DefaultOptions()
		opts.Mode = mode
		hits, err := recall.New(s, emb, clock.NewFake(now), opts).Recall(t.Context(), "alice", memory.Query{Text: q}, time.UTC)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if len(hits) == 0 {
			t.Fatalf("%s: no hits", mode)
		}
		return ids(hits)[0]
	}
	for mode, want := range map[recall.Mode]string{recall.TextOnly: "m_lexical", recall.VectorOnly: "m_semantic", recall.Hybrid: "m_target"} {
		if got := top(mode); got != want {
			t.Errorf("%s recall ranks %s first, want %s", mode, got, want)
		}
	}
}

func TestRecallTimeFilter(t *testing.T) {
	s := newStore(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	yesterday := time.Date(2025, 6, 10, 20, 0, 0, 0, berlin)
	emb := &fakeEmbedder{vecs: map[string][]float32{"what did we say about the garden": vec(1, 1, 0, 0)}}
	index(t, s, "alice", "m_yest", "The garden needs water.", yesterday, vec(1, 1, 0, 0))
	index(t, s, "alice", "m_old", "The garden is lovely.", yesterday.AddDate(0, 0, -5), vec(1, 1, 0, 0))
	index(t, s, "alice", "m_late", "Garden again, after midnight.", time.Date(2025, 6, 11, 0, 30, 0, 0, berlin), vec(1, 1, 0, 0))
	r := recall.New(s, emb, clock.NewFake(now), recall.DefaultOptions())
	hits, err := r.Recall(t.Context(), "alice", memory.Query{Text: "what did we say about the garden yesterday"}, berlin)
	if err != nil {
		t.Fatal(err)
	}
	// The range read from the words is a preference: what was said in it
	// comes first, the rest after (an event is often mentioned later).
	if got := ids(hits); len(got) != 3 || got[0] != "m_yest" {
		t.Errorf("yesterday's garden = %v, want m_yest first, then the other two", got)
	}
	// An explicit range wins over words in the text.
	hits, err = r.Recall(t.Context(), "alice", memory.Query{Text: "garden yesterday", From: yesterday.AddDate(0, 0, -6)}, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); len(got) != 3 {
		t.Errorf("explicit From: %v, want all three", got)
	}
}

func TestRecallIsolation(t *testing.T) {
	s := newStore(t)
	emb := &fakeEmbedder{vecs: map[string][]float32{"saffron": vec(2, 1, 0, 0)}}
	index(t, s, "alice", "m_a", "Alice loves saffron.", now, vec(2, 1, 0, 0))
	if err := s.AddItem(t.Context(), memory.Item{ID: "it_a", UserID: "alice", Kind: memory.KindPreference, Text: "Loves saffron.", Sources: []string{"m_a"}, Importance: 1}, vec(2, 1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	index(t, s, "bob", "m_b", "Bob on saffron prices.", now, vec(2, 1, 3, 1))
	for _, mode := range []recall.Mode{recall.Hybrid, recall.TextOnly, recall.VectorOnly} {
		opts := recall.DefaultOptions()
		opts.Mode = mode
		r := recall.New(s, emb, clock.NewFake(now), opts)
		hits, err := r.Recall(t.Context(), "bob", memory.Query{Text: "saffron", History: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(hits); !slices.Equal(got, []string{"m_b"}) {
			t.Errorf("%s: bob recalls %v", mode, got)
		}
		text, _, err := r.RecallForPrompt(t.Context(), "bob", "saffron", 1000, nil)
		if err != nil || strings.Contains(strings.ToLower(text), "loves") {
			t.Errorf("%s: bob's prompt memories = %q, %v", mode, text, err)
		}
	}
}

func TestRecallForPrompt(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	add := func(id, text string, imp float64, at time.Time) {
		t.Helper()
		it := memory.Item{ID: id, UserID: "alice", Kind: memory.KindFact, Text: text, Sources: []string{"m_" + id}, Importance: imp, ValidFrom: at}
		if err := s.AddItem(ctx, it, nil); err != nil {
			t.Fatal(err)
		}
	}
	add("it_boston", "Catherine lives in Boston.", 0.8, time.Date(2025, 5, 3, 10, 0, 0, 0, time.UTC))
	add("it_cat", "Catherine is a nurse\nat the children's hospital.", 0.5, time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC))
	if err := s.Supersede(ctx, "alice", "it_boston", memory.Item{ID: "it_denver", Kind: memory.KindFact, Text: "Catherine lives in Denver.", Sources: []string{"m_9"}, Importance: 0.8}, nil, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveJournal(ctx, memory.Journal{ID: "j1", UserID: "alice", Day: "2025-06-10", Text: "Talked with Catherine about " + strings.Repeat("her new job and ", 60) + "more.", Sources: []string{"m_1"}}, nil); err != nil {
		t.Fatal(err)
	}
	index(t, s, "alice", "m_raw", "Catherine called.", now, nil) // raw messages stay out of the prompt by default

	r := recall.New(s, nil, clock.NewFake(now), recall.DefaultOptions())
	text, hits, err := r.RecallForPrompt(ctx, "alice", "How is Catherine doing?", 1000, berlin)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 3 || len(hits) != 3 {
		t.Fatalf("prompt memories =\n%s\n(%d hits); want 3 lines", text, len(hits))
	}
	for _, want := range []string{
		"- 2025-06-01 (fact) Catherine lives in Denver.",
		"- 2025-04-01 (fact) Catherine is a nurse at the children's hospital.",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("missing line %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "Boston") || strings.Contains(text, "Catherine called") {
		t.Errorf("superseded item or raw message in the prompt:\n%s", text)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "- 2025-06-10 (journal) ") && (len(l) > 450 || !strings.HasSuffix(l, "…")) {
			t.Errorf("journal line not shortened: %d bytes", len(l))
		}
	}
	// A small budget keeps only what fits, skipping the long journal line.
	small, hits, err := r.RecallForPrompt(ctx, "alice", "How is Catherine doing?", 30, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if len(small) > 30*4 || len(hits) == 0 || strings.Contains(small, "journal") {
		t.Errorf("budget of 30 tokens gave %d bytes, %d hits:\n%s", len(small), len(hits), small)
	}
	if got, hits, _ := r.RecallForPrompt(ctx, "alice", "How is Catherine doing?", 0, berlin); got != "" || hits != nil {
		t.Errorf("zero budget gave %q", got)
	}
}

func TestRecallEmbedderFailure(t *testing.T) {
	s := newStore(t)
	index(t, s, "alice", "m1", "The boat trip to Hiddensee.", now, vec(0, 1, 0, 0))
	emb := &fakeEmbedder{err: errors.New("model not loaded")}
	r := recall.New(s, emb, clock.NewFake(now), recall.DefaultOptions())
	if _, err := r.Recall(t.Context(), "alice", memory.Query{Text: "boat trip"}, nil); err == nil || !strings.Contains(err.Error(), "model not loaded") {
		t.Errorf("Recall with a failing embedder: %v, want its error", err)
	}
	var reported error
	opts := recall.DefaultOptions()
	opts.OnEmbedError = func(err error) { reported = err }
	r = recall.New(s, emb, clock.NewFake(now), opts)
	hits, err := r.Recall(t.Context(), "alice", memory.Query{Text: "boat trip"}, nil)
	if err != nil || !slices.Equal(ids(hits), []string{"m1"}) || reported == nil {
		t.Errorf("with OnEmbedError: %v, %v, reported %v; want the text hit and a report", ids(hits), err, reported)
	}
	// No embedder at all: hybrid is text only, vector-only is an error.
	if hits, err := recall.New(s, nil, nil, recall.DefaultOptions()).Recall(t.Context(), "alice", memory.Query{Text: "boat"}, nil); err != nil || len(hits) != 1 {
		t.Errorf("hybrid without embedder: %v, %v", hits, err)
	}
	opts = recall.DefaultOptions()
	opts.Mode = recall.VectorOnly
	if _, err := recall.New(s, nil, nil, opts).Recall(t.Context(), "alice", memory.Query{Text: "boat"}, nil); err == nil {
		t.Error("vector-only without embedder: no error")
	}
}

// Between equally ranked documents the boosts decide: the more important
// and the more recent first.
func TestRecallBoosts(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for _, it := range []memory.Item{
		{ID: "it_low", UserID: "alice", Kind: memory.KindFact, Text: "Owns a red bike.", Sources: []string{"m1"}, Importance: 0.1, ValidFrom: now.AddDate(0, 0, -1)},
		{ID: "it_high", UserID: "alice", Kind: memory.KindFact, Text: "Owns a blue bike.", Sources: []string{"m2"}, Importance: 0.9, ValidFrom: now.AddDate(0, 0, -1)},
		{ID: "it_old", UserID: "alice", Kind: memory.KindFact, Text: "Owns a green bike.", Sources: []string{"m3"}, Importance: 0.5, ValidFrom: now.AddDate(-2, 0, 0)},
		{ID: "it_new", UserID: "alice", Kind: memory.KindFact, Text: "Owns a black bike.", Sources: []string{"m4"}, Importance: 0.5, ValidFrom: now},
	} {
		if err := s.AddItem(ctx, it, nil); err != nil {
			t.Fatal(err)
		}
	}
	r := recall.New(s, nil, clock.NewFake(now), recall.DefaultOptions())
	hits, err := r.Recall(ctx, "alice", memory.Query{Text: "bike"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, h := range hits {
		pos[h.ID] = i
	}
	if len(hits) != 4 || pos["it_high"] > pos["it_low"] || pos["it_new"] > pos["it_old"] {
		t.Errorf("order %v: want it_high before it_low and it_new before it_old", ids(hits))
	}
}

// Full text finds an irregular past form from the query's base form.
func TestRecallIrregularForms(t *testing.T) {
	s := newStore(t)
	index(t, s, "alice", "m_grew", "I grew up in Duluth, right on the lake.", now, nil)
	index(t, s, "alice", "m_other", "Up early for the run.", now, nil)
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	hits, err := recall.New(s, nil, clock.NewFake(now), opts).Recall(t.Context(), "alice", memory.Query{Text: "where did I grow up"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); len(got) == 0 || got[0] != "m_grew" {
		t.Errorf("grow up = %v, want m_grew first", got)
	}
}

// A document third in one list alone beats ones that both lists rank about
// 20th: score fusion (the default) keeps a retriever's confident top ranks;
// so does rank fusion with a small constant, while at 60 the eight "both"
// documents and two full-text ones filled the top 10.
func TestFusionKeepsOneListsTop(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	const q = "sister dog breed"
	emb := &fakeEmbedder{vecs: map[string][]float32{q: vec(0, 1, 0, 0)}}
	// Vectors: v1, v2, m_target, 17 fillers, then the "both" documents.
	index(t, s, "alice", "v1", "Completely unrelated one.", day, vec(0, 1, 1, 0.1))
	index(t, s, "alice", "v2", "Completely unrelated two.", day, vec(0, 1, 1, 0.2))
	index(t, s, "alice", "m_target", "Juniper is a border collie.", day, vec(0, 1, 1, 0.3))
	for i := range 17 {
		index(t, s, "alice", fmt.Sprintf("f%02d", i), fmt.Sprintf("Filler %d.", i), day, vec(0, 1, 1, 0.4+0.05*float32(i)))
	}
	// Full text: 19 strong matches, then the "both" documents.
	for i := range 19 {
		index(t, s, "alice", fmt.Sprintf("t%02d", i), fmt.Sprintf("Sister dog breed, sister dog breed %d.", i), day, vec(5, 1, 0, 0))
	}
	for i := range 8 {
		index(t, s, "alice", fmt.Sprintf("b%d", i), fmt.Sprintf("The dog of my sister, a long story with many words, part %d.", i), day, vec(0, 1, 1, 2+float32(i)))
	}
	for _, k := range []float64{60, 10, 0} {
		opts := recall.DefaultOptions()
		opts.MaxOverlap = 2 // keep the templated texts in place
		if k > 0 {
			opts.Fusion, opts.RRFK = recall.FuseRanks, k
		}
		hits, err := recall.New(s, emb, clock.NewFake(now), opts).Recall(t.Context(), "alice", memory.Query{Text: q, Limit: 10}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(ids(hits), "m_target"); got != (k != 60) {
			t.Errorf("RRFK %g (0: score fusion): m_target in the top 10 = %v, want %v; hits %v", k, got, k != 60, ids(hits))
		}
	}
}

// Near-duplicates of a better hit go behind the other hits; exact
// duplicates are dropped.
func TestRecallNearDuplicates(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	index(t, s, "alice", "m1", "The car needs an oil change again, ugh.", day, nil)
	index(t, s, "alice", "m2", "The car needs an oil change badly, ugh.", day, nil)
	index(t, s, "alice", "m3", "the car needs an OIL change again,  ugh.", day, nil)
	index(t, s, "alice", "m4", "Dad bought a red pickup, a car at 68.", day, nil)
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	r := recall.New(s, nil, clock.NewFake(now), opts)
	hits, err := r.Recall(t.Context(), "alice", memory.Query{Text: "car oil change"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(hits)
	if len(got) != 3 || got[len(got)-1] == "m4" || !slices.Contains(got, "m4") {
		t.Fatalf("hits %v: want three (one exact duplicate dropped), the near-duplicate last", got)
	}
	if got[1] != "m4" {
		t.Errorf("hits %v: want m4 second, ahead of the near-duplicate", got)
	}
	opts.MaxOverlap = 2
	hits, err = recall.New(s, nil, clock.NewFake(now), opts).Recall(t.Context(), "alice", memory.Query{Text: "car oil change"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); len(got) != 3 || got[2] != "m4" {
		t.Errorf("MaxOverlap 2: hits %v, want the car-oil messages first and m4 last", got)
	}
}

// A person named by one alias is found under their other names, once
// extraction has linked the names into one entity.
func TestRecallExpandsAliases(t *testing.T) {
	s := newStore(t)
	index(t, s, "alice", "m_cat", "Catherine started her new job at the hospital.", now, nil)
	index(t, s, "alice", "m_other", "The hospital parking is a nightmare.", now, nil)
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	rec := recall.New(s, nil, clock.NewFake(now), opts)
	q := memory.Query{Text: "what does Cathy do"}
	if hits, _ := rec.Recall(t.Context(), "alice", q, nil); len(ids(hits)) != 0 && ids(hits)[0] == "m_cat" {
		t.Fatal("found without an alias link; the test proves nothing")
	}
	if err := s.SaveEntity(t.Context(), memory.Entity{ID: "ent_c", UserID: "alice", Name: "Catherine", Aliases: []string{"Cathy", "my sister"},
		Sources: []string{"m_cat"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	hits, err := rec.Recall(t.Context(), "alice", q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); len(got) == 0 || got[0] != "m_cat" {
		t.Errorf("Cathy = %v, want m_cat first", got)
	}
	// Another user's people never expand alice's queries.
	if hits, _ := rec.Recall(t.Context(), "bob", q, nil); len(hits) != 0 {
		t.Errorf("bob recalls %v", ids(hits))
	}
}

// Without a model there are no recorded people; an introduction in the
// user's own words ties the names instead.
func TestRecallReadsAliasesFromIntroductions(t *testing.T) {
	s := newStore(t)
	index(t, s, "alice", "m_job", "My sister just got promoted to charge nurse.", now, nil)
	index(t, s, "alice", "m_call", "Cathy called this morning to vent.", now, nil)
	index(t, s, "bob", "b_job", "My sister just got promoted to charge nurse.", now, nil)
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	rec := recall.New(s, nil, clock.NewFake(now), opts)
	q := memory.Query{Text: "What's new with Cathy?"}
	if hits, _ := rec.Recall(t.Context(), "alice", q, nil); slices.Contains(ids(hits), "m_job") {
		t.Fatal("found without an alias link; the test proves nothing")
	}
	index(t, s, "alice", "m_intro", "My sister Catherine, everyone calls her Cathy, phoned for an hour.", now.Add(-time.Hour), nil)
	hits, err := rec.Recall(t.Context(), "alice", q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); !slices.Contains(got, "m_job") {
		t.Errorf("Cathy = %v, want m_job (my sister) found", got)
	}
	// Alice's introduction never links bob's names.
	if hits, _ := rec.Recall(t.Context(), "bob", q, nil); len(hits) != 0 {
		t.Errorf("bob recalls %v", ids(hits))
	}
}

// countingStore counts full-text searches.
type countingStore struct {
	*sqlitemem.Store
	texts []string
}

func (c *countingStore) SearchText(ctx context.Context, userID string, q memory.Query) ([]memory.Hit, error) {
	c.texts = append(c.texts, q.Text)
	return c.Store.SearchText(ctx, userID, q)
}

// A question with a time range searches full text twice (in the range and
// without it), but looks the names up once.
func TestRecallLooksNamesUpOnce(t *testing.T) {
	s := &countingStore{Store: newStore(t)}
	index(t, s, "alice", "m_intro", "My sister Catherine, everyone calls her Cathy, phoned for an hour.", now.Add(-48*time.Hour), nil)
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	rec := recall.New(s, nil, clock.NewFake(now), opts)
	if _, err := rec.Recall(t.Context(), "alice", memory.Query{Text: "What did Cathy say last week?"}, nil); err != nil {
		t.Fatal(err)
	}
	if len(s.texts) != 3 {
		t.Errorf("full-text searches %q, want the names once and the question twice", s.texts)
	}
	for _, q := range s.texts[1:] {
		if !strings.Contains(q, "catherine") || !strings.Contains(q, "sister") {
			t.Errorf("searched %q, want Cathy's other names", q)
		}
	}
}
