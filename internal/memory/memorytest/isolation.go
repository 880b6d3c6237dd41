package memorytest

import (
	"testing"

	"github.com/os1ai/os1/internal/memory"
)

// isolationTests check that user B can neither see nor change anything of
// user A's through any method, whatever IDs B passes.
var isolationTests = map[string]func(*testing.T, *fixture){
	"Items": func(t *testing.T, f *fixture) {
		f.add(item(UserA, "it_a", "Alice's secret recipe uses saffron.", at(0)), axis(0))
		f.add(item(UserB, "it_b", "Bob's recipe uses saffron too.", at(0)), axis(0))
		_, err := f.s.Item(f.ctx, UserB, "it_a")
		f.wantErr(err, memory.ErrNotFound, "Item of A's ID as B")
		f.wantIDs("B's items", f.list(UserB, memory.ItemFilter{History: true}), "it_b")
		f.wantErr(f.s.UpdateItem(f.ctx, UserB, "it_a", memory.ItemPatch{Text: ptr("hacked")}, nil, at(1)), memory.ErrNotFound, "UpdateItem as B")
		f.wantErr(f.s.Supersede(f.ctx, UserB, "it_a", item(UserB, "it_b2", "hacked", at(1)), nil, at(1)), memory.ErrNotFound, "Supersede as B")
		f.wantErr(f.s.Invalidate(f.ctx, UserB, "it_a", at(1)), memory.ErrNotFound, "Invalidate as B")
		f.wantErr(f.s.Forget(f.ctx, UserB, "it_a"), memory.ErrNotFound, "Forget as B")
		if err := f.s.AddItem(f.ctx, item(UserB, "it_a", "Same ID as Alice's.", at(1)), nil); err == nil {
			t.Error("AddItem of A's ID as B: no error")
		}
		if err := f.s.Supersede(f.ctx, UserB, "it_b", item(UserA, "it_x", "Next belongs to A.", at(1)), nil, at(1)); err == nil {
			t.Error("Supersede of B's item with an item of A's: no error")
		}
		got := f.getItem(UserA, "it_a")
		if got.Text != "Alice's secret recipe uses saffron." || !got.Current() {
			t.Errorf("A's item changed by B's calls: %+v", got)
		}
		f.wantIDs("B's current items", f.list(UserB, memory.ItemFilter{}), "it_b")
	},
	"Search": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m_a", "Alice's saffron risotto.", at(0), axis(0))
		f.add(item(UserA, "it_a", "Alice cooks with saffron.", at(0)), axis(0))
		f.journal(memory.Journal{ID: "j_a", UserID: UserA, Day: "2025-03-14", Text: "Saffron day.", Sources: []string{"m_a"}}, axis(0))
		f.msg(UserB, "m_b", "Bob has never tried saffron.", at(0), axis(1))
		all := []memory.DocKind{memory.DocMessage, memory.DocItem, memory.DocJournal}
		for _, q := range []memory.Query{{Text: "saffron"}, {Text: "saffron", History: true, Kinds: all, Limit: 100}} {
			f.wantIDs("B's text search", f.text(UserB, q), "m_b")
			f.wantIDs("B's vector search", f.vector(UserB, axis(0), q), "m_b")
		}
		f.wantIDs("unknown user's text search", f.text("mt_nobody", memory.Query{Text: "saffron"}))
		f.wantIDs("unknown user's vector search", f.vector("mt_nobody", axis(0), memory.Query{}))
		f.wantSet("A's text search", f.text(UserA, memory.Query{Text: "saffron"}), "m_a", "it_a", "j_a")
	},
	"Messages": func(t *testing.T, f *fixture) {
		f.msg(UserA, "m_a", "Alice's message about tulips.", at(0), axis(0))
		if err := f.s.IndexMessage(f.ctx, memory.MessageDoc{ID: "m_a", UserID: UserB, Text: "Bob overwrites tulips.", Time: at(1)}, axis(1)); err == nil {
			t.Error("IndexMessage of A's message ID as B: no error")
		}
		f.wantErr(f.s.ForgetMessage(f.ctx, UserB, "m_a"), memory.ErrNotFound, "ForgetMessage as B")
		hits, err := f.s.SearchText(f.ctx, UserA, memory.Query{Text: "tulips"})
		if err != nil || len(hits) != 1 || hits[0].Text != "Alice's message about tulips." {
			t.Errorf("A's message after B's calls = %+v, %v", hits, err)
		}
		f.wantIDs("B's search", f.text(UserB, memory.Query{Text: "tulips"}))
	},
	"Entities": func(t *testing.T, f *fixture) {
		f.entity(memory.Entity{ID: "ent_a", UserID: UserA, Name: "Catherine", Aliases: []string{"Cat"}})
		_, err := f.s.Entity(f.ctx, UserB, "ent_a")
		f.wantErr(err, memory.ErrNotFound, "Entity as B")
		_, err = f.s.FindEntity(f.ctx, UserB, "catherine")
		f.wantErr(err, memory.ErrNotFound, "FindEntity by name as B")
		_, err = f.s.FindEntity(f.ctx, UserB, "cat")
		f.wantErr(err, memory.ErrNotFound, "FindEntity by alias as B")
		es, err := f.s.Entities(f.ctx, UserB)
		if err != nil || len(es) != 0 {
			t.Errorf("Entities as B = %v, %v; want none", es, err)
		}
		f.wantErr(f.s.DeleteEntity(f.ctx, UserB, "ent_a"), memory.ErrNotFound, "DeleteEntity as B")
		f.wantErr(f.s.SaveEntity(f.ctx, memory.Entity{ID: "ent_a", UserID: UserB, Name: "Hijacked"}), memory.ErrNotFound, "SaveEntity of A's ID as B")
		it := item(UserB, "it_b", "Bob met Catherine.", at(0))
		it.EntityIDs = []string{"ent_a"}
		f.wantErr(f.s.AddItem(f.ctx, it, nil), memory.ErrNotFound, "AddItem about A's person as B")
		f.add(item(UserB, "it_b2", "Bob met someone.", at(0)), nil)
		f.wantErr(f.s.UpdateItem(f.ctx, UserB, "it_b2", memory.ItemPatch{EntityIDs: []string{"ent_a"}}, nil, at(1)), memory.ErrNotFound, "UpdateItem linking A's person as B")
		e, err := f.s.FindEntity(f.ctx, UserA, "cat")
		if err != nil || e.Name != "Catherine" || e.UserID != UserA {
			t.Errorf("A's person after B's calls = %+v, %v", e, err)
		}
	},
	"Journals": func(t *testing.T, f *fixture) {
		f.journal(memory.Journal{ID: "j_a", UserID: UserA, Day: "2025-05-03", Text: "Alice's day.", Sources: []string{"m1"}}, nil)
		f.journal(memory.Journal{ID: "j_b", UserID: UserB, Day: "2025-05-03", Text: "Bob's day.", Sources: []string{"m2"}}, nil)
		for user, want := range map[string]string{UserA: "Alice's day.", UserB: "Bob's day."} {
			js, err := f.s.Journals(f.ctx, user, "", "")
			if err != nil || len(js) != 1 || js[0].Text != want {
				t.Errorf("Journals(%s) = %+v, %v; want only %q", user, js, err, want)
			}
		}
		if err := f.s.SaveJournal(f.ctx, memory.Journal{ID: "j_a", UserID: UserB, Day: "2025-05-04", Text: "Bob takes A's ID.", Sources: []string{"m3"}}, nil); err == nil {
			t.Error("SaveJournal with A's journal ID as B: no error")
		}
	},
}
