package caltools_test

import (
	"context"
	"encoding/json"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/caltools"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
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

// Through a real turn: the model proposes calendar_create, the user sees
// the exact event on the card (in the user's zone, Chicago, and the
// event's own), nothing is written until they approve, and then the event
// is in the calendar.
func TestCreateWaitsForApproval(t *testing.T) {
	r := testrig.New(t)
	u := r.User("ana", store.RoleOwner)
	svc := &calendar.Service{Store: sqlitecal.New(r.DB), Clock: r.Clock, IDs: clock.NewFakeIDs()}
	tools := companion.NewRegistry()
	chicago, _ := time.LoadLocation("America/Chicago")
	zone := func(context.Context, string) *time.Location { return chicago }
	if err := caltools.Register(tools, caltools.Deps{Service: svc, Zone: zone}); err != nil {
		t.Fatal(err)
	}
	comp := r.Companion(companion.Deps{Models: fixedModel{r.Provider()}, Tools: tools, Clock: clock.System{}},
		companion.Options{FlushEvery: 10 * time.Millisecond})
	args, _ := json.Marshal(map[string]any{"summary": "Dinner with Ana", "start": "2026-12-11T19:30", "timezone": "America/New_York", "location": "Luigi's"})
	r.LLM.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "calendar_create", Arguments: args}}})
	evs, err := comp.Send(t.Context(), u.ID, "", "Put dinner with Ana on Friday at 7:30 in New York")
	if err != nil {
		t.Fatal(err)
	}
	var action *companion.ActionView
	for _, ev := range collect(t, evs) {
		if ev.Type == companion.EvActionRequired {
			action = ev.Action
		}
	}
	if action == nil {
		t.Fatal("no approval was asked")
	}
	for _, want := range []string{"Title: Dinner with Ana", "When: Fri 11 Dec 2026 18:30–19:30 your time, America/Chicago (19:30–20:30 in America/New_York)", "Where: Luigi's"} {
		if !strings.Contains(action.Summary, want) {
			t.Errorf("the card lacks %q:\n%s", want, action.Summary)
		}
	}
	if evs, _ := svc.Store.ListEvents(t.Context(), u.ID, "", calendar.Range{}, true); len(evs) != 0 {
		t.Fatalf("written before approval: %v", evs)
	}
	r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"Done."}})
	devs, err := comp.Decide(t.Context(), u.ID, action.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, devs)
	got, _ := svc.Store.ListEvents(t.Context(), u.ID, "", calendar.Range{}, false)
	if len(got) != 1 || got[0].Summary != "Dinner with Ana" || got[0].Start.Zone != "America/New_York" || got[0].Start.In(nil).Hour() != 19 {
		t.Errorf("after approval: %+v", got)
	}
}
