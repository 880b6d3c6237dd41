package memorytest

import (
	"testing"

	"github.com/os1ai/os1/internal/memory"
)

var journalTests = map[string]func(*testing.T, *fixture){
	"UpsertByDay": func(t *testing.T, f *fixture) {
		f.journal(memory.Journal{ID: "j1", UserID: UserA, Day: "2025-05-03", Text: "We planned the trip to Lisbon.", Sources: []string{"m1"}, CreatedAt: at(0)}, axis(6))
		f.journal(memory.Journal{ID: "j2", UserID: UserA, Day: "2025-05-03", Text: "We planned the trip to Porto.", Sources: []string{"m1", "m2"}, CreatedAt: at(1)}, axis(7))
		js, err := f.s.Journals(f.ctx, UserA, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(js) != 1 || js[0].ID != "j2" || js[0].Text != "We planned the trip to Porto." || len(js[0].Sources) != 2 || !js[0].CreatedAt.Equal(at(1)) {
			t.Fatalf("Journals after two saves of one day = %+v, want only j2", js)
		}
		f.wantIDs("old text", f.text(UserA, memory.Query{Text: "Lisbon"}))
		f.wantIDs("new text", f.text(UserA, memory.Query{Text: "Porto"}), "j2")
		for _, c := range []struct {
			vec  []float32
			want float64
		}{{axis(7), 1}, {axis(6), 0}} {
			hits, err := f.s.SearchVector(f.ctx, UserA, c.vec, memory.Query{})
			if err != nil || len(hits) != 1 || hits[0].ID != "j2" || hits[0].Score < c.want-0.01 || hits[0].Score > c.want+0.01 {
				t.Errorf("SearchVector(%v) = %+v, %v; want j2 with cosine %v (the replaced journal's vector)", c.vec, hits, err, c.want)
			}
		}
		f.wantErr(f.s.SaveJournal(f.ctx, memory.Journal{ID: "j3", UserID: UserA, Day: "2025-05-04", Text: "x"}, nil), memory.ErrNoSource, "SaveJournal without sources")
		if err := f.s.SaveJournal(f.ctx, memory.Journal{ID: "j4", UserID: UserA, Day: "May 4", Text: "x", Sources: []string{"m"}}, nil); err == nil {
			t.Error("SaveJournal with day \"May 4\": no error")
		}
	},
	"Range": func(t *testing.T, f *fixture) {
		for _, d := range []string{"2025-05-05", "2025-05-01", "2025-05-03", "2025-06-01"} {
			f.journal(memory.Journal{ID: "j" + d, UserID: UserA, Day: d, Text: "Day " + d, Sources: []string{"m" + d}}, nil)
		}
		days := func(from, to string) []string {
			js, err := f.s.Journals(f.ctx, UserA, from, to)
			if err != nil {
				t.Fatalf("Journals(%q, %q): %v", from, to, err)
			}
			var out []string
			for _, j := range js {
				out = append(out, j.Day)
			}
			return out
		}
		f.wantIDs("all", days("", ""), "2025-05-01", "2025-05-03", "2025-05-05", "2025-06-01")
		f.wantIDs("inclusive", days("2025-05-03", "2025-05-05"), "2025-05-03", "2025-05-05")
		f.wantIDs("from", days("2025-05-04", ""), "2025-05-05", "2025-06-01")
		f.wantIDs("to", days("", "2025-05-01"), "2025-05-01")
		if _, err := f.s.Journals(f.ctx, UserA, "yesterday", ""); err == nil {
			t.Error("Journals from \"yesterday\": no error")
		}
	},
}
