package sqlitemem_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// A question's filler ("how many", "did I ever", "also") ranks nothing: the
// message that holds the question's content word comes first, not the one
// that repeats the filler.
func TestTextQuestionFiller(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "os1.db"), "u1")
	s := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	texts := map[string]string{
		"m_filler": "So many, many things, much too much, and also ever so busy.",
		"m_answer": "I bought a third ukulele at the flea market today.",
		"m_other1": "The flea market was closed for the holiday.",
		"m_other2": "Groceries again, nothing special.",
	}
	i := 0
	for id, text := range texts {
		if err := s.IndexMessage(ctx, memory.MessageDoc{ID: id, UserID: "u1", Text: text, Time: t0.Add(time.Duration(i) * time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		i++
	}
	hits, err := s.SearchText(ctx, "u1", memory.Query{Text: "How many ukuleles did I ever buy, and also how much?", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.ID)
	}
	if len(got) != 1 || got[0] != "m_answer" {
		t.Errorf("hits %v, want only m_answer (the filler words match nothing)", got)
	}
	if hits, _ := s.SearchText(ctx, "u1", memory.Query{Text: "how many? how much? ever? also?"}); len(hits) != 0 {
		t.Errorf("a query of filler words found %s", fmt.Sprint(len(hits)))
	}
}
