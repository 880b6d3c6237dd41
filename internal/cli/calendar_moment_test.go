package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An event without an end (a moment) shows its time alone in the agenda,
// not "12:00–12:00"; one with an end shows both.
func TestCalendarAgendaMoment(t *testing.T) {
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	in := filepath.Join(t.TempDir(), "m.ics")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:m@test\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:Pill\r\nDTSTART:20261202T120000Z\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:d@test\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:Dentist\r\nDTSTART:20261202T140000Z\r\nDTEND:20261202T150000Z\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	if err := os.WriteFile(in, []byte(ics), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := r.run("", "calendar", "import", in); code != 0 || !strings.Contains(out, "Imported 2 events") {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}
	code, out, stderr := r.run("", "calendar", "agenda", "--from", "2026-12-02", "--days", "1")
	if code != 0 || strings.Contains(out, "12:00–12:00") || !strings.Contains(out, "12:00        Pill") || !strings.Contains(out, "14:00–15:00  Dentist") {
		t.Fatalf("agenda: %d %q %q", code, out, stderr)
	}
}
