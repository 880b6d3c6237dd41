package memorytest

import (
	"reflect"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

var itemTests = map[string]func(*testing.T, *fixture){
	"RoundTrip": func(t *testing.T, f *fixture) {
		e := f.entity(memory.Entity{ID: "ent_cat", UserID: UserA, Name: "Catherine", CreatedAt: at(0), UpdatedAt: at(0)})
		want := memory.Item{
			ID: "it_1", UserID: UserA, Kind: memory.KindEvent, Text: "Catherine moves to Boston in June.",
			EntityIDs: []string{e.ID}, Sources: []string{"msg_2", "msg_1"}, Confidence: 0.8, Importance: 0.7,
			EventTime: at(24 * 90), ValidFrom: at(1), CreatedAt: at(2), UpdatedAt: at(3),
		}
		f.add(want, axis(0))
		got := f.getItem(UserA, "it_1")
		if !equalItem(got, want) {
			t.Errorf("Item = %+v\nwant   %+v", got, want)
		}
		if !got.Current() {
			t.Error("a new item is not Current")
		}
	},
	"Defaults": func(t *testing.T, f *fixture) {
		it := item(UserA, "it_d", "Theo drinks tea.", time.Time{})
		it.CreatedAt, it.UpdatedAt = time.Time{}, time.Time{}
		f.add(it, nil)
		got := f.getItem(UserA, "it_d")
		if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() || got.ValidFrom.IsZero() {
			t.Errorf("zero times were not filled: %+v", got)
		}
	},
	"Invalid": func(t *testing.T, f *fixture) {
		noSource := item(UserA, "it_ns", "No source.", at(0))
		noSource.Sources = nil
		f.wantErr(f.s.AddItem(f.ctx, noSource, nil), memory.ErrNoSource, "AddItem without sources")
		noSource.Sources = []string{""}
		f.wantErr(f.s.AddItem(f.ctx, noSource, nil), memory.ErrNoSource, "AddItem with an empty source")
		for name, mod := range map[string]func(*memory.Item){
			"no ID":            func(it *memory.Item) { it.ID = "" },
			"no text":          func(it *memory.Item) { it.Text = "  " },
			"unknown kind":     func(it *memory.Item) { it.Kind = "gossip" },
			"importance > 1":   func(it *memory.Item) { it.Importance = 1.5 },
			"negative confid.": func(it *memory.Item) { it.Confidence = -0.1 },
			"unknown person":   func(it *memory.Item) { it.EntityIDs = []string{"ent_nobody"} },
		} {
			it := item(UserA, "it_bad", "Bad.", at(0))
			mod(&it)
			if err := f.s.AddItem(f.ctx, it, nil); err == nil {
				t.Errorf("AddItem with %s: no error", name)
			}
		}
		f.wantIDs("items after rejected adds", f.list(UserA, memory.ItemFilter{History: true}))
		f.add(item(UserA, "it_x", "Exists.", at(0)), nil)
		f.wantErr(f.s.AddItem(f.ctx, item(UserA, "it_x", "Again.", at(1)), nil), memory.ErrDuplicate, "AddItem with a taken ID")
		f.wantErr(f.s.AddItem(f.ctx, item(UserA, "it_v", "Vector of another size.", at(1)), axis(0)), nil, "first vector")
		if err := f.s.AddItem(f.ctx, item(UserA, "it_w", "Wrong size.", at(1)), []float32{1, 2, 3}); err == nil {
			t.Error("AddItem with a 3-d vector in an 8-d store: no error")
		}
		_, err := f.s.Item(f.ctx, UserA, "it_missing")
		f.wantErr(err, memory.ErrNotFound, "Item of an unknown ID")
	},
	"ListOrderAndFilters": func(t *testing.T, f *fixture) {
		cat := f.entity(memory.Entity{ID: "ent_cat", UserID: UserA, Name: "Catherine"})
		f.add(item(UserA, "it_old", "Oldest.", at(1)), nil)
		pref := item(UserA, "it_pref", "Likes jazz.", at(3))
		pref.Kind = memory.KindPreference
		f.add(pref, nil)
		about := item(UserA, "it_cat", "Catherine is a nurse.", at(2))
		about.EntityIDs = []string{cat.ID}
		f.add(about, nil)
		f.wantIDs("ListItems", f.list(UserA, memory.ItemFilter{}), "it_pref", "it_cat", "it_old")
		f.wantIDs("Kinds", f.list(UserA, memory.ItemFilter{Kinds: []memory.Kind{memory.KindPreference}}), "it_pref")
		f.wantIDs("EntityID", f.list(UserA, memory.ItemFilter{EntityID: cat.ID}), "it_cat")
		f.wantIDs("Limit", f.list(UserA, memory.ItemFilter{Limit: 2}), "it_pref", "it_cat")
		f.wantIDs("Offset", f.list(UserA, memory.ItemFilter{Limit: 2, Offset: 2}), "it_old")
		f.wantIDs("Offset only", f.list(UserA, memory.ItemFilter{Offset: 1}), "it_cat", "it_old")
	},
	"Update": func(t *testing.T, f *fixture) {
		f.entity(memory.Entity{ID: "ent_theo", UserID: UserA, Name: "Theo"})
		f.add(item(UserA, "it_u", "Theo lives in Hamburg.", at(0)), axis(1))
		event := at(100)
		err := f.s.UpdateItem(f.ctx, UserA, "it_u", memory.ItemPatch{
			Text: ptr("Theo lives in Leipzig."), Kind: ptr(memory.KindEvent), Importance: ptr(0.9),
			EventTime: &event, EntityIDs: []string{"ent_theo"},
		}, axis(2), at(5))
		if err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		got := f.getItem(UserA, "it_u")
		want := item(UserA, "it_u", "Theo lives in Leipzig.", at(0))
		want.Kind, want.Importance, want.EventTime, want.EntityIDs, want.UpdatedAt = memory.KindEvent, 0.9, event, []string{"ent_theo"}, at(5)
		if !equalItem(got, want) {
			t.Errorf("after update: %+v\nwant         %+v", got, want)
		}
		f.wantIDs("search old word", f.text(UserA, memory.Query{Text: "Hamburg"}))
		f.wantIDs("search new word", f.text(UserA, memory.Query{Text: "Leipzig"}), "it_u")
		f.wantIDs("search new vector", f.vector(UserA, axis(2), memory.Query{Limit: 1}), "it_u")
		if err := f.s.UpdateItem(f.ctx, UserA, "it_u", memory.ItemPatch{}, nil, at(6)); err != nil {
			t.Fatalf("empty UpdateItem: %v", err)
		}
		if got := f.getItem(UserA, "it_u"); got.Text != "Theo lives in Leipzig." || !got.UpdatedAt.Equal(at(6)) {
			t.Errorf("empty patch changed the item: %+v", got)
		}
		if err := f.s.UpdateItem(f.ctx, UserA, "it_u", memory.ItemPatch{Importance: ptr(2.0)}, nil, at(7)); err == nil {
			t.Error("UpdateItem with importance 2: no error")
		}
		f.wantErr(f.s.UpdateItem(f.ctx, UserA, "it_none", memory.ItemPatch{}, nil, at(7)), memory.ErrNotFound, "UpdateItem of an unknown ID")
	},
}

var historyTests = map[string]func(*testing.T, *fixture){
	"Supersede": func(t *testing.T, f *fixture) {
		f.add(item(UserA, "it_old", "Catherine lives in Boston.", at(0)), axis(0))
		next := item(UserA, "it_new", "Catherine lives in Denver.", time.Time{})
		next.UserID = ""
		if err := f.s.Supersede(f.ctx, UserA, "it_old", next, mix(0, 1, 1, 0.2), at(10)); err != nil {
			t.Fatalf("Supersede: %v", err)
		}
		old := f.getItem(UserA, "it_old")
		if old.Current() || !old.ValidTo.Equal(at(10)) || old.SupersededBy != "it_new" {
			t.Errorf("old item = ValidTo %v SupersededBy %q, want %v and it_new", old.ValidTo, old.SupersededBy, at(10))
		}
		nw := f.getItem(UserA, "it_new")
		if !nw.Current() || !nw.ValidFrom.Equal(at(10)) || nw.UserID != UserA {
			t.Errorf("new item = %+v, want current, ValidFrom %v, user %s", nw, at(10), UserA)
		}
		f.wantIDs("current", f.list(UserA, memory.ItemFilter{}), "it_new")
		f.wantIDs("history", f.list(UserA, memory.ItemFilter{History: true}), "it_new", "it_old")
		f.wantIDs("text, current", f.text(UserA, memory.Query{Text: "Catherine lives"}), "it_new")
		f.wantSet("text, history", f.text(UserA, memory.Query{Text: "Catherine lives", History: true}), "it_new", "it_old")
		f.wantIDs("vector, current", f.vector(UserA, axis(0), memory.Query{}), "it_new")
		f.wantIDs("vector, history", f.vector(UserA, axis(0), memory.Query{History: true}), "it_old", "it_new")

		again := item(UserA, "it_third", "Catherine lives in Austin.", at(20))
		if err := f.s.Supersede(f.ctx, UserA, "it_old", again, nil, at(20)); err == nil {
			t.Error("superseding an already superseded item: no error")
		}
		f.wantErr(f.s.Supersede(f.ctx, UserA, "it_none", again, nil, at(20)), memory.ErrNotFound, "Supersede of an unknown ID")
	},
	"SupersedeIsAtomic": func(t *testing.T, f *fixture) {
		f.add(item(UserA, "it_old", "Works at the bakery.", at(0)), nil)
		bad := item(UserA, "it_new", "Works at the library.", at(5))
		bad.Sources = nil
		f.wantErr(f.s.Supersede(f.ctx, UserA, "it_old", bad, nil, at(5)), memory.ErrNoSource, "Supersede without sources")
		taken := item(UserA, "it_old", "Same ID as the old one.", at(5))
		if err := f.s.Supersede(f.ctx, UserA, "it_old", taken, nil, at(5)); err == nil {
			t.Error("Supersede with the old item's own ID: no error")
		}
		if got := f.getItem(UserA, "it_old"); !got.Current() || got.SupersededBy != "" {
			t.Errorf("a failed Supersede changed the old item: %+v", got)
		}
		f.wantIDs("items", f.list(UserA, memory.ItemFilter{History: true}), "it_old")
	},
	"Invalidate": func(t *testing.T, f *fixture) {
		f.add(item(UserA, "it_job", "Works at the bakery.", at(0)), axis(3))
		if err := f.s.Invalidate(f.ctx, UserA, "it_job", at(4)); err != nil {
			t.Fatalf("Invalidate: %v", err)
		}
		got := f.getItem(UserA, "it_job")
		if got.Current() || !got.ValidTo.Equal(at(4)) || got.SupersededBy != "" {
			t.Errorf("invalidated item = %+v", got)
		}
		f.wantIDs("current", f.list(UserA, memory.ItemFilter{}))
		f.wantIDs("history", f.list(UserA, memory.ItemFilter{History: true}), "it_job")
		f.wantIDs("text, current", f.text(UserA, memory.Query{Text: "bakery"}))
		f.wantIDs("text, history", f.text(UserA, memory.Query{Text: "bakery", History: true}), "it_job")
		f.wantIDs("vector, current", f.vector(UserA, axis(3), memory.Query{}))
		f.wantIDs("vector, history", f.vector(UserA, axis(3), memory.Query{History: true}), "it_job")
		if err := f.s.Invalidate(f.ctx, UserA, "it_job", at(9)); err != nil {
			t.Errorf("second Invalidate: %v", err)
		}
		if got := f.getItem(UserA, "it_job"); !got.ValidTo.Equal(at(4)) {
			t.Errorf("second Invalidate moved ValidTo to %v", got.ValidTo)
		}
		f.wantErr(f.s.Invalidate(f.ctx, UserA, "it_none", at(9)), memory.ErrNotFound, "Invalidate of an unknown ID")
	},
}

var forgetTests = map[string]func(*testing.T, *fixture){
	"Everywhere": func(t *testing.T, f *fixture) {
		f.entity(memory.Entity{ID: "ent_cat", UserID: UserA, Name: "Catherine"})
		it := item(UserA, "it_secret", "The surprise party is at Lena's flat.", at(0))
		it.EntityIDs = []string{"ent_cat"}
		f.add(it, axis(4))
		f.add(item(UserA, "it_keep", "Lena likes balloons.", at(1)), axis(5))
		if err := f.s.Forget(f.ctx, UserA, "it_secret"); err != nil {
			t.Fatalf("Forget: %v", err)
		}
		CheckForgotten(t, f.s, UserA, "it_secret", "surprise party", axis(4))
		f.wantIDs("other item", f.text(UserA, memory.Query{Text: "Lena"}), "it_keep")
		f.wantIDs("items of the person", f.list(UserA, memory.ItemFilter{EntityID: "ent_cat", History: true}))
		f.wantErr(f.s.Forget(f.ctx, UserA, "it_secret"), memory.ErrNotFound, "second Forget")
	},
	"SuccessorLeavesHistory": func(t *testing.T, f *fixture) {
		f.add(item(UserA, "it_a", "Drinks coffee.", at(0)), nil)
		if err := f.s.Supersede(f.ctx, UserA, "it_a", item(UserA, "it_b", "Drinks tea.", at(5)), nil, at(5)); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Forget(f.ctx, UserA, "it_b"); err != nil {
			t.Fatal(err)
		}
		if got := f.getItem(UserA, "it_a"); got.SupersededBy != "it_b" || got.Current() {
			t.Errorf("old item after its successor was forgotten = %+v, want still closed, pointing at it_b", got)
		}
	},
}

// CheckForgotten fails t if the item id of user can still be found by any
// path: Item, ListItems with history, full text for words, or vectors near
// vec (with history, all kinds, no time limit). Backends call it again after
// reopening their store.
func CheckForgotten(t *testing.T, s memory.Store, user, id, words string, vec []float32) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Item(ctx, user, id); err == nil {
		t.Errorf("Item(%s) still answers after Forget", id)
	}
	items, err := s.ListItems(ctx, user, memory.ItemFilter{History: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == id {
			t.Errorf("ListItems still lists %s", id)
		}
	}
	text, err := s.SearchText(ctx, user, memory.Query{Text: words, History: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	vecHits, err := s.SearchVector(ctx, user, vec, memory.Query{History: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range append(text, vecHits...) {
		if h.ID == id {
			t.Errorf("search still finds %s (%s)", id, h.Text)
		}
	}
}

// equalItem compares items, times by instant.
func equalItem(a, b memory.Item) bool {
	times := [][2]time.Time{{a.EventTime, b.EventTime}, {a.ValidFrom, b.ValidFrom}, {a.ValidTo, b.ValidTo},
		{a.CreatedAt, b.CreatedAt}, {a.UpdatedAt, b.UpdatedAt}}
	for _, p := range times {
		if !p[0].Equal(p[1]) {
			return false
		}
	}
	a.EventTime, a.ValidFrom, a.ValidTo, a.CreatedAt, a.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	b.EventTime, b.ValidFrom, b.ValidTo, b.CreatedAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if len(a.EntityIDs) == 0 && len(b.EntityIDs) == 0 {
		a.EntityIDs, b.EntityIDs = nil, nil
	}
	return reflect.DeepEqual(a, b)
}
