package caltools_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/caltools"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

type harness struct {
	t    *testing.T
	reg  *companion.Registry
	svc  *calendar.Service
	user string
	loc  *time.Location
	now  time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateUser(t.Context(), store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 3, 23, 8, 0, 0, 0, loc) // a Monday; DST starts on the 29th
	svc := &calendar.Service{Store: sqlitecal.New(db), Clock: clock.NewFake(now), IDs: clock.NewFakeIDs()}
	reg := companion.NewRegistry()
	if err := caltools.Register(reg, caltools.Deps{Service: svc, Zone: func(context.Context, string) *time.Location { return loc }}); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, reg: reg, svc: svc, user: "usr_ana", loc: loc, now: now}
}

func (h *harness) tool(name string) companion.Tool {
	h.t.Helper()
	tl, ok := h.reg.Lookup(name)
	if !ok {
		h.t.Fatalf("no tool %s", name)
	}
	return tl
}

func (h *harness) run(name string, args any) (string, error) {
	h.t.Helper()
	b, _ := json.Marshal(args)
	return h.tool(name).Run(h.t.Context(), companion.Call{UserID: h.user, Args: b, Now: h.now, Location: h.loc})
}

func (h *harness) card(name string, args any) string {
	h.t.Helper()
	b, _ := json.Marshal(args)
	return h.reg.Describe(h.t.Context(), store.Action{UserID: h.user, Tool: name, Arguments: b})
}

// Reading tools act on nothing; acting tools wait for approval.
func TestSideEffects(t *testing.T) {
	h := newHarness(t)
	for name, acts := range map[string]bool{"calendar_agenda": false, "calendar_free": false,
		"calendar_create": true, "calendar_move": true, "calendar_cancel": true} {
		if h.tool(name).SideEffects != acts {
			t.Errorf("%s: SideEffects = %v", name, !acts)
		}
	}
}

// "What's my week like?": create (after its card), agenda, move one
// occurrence, cancel another — each card showing the exact event.
func TestCreateAgendaMoveCancel(t *testing.T) {
	h := newHarness(t)
	args := map[string]any{"summary": "Standup", "start": "2026-03-23T09:00", "end": "2026-03-23T09:15",
		"rrule": "FREQ=DAILY;COUNT=10", "location": "Room 4", "attendees": []string{"bob@example.com"}}
	card := h.card("calendar_create", args)
	for _, want := range []string{"Title: Standup", "When: Mon 23 Mar 2026 09:00–09:15 Europe/Berlin", "Repeats: FREQ=DAILY;COUNT=10",
		"Where: Room 4", "With: bob@example.com", "No invitation is sent", "Calendar: Personal"} {
		if !strings.Contains(card, want) {
			t.Errorf("create card lacks %q:\n%s", want, card)
		}
	}
	out, err := h.run("calendar_create", args)
	if err != nil || !strings.Contains(out, "Added \"Standup\"") {
		t.Fatalf("create: %q %v", out, err)
	}
	if _, err := h.run("calendar_create", map[string]any{"summary": "Trip", "start": "2026-03-27", "end": "2026-03-30"}); err != nil {
		t.Fatal(err)
	}
	week, err := h.run("calendar_agenda", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(week, `"Standup"`) != 7 || !strings.Contains(week, "all day: \"Trip\"") {
		t.Errorf("agenda:\n%s", week)
	}
	// After the DST change (Sunday 29 March, 02:00) the standup is still
	// at 09:00 local.
	if !strings.Contains(week, "Sunday 29 March\n- 09:00–09:15: \"Standup\"") {
		t.Errorf("the standup after the DST change:\n%s", week)
	}
	evs, _ := h.svc.Store.ListEvents(t.Context(), h.user, "", calendar.Range{}, false)
	var id string
	for _, e := range evs {
		if e.Summary == "Standup" {
			id = e.ID
		}
	}
	mv := map[string]any{"event_id": id, "occurrence": "2026-03-25T09:00", "start": "2026-03-25T14:00"}
	card = h.card("calendar_move", mv)
	for _, want := range []string{"Move one occurrence", "When: Wed 25 Mar 2026 09:00–09:15 Europe/Berlin", "New time: Wed 25 Mar 2026 14:00–14:15 Europe/Berlin"} {
		if !strings.Contains(card, want) {
			t.Errorf("move card lacks %q:\n%s", want, card)
		}
	}
	if _, err := h.run("calendar_move", mv); err != nil {
		t.Fatal(err)
	}
	cn := map[string]any{"event_id": id, "occurrence": "2026-03-26T09:00"}
	if card := h.card("calendar_cancel", cn); !strings.Contains(card, "Cancel one occurrence") || !strings.Contains(card, "Thu 26 Mar 2026 09:00") {
		t.Errorf("cancel card:\n%s", card)
	}
	if _, err := h.run("calendar_cancel", cn); err != nil {
		t.Fatal(err)
	}
	week, _ = h.run("calendar_agenda", map[string]any{"from": "2026-03-25", "days": 2})
	if !strings.Contains(week, "14:00–14:15: \"Standup\"") || strings.Contains(week, "Thursday 26 March") {
		t.Errorf("after move and cancel:\n%s", week)
	}
	if _, err := h.run("calendar_move", map[string]any{"event_id": "nope", "start": "2026-03-25T14:00"}); err == nil || !strings.Contains(err.Error(), "calendar_agenda") {
		t.Errorf("an unknown id: %v", err)
	}
}

// A title with hidden characters (from an invitation) is shown escaped on
// the card, so the user approves what will be written.
func TestCardEscapesHiddenCharacters(t *testing.T) {
	h := newHarness(t)
	card := h.card("calendar_create", map[string]any{"summary": "Pay\u202eyad", "start": "2026-03-24T10:00"})
	if !strings.Contains(card, "[U+202E]") {
		t.Errorf("card:\n%s", card)
	}
}

// "Find an hour with Ana next week": free spans around the user's events,
// saying Ana's calendar is not visible.
func TestFree(t *testing.T) {
	h := newHarness(t)
	if _, err := h.run("calendar_create", map[string]any{"summary": "Busy", "start": "2026-03-30T09:00", "end": "2026-03-30T17:30"}); err != nil {
		t.Fatal(err)
	}
	out, err := h.run("calendar_free", map[string]any{"from": "2026-03-30", "days": 2, "with": []string{"Ana"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "Mon 30 Mar 09:00") || !strings.Contains(out, "Tue 31 Mar 09:00–18:00") || !strings.Contains(out, "cannot see the calendars of Ana") {
		t.Errorf("free:\n%s", out)
	}
	if out, _ := h.run("calendar_free", map[string]any{"from": "2026-03-30", "days": 1, "minutes": 45}); strings.Contains(out, "17:30–18:00") {
		t.Errorf("a 30-minute gap offered for 45 minutes:\n%s", out)
	}
}
