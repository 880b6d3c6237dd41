package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func parseOne(t *testing.T, ics string) calendar.Event {
	t.Helper()
	evs, bad, err := calendar.ParseICS(strings.NewReader(strings.ReplaceAll(ics, "\n", "\r\n")))
	if err != nil || len(bad) > 0 || len(evs) != 1 {
		t.Fatalf("ParseICS: %d events, bad %v, err %v", len(evs), bad, err)
	}
	return evs[0]
}

// A weekly 09:00 meeting stays at 09:00 local time on both sides of each
// zone's DST change, so its UTC time moves by an hour.
func TestExpandAcrossDST(t *testing.T) {
	for _, tc := range []struct {
		zone       string
		start      string // the first occurrence, before the change
		before     int    // UTC hour before the change
		after      int    // UTC hour after
		changeWeek int    // occurrences before the change
	}{
		{"Europe/Berlin", "20260316T090000", 8, 7, 2},      // CET→CEST on 29 March 2026
		{"America/New_York", "20260226T090000", 14, 13, 2}, // EST→EDT on 8 March 2026
	} {
		t.Run(tc.zone, func(t *testing.T) {
			e := parseOne(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:weekly@test
SUMMARY:Standup
DTSTART;TZID=`+tc.zone+`:`+tc.start+`
DTEND;TZID=`+tc.zone+`:`+strings.Replace(tc.start, "T09", "T10", 1)+`
RRULE:FREQ=WEEKLY;COUNT=4
END:VEVENT
END:VCALENDAR
`)
			loc := zone(t, tc.zone)
			occ, err := calendar.Expand(e, calendar.Range{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if len(occ) != 4 {
				t.Fatalf("got %d occurrences, want 4", len(occ))
			}
			for i, o := range occ {
				local := o.Start.In(loc)
				if local.Hour() != 9 || local.Minute() != 0 {
					t.Errorf("occurrence %d at %v local, want 09:00", i, local)
				}
				want := tc.before
				if i >= tc.changeWeek {
					want = tc.after
				}
				if o.Start.UTC().Hour() != want {
					t.Errorf("occurrence %d at %v UTC, want %02d:00", i, o.Start.UTC(), want)
				}
				if o.End.Sub(o.Start) != time.Hour {
					t.Errorf("occurrence %d lasts %v", i, o.End.Sub(o.Start))
				}
			}
		})
	}
}

// An override moves one occurrence, an EXDATE removes one, a cancelled
// override removes another; the series' other occurrences stay.
func TestExpandOverridesAndExceptions(t *testing.T) {
	ics := `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:daily@test
SUMMARY:Run
DTSTART;TZID=Europe/Berlin:20261026T070000
DURATION:PT30M
RRULE:FREQ=DAILY;UNTIL=20261030T060000Z
EXDATE;TZID=Europe/Berlin:20261027T070000
END:VEVENT
BEGIN:VEVENT
UID:daily@test
RECURRENCE-ID;TZID=Europe/Berlin:20261028T070000
SUMMARY:Run (late)
DTSTART;TZID=Europe/Berlin:20261028T180000
DTEND;TZID=Europe/Berlin:20261028T183000
END:VEVENT
BEGIN:VEVENT
UID:daily@test
RECURRENCE-ID;TZID=Europe/Berlin:20261029T070000
STATUS:CANCELLED
DTSTART;TZID=Europe/Berlin:20261029T070000
END:VEVENT
END:VCALENDAR
`
	e := parseOne(t, ics)
	if len(e.Overrides) != 2 {
		t.Fatalf("overrides: %d, want 2", len(e.Overrides))
	}
	berlin := zone(t, "Europe/Berlin")
	occ, err := calendar.Expand(e, calendar.Range{From: time.Date(2026, 10, 1, 0, 0, 0, 0, berlin), To: time.Date(2026, 11, 1, 0, 0, 0, 0, berlin)}, berlin)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range occ {
		got = append(got, o.Start.In(berlin).Format("02 15:04")+" "+o.Event.Summary)
	}
	want := []string{"26 07:00 Run", "28 18:00 Run (late)", "30 07:00 Run"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("occurrences %q, want %q", got, want)
	}
	if !occ[1].RecurrenceID.Time.Equal(time.Date(2026, 10, 28, 7, 0, 0, 0, berlin)) {
		t.Errorf("the moved occurrence's recurrence id is %v", occ[1].RecurrenceID)
	}
}

// All-day events are dates: the same day in every zone, a yearly birthday
// on its date, a three-day event three days long across a DST change.
func TestExpandAllDay(t *testing.T) {
	e := parseOne(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:trip@test
SUMMARY:Trip
DTSTART;VALUE=DATE:20261024
DTEND;VALUE=DATE:20261027
RRULE:FREQ=YEARLY
END:VEVENT
END:VCALENDAR
`)
	if e.Start.Kind != calendar.Date {
		t.Fatalf("start kind %v", e.Start.Kind)
	}
	for _, name := range []string{"Europe/Berlin", "America/New_York"} {
		loc := zone(t, name)
		occ, err := calendar.Expand(e, calendar.Range{From: time.Date(2027, 1, 1, 0, 0, 0, 0, loc), To: time.Date(2028, 1, 1, 0, 0, 0, 0, loc)}, loc)
		if err != nil || len(occ) != 1 {
			t.Fatalf("%s: %d occurrences, %v", name, len(occ), err)
		}
		o := occ[0]
		if !o.AllDay || o.Start.In(loc).Format("2006-01-02 15:04") != "2027-10-24 00:00" || o.End.In(loc).Format("2006-01-02 15:04") != "2027-10-27 00:00" {
			t.Errorf("%s: %v – %v (all day %v)", name, o.Start, o.End, o.AllDay)
		}
	}
}

// A floating time is the same wall clock wherever the user is.
func TestExpandFloating(t *testing.T) {
	e := parseOne(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:float@test
SUMMARY:Pills
DTSTART:20260310T080000
RRULE:FREQ=DAILY;COUNT=3
END:VEVENT
END:VCALENDAR
`)
	for _, name := range []string{"Europe/Berlin", "America/New_York"} {
		loc := zone(t, name)
		occ, err := calendar.Expand(e, calendar.Range{From: time.Date(2026, 3, 1, 0, 0, 0, 0, loc), To: time.Date(2026, 4, 1, 0, 0, 0, 0, loc)}, loc)
		if err != nil || len(occ) != 3 {
			t.Fatalf("%s: %d occurrences, %v", name, len(occ), err)
		}
		for _, o := range occ {
			if o.Start.Location() != loc || o.Start.Hour() != 8 {
				t.Errorf("%s: %v", name, o.Start)
			}
		}
	}
}

// A range in the middle of a long series gets only its own occurrences,
// and one that began before the range but runs into it.
func TestExpandRangeEdges(t *testing.T) {
	e := calendar.Event{UID: "x", Summary: "Night shift", RRule: "FREQ=DAILY",
		Start: calendar.At(time.Date(2020, 1, 1, 22, 0, 0, 0, time.UTC)),
		End:   calendar.At(time.Date(2020, 1, 2, 6, 0, 0, 0, time.UTC))}
	from := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	occ, err := calendar.Expand(e, calendar.Range{From: from, To: from.Add(24 * time.Hour)}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(occ) != 2 || !occ[0].Start.Equal(time.Date(2026, 5, 9, 22, 0, 0, 0, time.UTC)) || !occ[1].Start.Equal(time.Date(2026, 5, 10, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("occurrences %v", occ)
	}
}
