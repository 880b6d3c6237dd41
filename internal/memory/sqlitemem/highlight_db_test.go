package sqlitemem_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// MatchRanges marks the words a search matched, stems included, on both
// databases; another user's document and a changed text get none.
func TestMatchRangesOnBothDatabases(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{})
		texts := []string{"Pixel walked to the flea market with Maya.", "Nothing to see here."}
		for i, text := range texts {
			if err := s.IndexMessage(ctx, memory.MessageDoc{ID: fmt.Sprintf("m%d", i), UserID: "u1", Text: text, Time: t0.Add(time.Duration(i) * time.Hour)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		hits, err := s.SearchText(ctx, "u1", memory.Query{Text: "pixel walking market", Limit: 5})
		if err != nil || len(hits) != 1 || hits[0].ID != "m0" {
			t.Fatalf("search: %+v, %v", hits, err)
		}
		ranges, err := s.MatchRanges(ctx, "u1", "pixel walking market", hits)
		if err != nil {
			t.Fatal(err)
		}
		var words []string
		for _, r := range ranges[0] {
			words = append(words, texts[0][r[0]:r[1]])
		}
		if want := []string{"Pixel", "walked", "market"}; !slices.Equal(words, want) {
			t.Errorf("marked %q, want %q", words, want)
		}
		// The same hit asked for by another user, or with a changed text, is not marked.
		if r, err := s.MatchRanges(ctx, "u2", "pixel", hits); err != nil || r[0] != nil {
			t.Errorf("another user's marks: %v, %v", r, err)
		}
		changed := slices.Clone(hits)
		changed[0].Text = "Pixel ran."
		if r, err := s.MatchRanges(ctx, "u1", "pixel", changed); err != nil || r[0] != nil {
			t.Errorf("a changed text's marks: %v, %v", r, err)
		}
	}, "u1", "u2")
}
