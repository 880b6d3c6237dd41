package memorytest

import (
	"fmt"
	"testing"

	"github.com/os1ai/os1/internal/memory"
)

var messageTests = map[string]func(*testing.T, *fixture){
	"IndexIsIdempotent": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m1", "We should visit Granada.", at(0), axis(0))
		f.msg(UserA, "m1", "We should visit Sevilla.", at(1), axis(1))
		f.wantIDs("old text", f.text(UserA, memory.Query{Text: "Granada"}))
		f.wantIDs("new text", f.text(UserA, memory.Query{Text: "visit"}), "m1")
		hits, err := f.s.SearchVector(f.ctx, UserA, axis(1), memory.Query{})
		if err != nil || len(hits) != 1 || hits[0].Score < 0.99 || !hits[0].Time.Equal(at(1)) || hits[0].Text != "We should visit Sevilla." {
			t.Errorf("SearchVector after re-index = %+v, %v; want m1 once, new vector, text and time", hits, err)
		}
	},
	"Forget": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m1", "My PIN is 4711.", at(0), axis(2))
		f.msg(UserA, "m2", "Nice weather.", at(1), axis(3))
		if err := f.s.ForgetMessage(f.ctx, UserA, "m1"); err != nil {
			t.Fatal(err)
		}
		f.wantIDs("text", f.text(UserA, memory.Query{Text: "PIN 4711"}))
		f.wantIDs("vector", f.vector(UserA, axis(2), memory.Query{}), "m2")
		f.wantErr(f.s.ForgetMessage(f.ctx, UserA, "m1"), memory.ErrNotFound, "second ForgetMessage")
	},
	"WithoutVector": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m1", "Text only.", at(0), nil)
		f.msg(UserA, "m2", "Has a vector.", at(0), axis(0))
		f.wantIDs("text", f.text(UserA, memory.Query{Text: "text only"}), "m1")
		f.wantIDs("vector", f.vector(UserA, axis(0), memory.Query{}), "m2")
		if err := f.s.IndexMessage(f.ctx, memory.MessageDoc{ID: "m3", UserID: UserA, Text: "no time"}, nil); err == nil {
			t.Error("IndexMessage without a time: no error")
		}
	},
}

var textTests = map[string]func(*testing.T, *fixture){
	"BM25": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m_long", "We talked about the weather, groceries, an old jazz record, work and the garden.", at(0), nil)
		f.msg(UserA, "m_short", "Jazz concert on Friday.", at(1), nil)
		f.msg(UserA, "m_none", "Nothing relevant here.", at(2), nil)
		f.wantIDs("jazz concert", f.text(UserA, memory.Query{Text: "jazz concert"}), "m_short", "m_long")
	},
	"Language": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m_hike", "We went hiking in the Alps.", at(0), nil)
		f.msg(UserA, "m_cafe", "Meet me at Café Zoë.", at(1), nil)
		f.wantIDs("stemmed", f.text(UserA, memory.Query{Text: "hikes"}), "m_hike")
		f.wantIDs("diacritics", f.text(UserA, memory.Query{Text: "cafe zoe"}), "m_cafe")
		f.wantIDs("case", f.text(UserA, memory.Query{Text: "ALPS"}), "m_hike")
	},
	"UnsafeInput": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m_boston", "Catherine moved to Boston.", at(0), nil)
		f.msg(UserA, "m_denver", "Denver was too cold.", at(1), nil)
		for q, want := range map[string][]string{
			``:                        nil,
			`   `:                     nil,
			`"`:                       nil,
			`""`:                      nil,
			`"Boston"`:                {"m_boston"},
			`"Boston`:                 {"m_boston"},
			`Bost*`:                   nil,
			`*`:                       nil,
			`:`:                       nil,
			`text:Boston`:             {"m_boston"},
			`user_id:mt_alice`:        nil,
			`(Boston`:                 {"m_boston"},
			`Boston)`:                 {"m_boston"},
			`()`:                      nil,
			`NEAR(Boston Denver, 2)`:  {"m_boston", "m_denver"},
			`Boston AND`:              {"m_boston"},
			`OR`:                      nil,
			`NOT Denver`:              {"m_denver"},
			`-Denver`:                 {"m_denver"},
			`^Boston`:                 {"m_boston"},
			`Boston + Denver`:         {"m_boston", "m_denver"},
			`what did I do about it?`: nil,
			`'; DROP TABLE x; --`:     nil,
			"\x00Boston":              {"m_boston"},
		} {
			hits, err := f.s.SearchText(f.ctx, UserA, memory.Query{Text: q})
			if err != nil {
				t.Errorf("SearchText(%q): %v", q, err)
				continue
			}
			var ids []string
			for _, h := range hits {
				ids = append(ids, h.ID)
			}
			f.wantSet(fmt.Sprintf("SearchText(%q)", q), ids, want...)
		}
	},
	"TimeRange": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m0", "Talked about the garden.", at(0), axis(0))
		f.msg(UserA, "m1", "Planted tomatoes in the garden.", at(24), axis(0))
		f.msg(UserA, "m2", "The garden is flooded.", at(48), axis(0))
		ev := item(UserA, "it_ev", "Garden party next week.", at(0))
		ev.EventTime = at(30)
		f.add(ev, axis(0))
		q := memory.Query{Text: "garden", From: at(24), To: at(48)}
		f.wantSet("text [24h, 48h)", f.text(UserA, q), "m1", "it_ev")
		f.wantSet("vector [24h, 48h)", f.vector(UserA, axis(0), q), "m1", "it_ev")
		f.wantSet("text from 48h", f.text(UserA, memory.Query{Text: "garden", From: at(48)}), "m2")
		f.wantSet("text to 24h", f.text(UserA, memory.Query{Text: "garden", To: at(24)}), "m0", "it_ev")
		f.wantSet("vector to 24h", f.vector(UserA, axis(0), memory.Query{To: at(24)}), "m0", "it_ev")
	},
	"KindsAndLimit": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m_g", "The garden needs water.", at(0), axis(1))
		f.add(item(UserA, "it_g", "Keeps a vegetable garden.", at(0)), axis(1))
		f.journal(memory.Journal{ID: "j_g", UserID: UserA, Day: "2025-03-14", Text: "Worked in the garden all day.", Sources: []string{"m_g"}}, axis(1))
		for _, k := range []memory.DocKind{memory.DocMessage, memory.DocItem, memory.DocJournal} {
			want := map[memory.DocKind]string{memory.DocMessage: "m_g", memory.DocItem: "it_g", memory.DocJournal: "j_g"}[k]
			q := memory.Query{Text: "garden", Kinds: []memory.DocKind{k}}
			f.wantIDs("text "+string(k), f.text(UserA, q), want)
			f.wantIDs("vector "+string(k), f.vector(UserA, axis(1), q), want)
		}
		f.wantSet("all kinds", f.text(UserA, memory.Query{Text: "garden"}), "m_g", "it_g", "j_g")
		for i := range 15 {
			f.msg(UserA, fmt.Sprintf("m_%02d", i), "Another garden note.", at(i+1), axis(1))
		}
		if got := f.text(UserA, memory.Query{Text: "garden"}); len(got) != 10 {
			t.Errorf("default limit: %d hits, want 10", len(got))
		}
		if got := f.vector(UserA, axis(1), memory.Query{Limit: 3}); len(got) != 3 {
			t.Errorf("Limit 3: %d vector hits", len(got))
		}
	},
	"HitContent": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m1", "The dentist appointment is on Tuesday.", at(2), nil)
		it := item(UserA, "it1", "Has a dentist appointment on Tuesday.", at(3))
		it.Sources = []string{"m1", "m0"}
		f.add(it, nil)
		f.journal(memory.Journal{ID: "j1", UserID: UserA, Day: "2025-03-14", Text: "Dentist talk.", Sources: []string{"m1"}}, nil)
		hits, err := f.s.SearchText(f.ctx, UserA, memory.Query{Text: "dentist"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]memory.Hit{}
		for _, h := range hits {
			got[h.ID] = h
		}
		if h := got["m1"]; h.Kind != memory.DocMessage || h.Text != "The dentist appointment is on Tuesday." || !h.Time.Equal(at(2)) {
			t.Errorf("message hit = %+v", h)
		}
		if h := got["it1"]; h.Kind != memory.DocItem || h.Item == nil || !equalStrings(h.Sources, []string{"m1", "m0"}) || !h.Time.Equal(at(3)) || h.Item.Confidence != 0.9 {
			t.Errorf("item hit = %+v", h)
		}
		if h := got["j1"]; h.Kind != memory.DocJournal || h.Text != "Dentist talk." || !equalStrings(h.Sources, []string{"m1"}) || h.Time.Format("2006-01-02") != "2025-03-14" {
			t.Errorf("journal hit = %+v", h)
		}
	},
}

var vectorTests = map[string]func(*testing.T, *fixture){
	"Ranking": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m_far", "far", at(0), axis(1))
		f.msg(UserA, "m_near", "near", at(1), mix(0, 1, 1, 0.3))
		f.msg(UserA, "m_same", "same", at(2), mix(0, 5, 0, 0)) // length does not matter
		f.msg(UserA, "m_mid", "mid", at(3), mix(0, 1, 1, 1))
		f.wantIDs("nearest", f.vector(UserA, axis(0), memory.Query{}), "m_same", "m_near", "m_mid", "m_far")
		hits, err := f.s.SearchVector(f.ctx, UserA, mix(0, 2, 0, 0), memory.Query{Limit: 1})
		if err != nil || len(hits) != 1 || hits[0].Score < 0.99 || hits[0].Score > 1.01 {
			t.Errorf("top hit = %+v, %v; want cosine 1", hits, err)
		}
	},
	"Dimension": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m1", "x", at(0), axis(0))
		if _, err := f.s.SearchVector(f.ctx, UserA, []float32{1, 0}, memory.Query{}); err == nil {
			t.Error("SearchVector with 2 dimensions in an 8-d store: no error")
		}
		if err := f.s.IndexMessage(f.ctx, memory.MessageDoc{ID: "m2", UserID: UserA, Text: "y", Time: at(1)}, make([]float32, 9)); err == nil {
			t.Error("IndexMessage with 9 dimensions in an 8-d store: no error")
		}
	},
	"Empty": func(t *testing.T, f *fixture) {
		f.wantIDs("no vectors", f.vector(UserA, axis(0), memory.Query{}))
		f.msg(UserA, "m1", "x", at(0), make([]float32, 8)) // a zero vector is stored, matches nothing well
		f.msg(UserA, "m2", "y", at(0), axis(0))
		f.wantIDs("zero vector last", f.vector(UserA, axis(0), memory.Query{}), "m2", "m1")
	},
}
