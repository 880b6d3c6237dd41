package sqlitemem_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// A question's filler ("how many", "did I ever", "also") ranks nothing: the
// message that holds the question's content word comes first, not the one
// that repeats the filler.
func TestTextQuestionFiller(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{})
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
	}, "u1")
}

// A turn is findable by its speaker's name: of two turns with the same
// words, the one said by the person the question names comes first, either
// way round, on a fresh index and on one built before migration 00010.
func TestTextFindsSpeakerByName(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		s := sqlitemem.NewFor(db, sqlitemem.Options{})
		turns := []memory.MessageDoc{
			{ID: "m_rosa", Speaker: "Rosa", Text: "We finally moved into the new apartment by the river."},
			{ID: "m_tom", Speaker: "Tom", Text: "We finally moved into the new apartment by the river."},
			{ID: "m_rosa2", Speaker: "Rosa", Text: "My son loves painting dinosaurs."},
			{ID: "m_tom2", Speaker: "Tom", Text: "The weather was awful all week."},
			{ID: "m_rosa3", Speaker: "Rosa", Text: "Work has been busy lately."},
		}
		for i, m := range turns {
			m.UserID, m.ConversationID, m.Time = "u1", "c1", t0.Add(time.Duration(i)*time.Minute)
			if err := s.IndexMessage(ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		check := func(when string) {
			t.Helper()
			for q, want := range map[string][2]string{
				"When did Rosa move into the new apartment?":  {"m_rosa", "m_tom"},
				"When did Tom move into the new apartment?":   {"m_tom", "m_rosa"},
				"Where is Tom's new apartment, by the river?": {"m_tom", "m_rosa"},
			} {
				hits, err := s.SearchText(ctx, "u1", memory.Query{Text: q, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(hits) < 2 || hits[0].ID != want[0] || hits[1].ID != want[1] {
					var got []string
					for _, h := range hits {
						got = append(got, h.ID)
					}
					t.Errorf("%s: %q found %v, want %v first", when, q, got, want)
				}
			}
			// The words still decide: Rosa's son is found by "son", not by her name.
			if hits, err := s.SearchText(ctx, "u1", memory.Query{Text: "What does Rosa's son love?"}); err != nil || len(hits) == 0 || hits[0].ID != "m_rosa2" {
				t.Errorf("%s: Rosa's son: %v, %v", when, hits, err)
			}
		}
		check("fresh index")
		if db.Dialect() != sqldb.SQLite {
			return // PostgreSQL's schema began with the speaker indexed
		}

		// Back to the schema before 00010 (no speaker in the index), then up again.
		gp, err := goose.NewProvider(goose.DialectSQLite3, db.SQL(), sqlite.Migrations(), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gp.DownTo(ctx, 9); err != nil {
			t.Fatalf("back to migration 9: %v", err)
		}
		if hits, err := s.SearchText(ctx, "u1", memory.Query{Text: "Tom"}); err != nil || len(hits) != 0 {
			t.Fatalf("before 00010 a speaker's name found %d turns (%v)", len(hits), err)
		}
		if _, err := gp.Up(ctx); err != nil {
			t.Fatalf("migrate up: %v", err)
		}
		check("migrated index")
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO memory_fts (memory_fts) VALUES ('integrity-check')`); err != nil {
			t.Errorf("full-text index after the migration: %v", err)
		}
	}, "u1")
}
