package calendar

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// An exported file carries a VTIMEZONE for each TZID it names (RFC 5545
// 3.2.19), once each, and reads back to the same times.
func TestWriteICSVTimezones(t *testing.T) {
	in := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261207T090000\r\n" +
		"DTEND;TZID=Europe/Berlin:20261207T100000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=America/New_York:20261208T090000\r\n" +
		"SUMMARY:Call\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:c\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261209T090000Z\r\nSUMMARY:UTC one\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;VALUE=DATE:20261210\r\nSUMMARY:All day\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	evs, bad, err := ParseICS(strings.NewReader(in))
	if err != nil || len(bad) != 0 || len(evs) != 4 {
		t.Fatalf("parse: %d events, %v, %v", len(evs), bad, err)
	}
	var buf bytes.Buffer
	if err := WriteICS(&buf, "Personal", evs, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	cal, err := ical.NewDecoder(strings.NewReader(out)).Decode()
	if err != nil {
		t.Fatalf("decode the export: %v\n%s", err, out)
	}
	zones := map[string]int{}
	named := map[string]bool{}
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompTimezone:
			zones[c.Props.Get(ical.PropTimezoneID).Value]++
		case ical.CompEvent:
			for _, p := range c.Props[ical.PropDateTimeStart] {
				if id := p.Params.Get(ical.PropTimezoneID); id != "" {
					named[id] = true
				}
			}
		}
	}
	if len(named) != 2 || !named["Europe/Berlin"] || !named["America/New_York"] {
		t.Fatalf("TZIDs named: %v", named)
	}
	for id := range named {
		if zones[id] != 1 {
			t.Errorf("VTIMEZONE %s: %d in the file, want 1", id, zones[id])
		}
	}
	if len(zones) != len(named) {
		t.Errorf("VTIMEZONEs %v for TZIDs %v", zones, named)
	}
	again, bad, err := ParseICS(strings.NewReader(out))
	if err != nil || len(bad) != 0 || len(again) != 4 {
		t.Fatalf("read back: %d events, %v, %v", len(again), bad, err)
	}
	for i := range evs {
		if !again[i].Start.Time.Equal(evs[i].Start.Time) || again[i].Start.Kind != evs[i].Start.Kind || again[i].Start.Zone != evs[i].Start.Zone {
			t.Errorf("event %s: start %+v, read back %+v", evs[i].UID, evs[i].Start, again[i].Start)
		}
	}
}
