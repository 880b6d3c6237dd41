package cli

import (
	"strings"
	"testing"
)

// A wrong number of arguments says how the command is used, not only
// cobra's "accepts 1 arg(s), received 0".
func TestWrongArgsShowUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"calendar", "import"}, "Usage: os1 calendar import FILE.ics"},
		{[]string{"docs", "diff", "doc_x", "1"}, "Usage: os1 docs diff ID A B"},
		{[]string{"contacts", "add"}, "Usage: os1 contacts add"},
		{[]string{"reminders", "add"}, "Usage: os1 reminders add"},
	} {
		code, _, stderr := runMain(tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--help") {
			t.Errorf("os1 %s: %d %q, want %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// A negative --in is refused before asking the server, in flag words.
func TestRemindersAddNegativeIn(t *testing.T) {
	code, _, stderr := runMain("reminders", "add", "x", "--in", "-5m", "--server", "http://127.0.0.1:1")
	if code != 2 || !strings.Contains(stderr, "--in") || strings.Contains(stderr, "in_minutes") {
		t.Errorf("%d %q", code, stderr)
	}
}

func TestCountOf(t *testing.T) {
	for n, want := range map[int]string{0: "0 events", 1: "1 event", 2: "2 events"} {
		if got := countOf(n, "event"); got != want {
			t.Errorf("countOf(%d) = %q, want %q", n, got, want)
		}
	}
}

// os1 docs show --version takes a version number, not 0 or -1 (which
// would quietly show the current text).
func TestDocsShowBadVersion(t *testing.T) {
	for _, v := range []string{"0", "-1"} {
		code, _, stderr := runMain("docs", "show", "doc_x", "--version", v, "--server", "http://127.0.0.1:1")
		if code != 2 || !strings.Contains(stderr, "is not a version number") {
			t.Errorf("--version %s: %d %q", v, code, stderr)
		}
	}
}
