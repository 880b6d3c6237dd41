package sqlitemem_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// A word that became common stays common on the next searches (its count
// is remembered, not probed again), and a word that grows from rare to
// common is seen as common once it is: the same answers as probing every
// time.
func TestTextCommonWordsRemembered(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{MaxTextMatches: 3})
		add := func(i int, text string) {
			t.Helper()
			if err := s.IndexMessage(ctx, memory.MessageDoc{ID: fmt.Sprintf("m%d", i), UserID: "u1", Text: text, Time: t0.Add(time.Duration(i) * time.Hour)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(q string) []string {
			t.Helper()
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
		for i := range 6 {
			add(i, "common word")
		}
		add(6, "growing word and a rare one")
		for range 2 { // the second search uses what the first learnt
			if got := ids("common rare"); !slices.Equal(got, []string{"m6"}) {
				t.Errorf("common + rare word = %v, want only the rare word's message", got)
			}
		}
		if got := ids("growing"); !slices.Equal(got, []string{"m6"}) {
			t.Errorf("a rare word = %v, want its message", got)
		}
		for i := 7; i < 11; i++ {
			add(i, "growing everywhere")
		}
		if got := ids("growing rare"); !slices.Equal(got, []string{"m6"}) {
			t.Errorf("a word grown common + a rare word = %v, want only the rare word's message", got)
		}
	}, "u1")
}
