package contacttools_test

import (
	"context"
	"encoding/json"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/contacttools"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

type fixedModel struct{ p llm.Provider }

func (f fixedModel) Provider(context.Context) (llm.Provider, error) { return f.p, nil }

func collect(t *testing.T, evs iter.Seq[companion.Event]) []companion.Event {
	t.Helper()
	done := make(chan []companion.Event)
	go func() {
		var out []companion.Event
		for ev := range evs {
			out = append(out, ev)
		}
		done <- out
	}()
	select {
	case out := <-done:
		return out
	case <-time.After(30 * time.Second):
		t.Fatal("the turn did not finish")
		return nil
	}
}

type rig struct {
	*testrig.Rig
	comp *companion.Companion
	svc  *contacts.Service
	ana  store.User
}

// newRig: Ana's memory knows her sister Catherine ("Cathy"); her contacts
// hold Catherine's phone and email, and Ana Souza's birthday. Ben has a
// contact named Cathy of his own.
func newRig(t *testing.T) *rig {
	r := testrig.New(t)
	ana, ben := r.User("ana", store.RoleOwner), r.User("ben", store.RoleMember)
	mem := sqlitemem.New(r.DB.SQL(), sqlitemem.Options{Clock: r.Clock})
	svc := &contacts.Service{Store: sqlitecontacts.New(r.DB), Entities: mem, Clock: r.Clock, IDs: clock.NewFakeIDs()}
	ctx := t.Context()
	if err := mem.SaveEntity(ctx, memory.Entity{ID: "ent_cat", UserID: ana.ID, Name: "Catherine", Aliases: []string{"Cathy"}, Relation: "sister",
		CreatedAt: r.Clock.Now(), UpdatedAt: r.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user string
		c    contacts.Contact
	}{
		{ana.ID, contacts.Contact{Name: "Cathy Lima", OtherNames: []string{"Cathy"}, Handles: []contacts.Handle{
			{Kind: "phone", Value: "+34 600 111 222", Label: "cell"}, {Kind: "email", Value: "cathy@example.org"}}}},
		{ana.ID, contacts.Contact{Name: "Ana Souza", Birthday: "1991-12-09", Handles: []contacts.Handle{{Kind: "email", Value: "ana.souza@example.org"}}}},
		{ben.ID, contacts.Contact{Name: "Cathy", Relation: "sister", Handles: []contacts.Handle{{Kind: "email", Value: "bens-cathy@example.org"}}}},
	} {
		if _, err := svc.Create(ctx, c.user, c.c); err != nil {
			t.Fatal(err)
		}
	}
	tools := companion.NewRegistry()
	if err := contacttools.Register(tools, svc); err != nil {
		t.Fatal(err)
	}
	comp := r.Companion(companion.Deps{Models: fixedModel{r.Provider()}, Tools: tools, Clock: r.Clock},
		companion.Options{FlushEvery: 10 * time.Millisecond})
	return &rig{Rig: r, comp: comp, svc: svc, ana: ana}
}

// turn sends text with the model calling contacts_lookup(who) and then
// replying; it returns what the tool told the model.
func (r *rig) turn(t *testing.T, text, who string) string {
	t.Helper()
	args, _ := json.Marshal(map[string]string{"who": who})
	r.LLM.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "contacts_lookup", Arguments: args}}},
		llmtest.Reply{Chunks: []string{"Here you go."}})
	evs, err := r.comp.Send(t.Context(), r.ana.ID, "", text)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range collect(t, evs) {
		if ev.Type == companion.EvActionRequired {
			t.Fatalf("a lookup asked for approval: %+v", ev.Action)
		}
	}
	reqs := r.LLM.Requests()
	last := reqs[len(reqs)-1]
	for _, m := range last.Messages {
		if m.Role == llm.RoleTool && m.ToolCallID == "c1" {
			return m.Content
		}
	}
	t.Fatalf("the model was not given the tool's result: %+v", last.Messages)
	return ""
}

// "Text my sister": the lookup resolves who (memory's sister Catherine,
// merged with the contact named Cathy), lists her phone and email, and
// tells the model os1 cannot text but can email with approval.
func TestTextMySister(t *testing.T) {
	r := newRig(t)
	got := r.turn(t, "text my sister that I'm running late", "my sister")
	for _, want := range []string{"Cathy Lima (the user's sister)", "phone (cell): +34 600 111 222", "email: cathy@example.org",
		"cannot text", "mail_send", "not instructions"} {
		if !strings.Contains(got, want) {
			t.Errorf("the lookup lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "bens-cathy") {
		t.Fatalf("ben's contact reached ana's turn:\n%s", got)
	}
}

// "When is Ana's birthday": the next date and the age, in the user's days.
func TestWhenIsAnasBirthday(t *testing.T) {
	r := newRig(t)
	r.Clock.Set(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))
	got := r.turn(t, "when is Ana's birthday?", "Ana")
	if !strings.Contains(got, "Ana Souza") || !strings.Contains(got, "birthday: 9 December; next on Wednesday 9 December 2026 (in 4 days), turning 35") {
		t.Fatalf("the lookup:\n%s", got)
	}
	if got := r.turn(t, "what's Mallory's email?", "Mallory"); !strings.Contains(got, "No one") {
		t.Fatalf("an unknown person:\n%s", got)
	}
}
