package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRemindersCommands: set a reminder and a wake-up call on the command
// line against a running server, list them, snooze, set quiet hours,
// cancel; bad input says what to fix.
func TestRemindersCommands(t *testing.T) {
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	at := time.Now().Add(48 * time.Hour).Format(time.RFC3339)
	code, out, stderr := r.run("", "reminders", "add", "call mum", "--at", at)
	if code != 0 || !strings.Contains(out, `Reminder set for `) || !strings.Contains(out, `"call mum"`) {
		t.Fatalf("add: %d %q %q", code, out, stderr)
	}
	id := regexp.MustCompile(`\[(job_\w+)\]`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no id in %q", out)
	}
	if code, out, _ = r.run("", "reminders", "add", "get up", "--in", "90m", "--wake"); code != 0 || !strings.Contains(out, "Wake-up call set") {
		t.Fatalf("add --wake: %d %q", code, out)
	}
	code, out, _ = r.run("", "reminders", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "wake-up") || !strings.Contains(lines[2], "call mum") {
		t.Fatalf("list, soonest first:\n%s", out)
	}
	if code, out, _ = r.run("", "reminders", "snooze", id[1], "--for", "15m"); code != 0 || !strings.Contains(out, "Snoozed until") {
		t.Fatalf("snooze: %d %q", code, out)
	}
	if code, out, _ = r.run("", "reminders", "quiet", "22:00-07:00"); code != 0 || out != "Quiet hours: 22:00-07:00\n" {
		t.Fatalf("quiet: %d %q", code, out)
	}
	if code, out, _ = r.run("", "reminders", "cancel", id[1]); code != 0 || !strings.Contains(out, `Cancelled "call mum"`) {
		t.Fatalf("cancel: %d %q", code, out)
	}
	if code, _, stderr = r.run("", "reminders", "cancel", id[1]); code == 0 || !strings.Contains(stderr, "already fired") {
		t.Fatalf("cancel twice: %d %q", code, stderr)
	}
	if code, out, _ = r.run("", "reminders", "list", "--all"); code != 0 || !strings.Contains(out, "skipped (cancelled)") {
		t.Fatalf("list --all:\n%s", out)
	}
	if code, _, stderr = r.run("", "reminders", "add", "x", "--at", "soon"); code == 0 || !strings.Contains(stderr, "is not a time") {
		t.Fatalf("a bad time: %d %q", code, stderr)
	}
	if code, _, _ = r.run("", "reminders", "add", "x"); code != 2 {
		t.Fatalf("no time: exit %d, want 2", code)
	}
}
