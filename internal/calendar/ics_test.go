package calendar_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
)

const mixed = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:good-1@test
SUMMARY:Dentist
DTSTART;TZID=America/New_York:20260305T150000
DTEND;TZID=America/New_York:20260305T160000
LOCATION:Main St 5
ORGANIZER;CN=Ana:mailto:ana@example.com
ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.com
X-CUSTOM;FOO=bar:kept
CATEGORIES:health
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:Dentist
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:no-start@test
SUMMARY:Broken one
END:VEVENT
BEGIN:VEVENT
UID:bad-zone@test
SUMMARY:Martian
DTSTART;TZID=Mars/Olympus:20260305T150000
END:VEVENT
BEGIN:VEVENT
UID:bad-rule@test
SUMMARY:Rule
DTSTART:20260305T150000Z
RRULE:FREQ=SOMETIMES
END:VEVENT
BEGIN:VEVENT
SUMMARY:No uid
DTSTART:20260305T150000Z
END:VEVENT
BEGIN:VEVENT
UID:good-2@test
SUMMARY:Holiday
DTSTART;VALUE=DATE:20260406
END:VEVENT
END:VCALENDAR
`

// Every good event comes in, each broken one is named with its reason.
func TestParseICSReportsEachBrokenEvent(t *testing.T) {
	evs, bad, err := calendar.ParseICS(strings.NewReader(strings.ReplaceAll(mixed, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].UID != "good-1@test" || evs[1].UID != "good-2@test" {
		t.Fatalf("events %+v", evs)
	}
	want := map[string]string{"Broken one": "no start", "Martian": "unknown time zone", "Rule": "repeat rule", "No uid": "no UID"}
	if len(bad) != len(want) {
		t.Fatalf("bad: %v", bad)
	}
	for _, b := range bad {
		if !strings.Contains(b.Error(), want[b.Summary]) || !strings.Contains(b.Error(), b.Summary) {
			t.Errorf("error %q for %q, want it to say %q", b.Error(), b.Summary, want[b.Summary])
		}
	}
	d := evs[0]
	if d.Organizer.Email != "ana@example.com" || len(d.Attendees) != 1 || d.Attendees[0].Status != "ACCEPTED" || d.Location != "Main St 5" {
		t.Errorf("people and place: %+v", d)
	}
	if evs[1].End.Time.Sub(evs[1].Start.Time) != 24*time.Hour {
		t.Errorf("an all-day event without an end lasts one day, got %v", evs[1].End)
	}
}

// Export then import gives the same events, unknown properties and alarms
// included.
func TestICSRoundTrip(t *testing.T) {
	evs, _, err := calendar.ParseICS(strings.NewReader(strings.ReplaceAll(mixed, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := calendar.WriteICS(&buf, "Mine", evs, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	again, bad, err := calendar.ParseICS(strings.NewReader(text))
	if err != nil || len(bad) > 0 || len(again) != len(evs) {
		t.Fatalf("re-import: %d, %v, %v\n%s", len(again), bad, err, text)
	}
	for i := range evs {
		a, b := evs[i], again[i]
		if a.Summary != b.Summary || !a.Start.Equal(b.Start) || !a.End.Equal(b.End) || a.Location != b.Location ||
			len(a.Extra) != len(b.Extra) || len(a.Alarms) != len(b.Alarms) || a.Organizer != b.Organizer {
			t.Errorf("event %d changed:\n%+v\n%+v", i, a, b)
		}
	}
	if !strings.Contains(text, "X-CUSTOM;FOO=bar:kept") || !strings.Contains(text, "TRIGGER:-PT15M") {
		t.Errorf("unknown properties or alarms lost:\n%s", text)
	}
	var empty bytes.Buffer
	if err := calendar.WriteICS(&empty, "", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, bad, err := calendar.ParseICS(&empty); err != nil || len(got)+len(bad) != 0 {
		t.Errorf("an empty calendar: %v %v %v", got, bad, err)
	}
}

// A file go-ical cannot parse as a whole is read one event at a time.
func TestParseICSSyntaxErrorCostsOneEvent(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Fine\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Garbled\r\nthis line has no colon\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	evs, bad, err := calendar.ParseICS(strings.NewReader(ics))
	if err != nil || len(evs) != 1 || evs[0].UID != "a" || len(bad) != 1 || bad[0].Summary != "Garbled" {
		t.Fatalf("events %v bad %v err %v", evs, bad, err)
	}
	if _, _, err := calendar.ParseICS(strings.NewReader("hello")); err == nil {
		t.Error("a file that is not iCalendar is an error")
	}
}

// Windows and prefixed TZIDs resolve to IANA zones.
func TestLoadZone(t *testing.T) {
	for in, want := range map[string]string{
		"W. Europe Standard Time":                  "Europe/Berlin",
		"/mozilla.org/20070129_1/America/New_York": "America/New_York",
		"Europe/Berlin":                            "Europe/Berlin",
	} {
		l, err := calendar.LoadZone(in)
		if err != nil || l.String() != want {
			t.Errorf("LoadZone(%q) = %v, %v", in, l, err)
		}
	}
}

func FuzzImportICS(f *testing.F) {
	f.Add(mixed)
	f.Add("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	f.Add("BEGIN:VEVENT\r\nUID:y\r\nDTSTART;TZID=Europe/Berlin:20260329T023000\r\nEND:VEVENT")
	f.Fuzz(func(t *testing.T, s string) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("stuck over 5 s on %q", s))
			}
		}()
		evs, bad, err := calendar.ParseICS(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, b := range bad {
			if b.Err == nil || b.Error() == "" {
				t.Fatalf("an import error without a reason: %+v", b)
			}
		}
		// Every event read can be written and read back, and expanded.
		var buf bytes.Buffer
		if err := calendar.WriteICS(&buf, "", evs, time.Unix(0, 0)); err != nil {
			t.Fatalf("write: %v", err)
		}
		again, bad2, err := calendar.ParseICS(&buf)
		if err != nil || len(again) != len(evs) {
			t.Fatalf("re-import of %d events: %d, bad %v, %v\n%s", len(evs), len(again), bad2, err, buf.String())
		}
		r := calendar.Range{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
		for _, e := range evs {
			if occ, err := calendar.Expand(e, r, time.UTC); err == nil && len(occ) > calendar.MaxOccurrences {
				t.Fatalf("%d occurrences", len(occ))
			}
		}
	})
}

// A TZID that is not an IANA name is read through its VTIMEZONE's
// X-LIC-LOCATION, and the series keeps local time across DST.
func TestVTimezoneAlias(t *testing.T) {
	e := parseOne(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VTIMEZONE
TZID:Berlin Office Time
X-LIC-LOCATION:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:alias@test
SUMMARY:Review
DTSTART;TZID=Berlin Office Time:20261023T100000
DTEND;TZID=Berlin Office Time:20261023T110000
RRULE:FREQ=WEEKLY;COUNT=2
END:VEVENT
END:VCALENDAR
`)
	if e.Start.Zone != "Europe/Berlin" {
		t.Fatalf("zone %q", e.Start.Zone)
	}
	occ, err := calendar.Expand(e, calendar.Range{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}, time.UTC)
	if err != nil || len(occ) != 2 {
		t.Fatalf("%v %v", occ, err)
	}
	// CEST (UTC+2) on the 23rd, CET (UTC+1) on the 30th: 10:00 local both.
	if occ[0].Start.UTC().Hour() != 8 || occ[1].Start.UTC().Hour() != 9 {
		t.Errorf("UTC hours %v, %v", occ[0].Start.UTC(), occ[1].Start.UTC())
	}
}
