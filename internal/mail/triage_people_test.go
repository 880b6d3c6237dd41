package mail_test

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/memory"
)

func TestPeopleFromMemory(t *testing.T) {
	entities := []memory.Entity{
		{ID: "e1", Name: "Catherine", Relation: "sister", Aliases: []string{"Cat", "Cath@Family.example"}},
		{ID: "e2", Name: "Mr Brown", Aliases: []string{"my landlord"}},
		{ID: "e3", Name: "Amy"},
		{ID: "e4", Name: "Paul", Relation: "colleague"},
	}
	items := []memory.Item{
		{ID: "i1", Kind: memory.KindPerson, Text: "Mr Brown's email is brown@lettings.example.", EntityIDs: []string{"e2"}},
		{ID: "i2", Kind: memory.KindPerson, Text: "Amy writes from amy@example.org and amy.work@corp.example.", EntityIDs: []string{"e3"}, Importance: 1},
		{ID: "i3", Kind: memory.KindFact, Text: "Amy used old@gone.example.", EntityIDs: []string{"e3"}, ValidTo: tue}, // superseded: not read
	}
	got := mail.PeopleFromMemory(entities, items)
	want := []struct {
		name, relation, emails string
		closeness              float64
	}{
		{"Catherine", "sister", "cath@family.example", 0.9},
		{"Mr Brown", "landlord", "brown@lettings.example", 0.31},
		{"Amy", "", "amy@example.org,amy.work@corp.example", 0.28},
		{"Paul", "colleague", "", 0.45},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d people, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Relation != w.relation || strings.Join(g.Emails, ",") != w.emails || g.Closeness != w.closeness {
			t.Errorf("person %d: %+v, want %+v", i, g, w)
		}
	}
	// Fed to triage, the sister's mail is from "your sister".
	k := mail.NewKnowledge([]string{theo.Email}, got, nil)
	if p, ok := k.Person("CATH@family.example"); !ok || p.Relation != "sister" {
		t.Errorf("Person by address: %+v %v", p, ok)
	}
}
