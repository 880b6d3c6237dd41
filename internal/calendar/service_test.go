package calendar_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

func newService(t *testing.T) (*calendar.Service, string) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateUser(t.Context(), store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return &calendar.Service{Store: sqlitecal.New(db), Clock: clock.NewFake(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)), IDs: clock.NewFakeIDs()}, "usr_ana"
}

// The local calendar: made once, filled by an import, exported whole, and
// edited by create, move and cancel (of a whole event and of one occurrence).
func TestLocalCalendar(t *testing.T) {
	s, ana := newService(t)
	ctx := t.Context()
	c1, err := s.LocalCalendar(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := s.LocalCalendar(ctx, ana); c2.ID != c1.ID {
		t.Fatal("a second local calendar was made")
	}
	res, err := s.Import(ctx, ana, "", strings.NewReader(strings.ReplaceAll(mixed, "\n", "\r\n")))
	if err != nil || res.Imported != 2 || len(res.Errors) != 4 {
		t.Fatalf("import: %+v %v", res, err)
	}
	// Importing again replaces, never duplicates.
	if res, _ := s.Import(ctx, ana, "", strings.NewReader(strings.ReplaceAll(mixed, "\n", "\r\n"))); res.Updated != 2 || res.Imported != 0 {
		t.Errorf("re-import: %+v", res)
	}
	berlin := zone(t, "Europe/Berlin")
	ev, err := s.Create(ctx, ana, calendar.EventInput{Summary: "Yoga", Start: calendar.At(time.Date(2026, 3, 2, 18, 0, 0, 0, berlin)), RRule: "FREQ=WEEKLY;COUNT=4"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.End.Time.Sub(ev.Start.Time) != time.Hour || ev.LocalChange {
		t.Errorf("created: %+v", ev)
	}
	var buf bytes.Buffer
	if err := s.Export(ctx, ana, "", &buf); err != nil {
		t.Fatal(err)
	}
	evs, bad, err := calendar.ParseICS(&buf)
	if err != nil || len(bad) != 0 || len(evs) != 3 {
		t.Fatalf("export read back: %d events, %v, %v", len(evs), bad, err)
	}
	// Move the second Yoga, cancel the third.
	second := calendar.At(time.Date(2026, 3, 9, 18, 0, 0, 0, berlin))
	if _, err := s.Move(ctx, ana, ev.ID, second, calendar.At(time.Date(2026, 3, 10, 19, 0, 0, 0, berlin)), calendar.When{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel(ctx, ana, ev.ID, calendar.At(time.Date(2026, 3, 16, 18, 0, 0, 0, berlin))); err != nil {
		t.Fatal(err)
	}
	occ, err := s.Agenda(ctx, ana, calendar.Range{From: time.Date(2026, 3, 1, 0, 0, 0, 0, berlin), To: time.Date(2026, 3, 31, 0, 0, 0, 0, berlin)}, berlin)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range occ {
		if o.Event.UID == ev.UID {
			got = append(got, o.Start.In(berlin).Format("02 15:04"))
		}
	}
	if strings.Join(got, ",") != "02 18:00,10 19:00,23 18:00" {
		t.Errorf("yoga after move and cancel: %v", got)
	}
	if _, err := s.Cancel(ctx, ana, ev.ID, calendar.When{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.Event(ctx, ana, ev.ID); !errors.Is(err, calendar.ErrNotFound) {
		t.Errorf("a cancelled local event is still there: %v", err)
	}
	if _, err := s.Create(ctx, ana, calendar.EventInput{Summary: " ", Start: calendar.At(time.Now())}); err == nil {
		t.Error("an event without a title")
	}
	if _, err := s.Create(ctx, ana, calendar.EventInput{Summary: "x", Start: calendar.At(time.Now()), RRule: "FREQ=NEVER"}); err == nil {
		t.Error("an event with a broken rule")
	}
}

// Free time skips busy and weekend time and keeps transparent events free.
func TestFreeSlots(t *testing.T) {
	ny := zone(t, "America/New_York")
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, ny) }
	occ := []calendar.Occurrence{
		{Event: calendar.Event{Summary: "a"}, Start: day(6, 9, 0), End: day(6, 10, 30)},
		{Event: calendar.Event{Summary: "b"}, Start: day(6, 11, 0), End: day(6, 17, 0)},
		{Event: calendar.Event{Summary: "free", Extra: []calendar.Prop{{Name: "TRANSP", Value: "TRANSPARENT"}}}, Start: day(6, 17, 0), End: day(6, 18, 0)},
	}
	got := calendar.FreeSlots(occ, calendar.Range{From: day(6, 0, 0), To: day(9, 23, 0)}, time.Hour, calendar.Hours{From: 9, To: 18}, false, ny)
	var s []string
	for _, r := range got {
		s = append(s, r.From.Format("Mon 15:04")+"-"+r.To.Format("15:04"))
	}
	// Fri 6th: 10:30–11:00 too short; 17:00–18:00 free. Weekend skipped. Mon 9th whole.
	if strings.Join(s, ",") != "Fri 17:00-18:00,Mon 09:00-18:00" {
		t.Errorf("free: %v", s)
	}
}

// OnChange hears every change to the user's events made through the
// service (create, move, cancel, import), and nothing else.
func TestOnChange(t *testing.T) {
	s, ana := newService(t)
	ctx := t.Context()
	var heard []string
	s.OnChange = func(u string) { heard = append(heard, u) }
	ev, err := s.Create(ctx, ana, calendar.EventInput{Summary: "Dentist", Start: calendar.At(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Move(ctx, ana, ev.ID, calendar.When{}, calendar.At(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)), calendar.When{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Agenda(ctx, ana, calendar.Range{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}, time.UTC); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel(ctx, ana, ev.ID, calendar.When{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, ana, "", strings.NewReader(strings.ReplaceAll(mixed, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, ana, calendar.EventInput{Summary: " "}); err == nil {
		t.Fatal("an event without a title was made")
	}
	if len(heard) != 4 || heard[0] != ana || heard[3] != ana {
		t.Fatalf("heard %q, want the user four times (create, move, cancel, import)", heard)
	}
}
