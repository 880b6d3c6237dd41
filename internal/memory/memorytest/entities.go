package memorytest

import (
	"testing"

	"github.com/os1ai/os1/internal/memory"
)

var entityTests = map[string]func(*testing.T, *fixture){
	"SaveAndGet": func(t *testing.T, f *fixture) {
		want := memory.Entity{ID: "ent_cat", UserID: UserA, Name: "Catherine", Aliases: []string{"Cat", "my sister"},
			Relation: "sister", Notes: "Lives in Boston.", Sources: []string{"msg_1"}, CreatedAt: at(0), UpdatedAt: at(1)}
		f.entity(want)
		got, err := f.s.Entity(f.ctx, UserA, "ent_cat")
		if err != nil {
			t.Fatal(err)
		}
		if !equalEntity(got, want) {
			t.Errorf("Entity = %+v\nwant     %+v", got, want)
		}
		// Upsert by ID: fields replaced, CreatedAt kept.
		upd := want
		upd.Name, upd.Aliases, upd.CreatedAt, upd.UpdatedAt = "Cathy", []string{"Cat"}, at(5), at(5)
		f.entity(upd)
		got, _ = f.s.Entity(f.ctx, UserA, "ent_cat")
		upd.CreatedAt = at(0)
		if !equalEntity(got, upd) {
			t.Errorf("after second save = %+v\nwant                %+v", got, upd)
		}
		if err := f.s.SaveEntity(f.ctx, memory.Entity{ID: "ent_x", UserID: UserA}); err == nil {
			t.Error("SaveEntity without a name: no error")
		}
		_, err = f.s.Entity(f.ctx, UserA, "ent_none")
		f.wantErr(err, memory.ErrNotFound, "Entity of an unknown ID")
	},
	"Find": func(t *testing.T, f *fixture) {
		f.entity(memory.Entity{ID: "ent_cat", UserID: UserA, Name: "Catherine Miller", Aliases: []string{"Cat", "my  Sister"}, UpdatedAt: at(0)})
		f.entity(memory.Entity{ID: "ent_dog", UserID: UserA, Name: "Cat", UpdatedAt: at(0)}) // a cat named Cat
		f.entity(memory.Entity{ID: "ent_zoe", UserID: UserA, Name: "Zoë", UpdatedAt: at(0)})
		for name, want := range map[string]string{
			"catherine miller":     "ent_cat",
			"  CATHERINE   miller": "ent_cat",
			"My sister":            "ent_cat",
			"cat":                  "ent_dog", // a main name beats an alias
			"ZOË":                  "ent_zoe",
		} {
			e, err := f.s.FindEntity(f.ctx, UserA, name)
			if err != nil || e.ID != want {
				t.Errorf("FindEntity(%q) = %s, %v; want %s", name, e.ID, err, want)
			}
		}
		_, err := f.s.FindEntity(f.ctx, UserA, "Catherine")
		f.wantErr(err, memory.ErrNotFound, "FindEntity of part of a name")
		// An alias dropped on update no longer finds the person.
		f.entity(memory.Entity{ID: "ent_cat", UserID: UserA, Name: "Catherine Miller"})
		_, err = f.s.FindEntity(f.ctx, UserA, "my sister")
		f.wantErr(err, memory.ErrNotFound, "FindEntity of a removed alias")
	},
	"ListAndDelete": func(t *testing.T, f *fixture) {
		for _, e := range []memory.Entity{
			{ID: "e1", UserID: UserA, Name: "theo"},
			{ID: "e2", UserID: UserA, Name: "Anna"},
			{ID: "e3", UserID: UserA, Name: "Bert"},
		} {
			f.entity(e)
		}
		list := func() []string {
			es, err := f.s.Entities(f.ctx, UserA)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			return ids
		}
		f.wantIDs("Entities", list(), "e2", "e3", "e1")
		it := item(UserA, "it_1", "Anna and Theo met in Prague.", at(0))
		it.EntityIDs = []string{"e2", "e1"}
		f.add(it, nil)
		if err := f.s.DeleteEntity(f.ctx, UserA, "e2"); err != nil {
			t.Fatal(err)
		}
		f.wantIDs("Entities after delete", list(), "e3", "e1")
		f.wantIDs("item's people after delete", f.getItem(UserA, "it_1").EntityIDs, "e1")
		_, err := f.s.FindEntity(f.ctx, UserA, "anna")
		f.wantErr(err, memory.ErrNotFound, "FindEntity of a deleted person")
		f.wantErr(f.s.DeleteEntity(f.ctx, UserA, "e2"), memory.ErrNotFound, "second DeleteEntity")
	},
}

func equalEntity(a, b memory.Entity) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Name == b.Name && a.Relation == b.Relation && a.Notes == b.Notes &&
		equalStrings(a.Aliases, b.Aliases) && equalStrings(a.Sources, b.Sources) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
