package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/calendar/radicaletest"
)

const cliICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n" +
	"BEGIN:VEVENT\r\nUID:standup@test\r\nSUMMARY:Standup\r\nDTSTART:20261126T090000Z\r\nDTEND:20261126T093000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:broken@test\r\nSUMMARY:Broken one\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:dentist@test\r\nSUMMARY:Dentist\r\nLOCATION:Main St 5\r\nDTSTART:20261201T140000Z\r\nDTEND:20261201T150000Z\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:holiday@test\r\nSUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20261204\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

// TestCalendarCLI: an .ics file imported on the command line (the broken
// event named, the rest kept), the agenda with the series expanded, and an
// export that imports back as the same events.
func TestCalendarCLI(t *testing.T) {
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ics")
	if err := os.WriteFile(in, []byte(cliICS), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := r.run("", "calendar", "import", in)
	if code != 0 || !strings.Contains(out, "Imported 3 events") || !strings.Contains(out, "Broken one") {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}
	agenda := []string{"calendar", "agenda", "--from", "2026-11-25", "--days", "20"}
	code, out, stderr = r.run("", agenda...)
	if code != 0 {
		t.Fatalf("agenda: %d %q", code, stderr)
	}
	if strings.Count(out, "Standup") != 3 || !strings.Contains(out, "Dentist (Main St 5)") || !strings.Contains(out, "all day") ||
		strings.Index(out, "Dentist") > strings.Index(out, "Holiday") || strings.Contains(out, "Broken") {
		t.Fatalf("agenda:\n%s", out)
	}
	if code, out, _ := r.run("", "calendar", "agenda", "--from", "2026-12-03", "--days", "1"); code != 0 || !strings.Contains(out, "Standup") || strings.Contains(out, "Dentist") {
		t.Fatalf("one day:\n%s", out)
	}
	t.Logf("agenda:\n%s", out)
	if code, out, stderr := r.run("", "calendar", "agenda", "--days", "3"); code != 0 || out == "" {
		t.Fatalf("from today: %d %q %q", code, out, stderr) // the wall clock's today: what it lists depends on the date
	}
	if code, _, stderr := r.run("", "calendar", "agenda", "--days", "0"); code == 0 || !strings.Contains(stderr, "--days") {
		t.Fatalf("--days 0: %d %q", code, stderr)
	}

	exported := filepath.Join(dir, "out.ics")
	if code, _, stderr := r.run("", "calendar", "export", exported); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	code, stdout, _ := r.run("", "calendar", "export")
	b, err := os.ReadFile(exported)
	if code != 0 || err != nil || !strings.Contains(string(b), "BEGIN:VCALENDAR") || strings.Count(string(b), "BEGIN:VEVENT") != 3 ||
		strings.Count(stdout, "BEGIN:VEVENT") != 3 {
		t.Fatalf("export: %v\n%s", err, b)
	}
	// Imported back, every event is already there: updated, none new, none broken.
	code, out, _ = r.run("", "calendar", "import", exported)
	if code != 0 || !strings.Contains(out, "Imported 0 events, updated 3") || strings.Contains(out, "skipped") {
		t.Fatalf("re-import: %q", out)
	}
	if code, again, _ := r.run("", agenda...); code != 0 || strings.Count(again, "Standup") != 3 {
		t.Fatalf("agenda after the round trip:\n%s", again)
	}
	if code, out, _ := r.run("", "calendar", "list"); code != 0 || !strings.Contains(out, "No calendar account") {
		t.Fatalf("list: %q", out)
	}
}

// TestCalendarAccountsCLI: a CalDAV account on Debian's radicale, added on
// the command line (a wrong password first, refused naming the account),
// listed without its password, synced, and removed.
func TestCalendarAccountsCLI(t *testing.T) {
	dav := radicaletest.Start(t)
	dav.AddUser("theo", "dav-pass")
	dav.MakeCalendar("theo", "work", "Work")
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	add := []string{"calendar", "add", "--url", dav.URL, "--username", "theo", "--name", "Home DAV", "--password-stdin"}
	if code, _, stderr := r.run("wrong\n", add...); code == 0 || !strings.Contains(stderr, "Home DAV") {
		t.Fatalf("a wrong password: %d %q", code, stderr)
	}
	code, out, stderr := r.run("dav-pass\n", add...)
	if code != 0 || !strings.Contains(out, "Connected Home DAV") {
		t.Fatalf("add: %d %q %q", code, out, stderr)
	}
	code, out, _ = r.run("", "calendar", "list")
	if code != 0 || !strings.Contains(out, "Home DAV") || strings.Contains(out, "dav-pass") {
		t.Fatalf("list:\n%s", out)
	}
	id := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])[0]
	if code, out, stderr := r.run("", "calendar", "sync", "Home DAV"); code != 0 || !strings.Contains(out, "Home DAV: 1 calendars") {
		t.Fatalf("sync: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := r.run("", "calendar", "sync", "nobody"); code == 0 || !strings.Contains(stderr, "no calendar account") {
		t.Fatalf("sync of an unknown account: %d %q", code, stderr)
	}
	if code, out, _ := r.run("", "calendar", "remove", id); code != 0 || !strings.Contains(out, "Removed") {
		t.Fatalf("remove: %q", out)
	}
	if code, out, _ := r.run("", "calendar", "list"); code != 0 || !strings.Contains(out, "No calendar account") {
		t.Fatalf("list after remove: %q", out)
	}
}
