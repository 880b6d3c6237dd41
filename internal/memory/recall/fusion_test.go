package recall_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
)

// Hybrid recall is never below its best part: on fixed fixtures where one
// retriever finds what the other misses, or where one list is confident and
// the other is not, the fused top k holds at least as many of the answers
// as full text alone and as vectors alone.
func TestFusionAtLeastItsBestPart(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	// 40 fillers: no query word, vectors spread away from every query.
	for i := range 40 {
		index(t, s, "alice", fmt.Sprintf("f%02d", i), fmt.Sprintf("Small talk number %d about nothing much.", i), day,
			vec(3, 1, 4+i%3, 0.5+0.1*float32(i)))
	}
	// Words only: the answer holds the rare words, its meaning is far.
	index(t, s, "alice", "a_words", "The locker code is 4417, by the pool.", day, vec(5, 1, 6, 1))
	// Meaning only: no shared word, the nearest vector.
	index(t, s, "alice", "a_meaning", "Her flat looks over the harbour.", day, vec(0, 1, 1, 0.1))
	// Both weakly: a word and a fairly near vector.
	index(t, s, "alice", "a_both", "Catherine moved last spring, it was a long week.", day, vec(0, 1, 1, 0.9))
	// Distractors of each retriever: many words, or a near meaning.
	for i := range 6 {
		index(t, s, "alice", fmt.Sprintf("d_words%d", i), fmt.Sprintf("Catherine, Catherine and the week %d.", i), day, vec(6, 1, 7, 1))
		index(t, s, "alice", fmt.Sprintf("d_meaning%d", i), fmt.Sprintf("The sea view from a window %d.", i), day, vec(0, 1, 1, 0.5+0.05*float32(i)))
	}
	emb := &fakeEmbedder{vecs: map[string][]float32{
		"locker code 4417":          vec(2, 1, 3, 0.1), // far from every document's meaning
		"where does Catherine live": vec(0, 1, 2, 0.05),
		"harbour flat":              vec(0, 1, 1, 0.12),
	}}
	cases := []struct {
		query   string
		answers []string
	}{
		{"locker code 4417", []string{"a_words"}},
		{"where does Catherine live", []string{"a_meaning", "a_both"}},
		{"harbour flat", []string{"a_meaning"}},
	}
	found := func(mode recall.Mode, q string, answers []string, k int) int {
		opts := recall.DefaultOptions()
		opts.Mode = mode
		hits, err := recall.New(s, emb, clock.NewFake(now), opts).Recall(t.Context(), "alice", memory.Query{Text: q, Limit: k}, time.UTC)
		if err != nil {
			t.Fatalf("%s %q: %v", mode, q, err)
		}
		n := 0
		for _, a := range answers {
			if slices.Contains(ids(hits), a) {
				n++
			}
		}
		return n
	}
	for _, tc := range cases {
		for _, k := range []int{3, 5} {
			text, vector, hybrid := found(recall.TextOnly, tc.query, tc.answers, k), found(recall.VectorOnly, tc.query, tc.answers, k), found(recall.Hybrid, tc.query, tc.answers, k)
			if hybrid < max(text, vector) {
				t.Errorf("%q top %d: hybrid finds %d of %v, text %d, vector %d", tc.query, k, hybrid, tc.answers, text, vector)
			}
			if hybrid == 0 {
				t.Errorf("%q top %d: hybrid finds none of %v (text %d, vector %d): the fixture proves nothing", tc.query, k, tc.answers, text, vector)
			}
		}
	}
}

// A time expression in the words ranks what was said in its range first and
// still finds a message said after it ("the course I finished last month",
// said this month); an explicit range and the memory page's Search filter.
func TestRecallTimeWordsArePreference(t *testing.T) {
	s := newStore(t)
	lastMonth := time.Date(2025, 5, 20, 12, 0, 0, 0, time.UTC)
	index(t, s, "alice", "m_in", "Completed the pottery course today.", lastMonth, vec(1, 1, 0, 0))
	index(t, s, "alice", "m_later", "I need to add the data science certification I completed last month.", now.Add(-48*time.Hour), vec(1, 1, 2, 1))
	index(t, s, "alice", "m_other", "The weather was fine.", now.Add(-72*time.Hour), vec(3, 1, 0, 0))
	emb := &fakeEmbedder{}
	r := recall.New(s, emb, clock.NewFake(now), recall.DefaultOptions())
	hits, err := r.Recall(t.Context(), "alice", memory.Query{Text: "which certification did I complete last month"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(hits)
	if len(got) < 2 || got[0] != "m_in" || !slices.Contains(got, "m_later") {
		t.Errorf("Recall = %v, want m_in (in May) first and m_later (said in June) found", got)
	}
	hits, err = r.Recall(t.Context(), "alice", memory.Query{Text: "certification", From: lastMonth.AddDate(0, 0, -19), To: lastMonth.AddDate(0, 0, 11)}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); slices.Contains(got, "m_later") || slices.Contains(got, "m_other") {
		t.Errorf("explicit range: %v, want nothing from June", got)
	}
	ms, err := r.Search(t.Context(), "alice", memory.Query{Text: "certification last month"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID != "m_in" {
			t.Errorf("Search(certification last month) = %v, want only what is in May", matchIDs(ms))
		}
	}
}

// A list whose first places all score alike leaves the order to the other:
// thirty messages hold the question's one content word equally ("lunch"),
// the answer holds none of its words but is nearest in meaning. With fixed
// weights the flat list's thirty win; weighed by peak, the answer is first.
func TestFusionFlatListLeavesOrderToTheOther(t *testing.T) {
	s := newStore(t)
	day := now.Add(-24 * time.Hour)
	for i := range 30 {
		index(t, s, "alice", fmt.Sprintf("l%02d", i), fmt.Sprintf("Lunch plans, team %d.", i), day, vec(0, 1, 2, 1))
	}
	for i := range 40 {
		index(t, s, "alice", fmt.Sprintf("f%02d", i), fmt.Sprintf("Small talk number %d about nothing.", i), day, vec(3, 1, 4, 1+0.1*float32(i)))
	}
	index(t, s, "alice", "a_ramen", "We ate at the ramen bar by the station.", day, vec(0, 1, 1, 0.1))
	const q = "where did we have lunch"
	emb := &fakeEmbedder{vecs: map[string][]float32{q: vec(0, 1, 1, 0.12)}}
	top := func(fixed bool) string {
		opts := recall.DefaultOptions()
		opts.FixedWeights = fixed
		hits, err := recall.New(s, emb, clock.NewFake(now), opts).Recall(t.Context(), "alice", memory.Query{Text: q}, time.UTC)
		if err != nil || len(hits) == 0 {
			t.Fatalf("Recall: %v, %d hits", err, len(hits))
		}
		return hits[0].ID
	}
	if got := top(false); got != "a_ramen" {
		t.Errorf("hybrid ranks %s first, want a_ramen (the vector list's clear lead)", got)
	}
	if got := top(true); got == "a_ramen" {
		t.Errorf("with fixed weights a_ramen is first too: the fixture proves nothing")
	}
}
