package recall_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
)

// flat is the same distance (cosine 1/√8 ≈ 0.35) from every unit axis: a
// query vector that is "somewhat like" everything, as a single name is with
// a real sentence model.
func flat() []float32 {
	v := make([]float32, 8)
	for i := range v {
		v[i] = 1
	}
	return v
}

func matchIDs(ms []recall.Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// marked returns the marked words of a match, in order.
func marked(m recall.Match) []string {
	var out []string
	for _, r := range m.Marks {
		out = append(out, m.Text[r[0]:r[1]])
	}
	return out
}

// Issue 10: "Maya" listed every message. Recall (the prompt) still returns
// the vector side's neighbours; Search keeps only what holds the word, and
// marks it.
func TestSearchKeepsOnlyMatches(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	emb := &fakeEmbedder{vecs: map[string][]float32{"Maya": flat()}}
	index(t, s, "alice", "m_hello", "hello", day, vec(0, 1, 0, 0))
	index(t, s, "alice", "m_fresh", "A fresh start.", day, vec(1, 1, 1, 0))
	index(t, s, "alice", "m_sister", "My sister Maya lives in Lisbon. Maya loves it.", day, vec(2, 1, 2, 0))
	index(t, s, "alice", "m_call", "maya called me today", day.Add(time.Hour), vec(3, 1, 3, 0))
	index(t, s, "alice", "m_pasta", "Pasta for dinner again.", day, vec(4, 1, 4, 0))
	index(t, s, "bob", "m_bob", "Maya is Bob's friend.", day, vec(2, 1, 2, 0))
	r := recall.New(s, emb, clock.NewFake(now), recall.DefaultOptions())

	hits, err := r.Recall(t.Context(), "alice", memory.Query{Text: "Maya"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 {
		t.Errorf("Recall(Maya) = %v; the prompt path is unchanged and fuses every neighbour", ids(hits))
	}

	ms, err := r.Search(t.Context(), "alice", memory.Query{Text: "Maya"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	got := matchIDs(ms)
	slices.Sort(got)
	if !slices.Equal(got, []string{"m_call", "m_sister"}) {
		t.Fatalf("Search(Maya) = %v, want only m_call and m_sister", matchIDs(ms))
	}
	for _, m := range ms {
		if !m.Lexical {
			t.Errorf("%s: Lexical false for a hit that holds the word", m.ID)
		}
		// "My sister Maya" introduces Maya as the sister: "sister" is one
		// of her names, and marked as the query's.
		want := map[string][]string{"m_sister": {"sister", "Maya", "Maya"}, "m_call": {"maya"}}[m.ID]
		if w := marked(m); !slices.Equal(w, want) {
			t.Errorf("%s marks %q, want %q", m.ID, w, want)
		}
	}
}

// A hit that holds none of the words is kept only when its meaning is
// close (cosine at least SearchMinSimilarity).
func TestSearchKeepsCloseMeaning(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	const q = "feline"
	emb := &fakeEmbedder{vecs: map[string][]float32{q: vec(3, 1, 4, 0.3)}}
	index(t, s, "alice", "m_cat", "My cat sleeps all day.", day, vec(3, 1, 3, 0))   // cosine 0.96
	index(t, s, "alice", "m_near", "The vet was kind.", day, vec(3, 0.3, 4, 1))     // cosine 0.55
	index(t, s, "alice", "m_dog", "The dog barked at night.", day, vec(4, 1, 4, 0)) // cosine 0.29
	for _, tc := range []struct {
		min  float64
		want []string
	}{
		{0, []string{"m_cat"}}, // the default, 0.6
		{0.9, []string{"m_cat"}},
		{0.97, nil},
		{0.2, []string{"m_cat", "m_near", "m_dog"}},
	} {
		opts := recall.DefaultOptions()
		opts.SearchMinSimilarity = tc.min
		ms, err := recall.New(s, emb, clock.NewFake(now), opts).Search(t.Context(), "alice", memory.Query{Text: q}, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		got := matchIDs(ms)
		if tc.min == 0.2 {
			slices.Sort(got)
			slices.Sort(tc.want)
		}
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("min %.2f: Search(%s) = %v, want %v", tc.min, q, got, tc.want)
		}
		for _, m := range ms {
			if m.Lexical || len(m.Marks) > 0 || m.Similarity < max(tc.min, 0.2) {
				t.Errorf("min %.2f: %s Lexical=%v Marks=%v Similarity=%.2f; a meaning-only hit", tc.min, m.ID, m.Lexical, m.Marks, m.Similarity)
			}
		}
	}
}

// Marks follow the index's tokenizer (stems, folded accents, irregular
// forms), leave stopwords alone, and a date-only query matches its range.
func TestSearchMarksAndDates(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	index(t, s, "alice", "m_walk", "We walked to the Café by the river and I ran home.", day, vec(7, 1, 0, 1))
	index(t, s, "alice", "m_old", "Walking is old news.", day.AddDate(0, -2, 0), vec(7, 1, 1, 1))
	r := recall.New(s, &fakeEmbedder{}, clock.NewFake(now), recall.DefaultOptions())

	ms, err := r.Search(t.Context(), "alice", memory.Query{Text: "walking to the cafe, run"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("Search = %v, want both messages", matchIDs(ms))
	}
	for _, m := range ms {
		want := map[string][]string{"m_walk": {"walked", "Café", "ran"}, "m_old": {"Walking"}}[m.ID]
		if w := marked(m); !slices.Equal(w, want) {
			t.Errorf("%s marks %q, want %q", m.ID, w, want)
		}
	}

	ms, err = r.Search(t.Context(), "alice", memory.Query{Text: "yesterday"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := matchIDs(ms); !slices.Equal(got, []string{"m_walk"}) {
		t.Errorf("Search(yesterday) = %v, want [m_walk]: a date alone matches what is in its range", got)
	}
}

// The cut happens after fusion over every candidate, so Limit counts
// matches: many close-ranked non-matches do not crowd them out.
func TestSearchLimitCountsMatches(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	emb := &fakeEmbedder{vecs: map[string][]float32{"Maya": flat()}}
	for i := range 20 {
		index(t, s, "alice", "m_noise"+string(rune('a'+i)), "Small talk number "+string(rune('a'+i))+" about nothing much.", day.Add(time.Duration(i)*time.Minute), vec(i%8, 1, (i+1)%8, 0.5))
	}
	index(t, s, "alice", "m_maya1", "Maya phoned.", day.AddDate(0, 0, -30), vec(5, 1, 6, 0))
	index(t, s, "alice", "m_maya2", "Lunch with Maya on Friday.", day.AddDate(0, 0, -40), vec(6, 1, 7, 0))
	index(t, s, "alice", "m_maya3", "Maya's birthday is in May.", day.AddDate(0, 0, -50), vec(7, 1, 0, 0))
	r := recall.New(s, emb, clock.NewFake(now), recall.DefaultOptions())
	ms, err := r.Search(t.Context(), "alice", memory.Query{Text: "Maya", Limit: 2}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("Search(Maya, limit 2) = %v, want two Maya messages", matchIDs(ms))
	}
	for _, m := range ms {
		if !m.Lexical {
			t.Errorf("%s is not a match", m.ID)
		}
	}
}

func TestCodePointRanges(t *testing.T) {
	text := "Café ☕ Maya, 𝄞 maya"
	var byteRanges [][2]int
	for i := 0; ; {
		j := strings.Index(strings.ToLower(text[i:]), "maya")
		if j < 0 {
			break
		}
		byteRanges = append(byteRanges, [2]int{i + j, i + j + 4})
		i += j + 4
	}
	got := recall.CodePointRanges(text, append(byteRanges, [2]int{0, 1}, [2]int{5, 999}))
	runes := []rune(text)
	var words []string
	for _, r := range got {
		words = append(words, string(runes[r[0]:r[1]]))
	}
	if !slices.Equal(words, []string{"Maya", "maya"}) {
		t.Errorf("CodePointRanges = %v (%q), want the two Mayas; out-of-order and out-of-range ranges left out", got, words)
	}
	if got := recall.CodePointRanges("x", nil); got == nil {
		t.Error("CodePointRanges(nil) = nil, want an empty list")
	}
}
