package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestReminderViewsWriteTextOnly (issue 13): a reminder's words are the
// user's (or the model's) text, shown in Settings → Reminders and in the
// banner when one fires; the files that show them set text only (h's text,
// textContent), never markup, and load no sound file (the beep is made
// with Web Audio). The browser journey (internal/e2e TestBrowserReminders)
// checks the rendered page.
func TestReminderViewsWriteTextOnly(t *testing.T) {
	markup := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment`)
	loads := regexp.MustCompile(`new Audio\(|h\('(audio|source|img|iframe|script)'|\bsrc\s*:|\.src\s*=|fetch\(`)
	for _, p := range []string{"reminder-alert.js", "views/settings-reminders.js"} {
		data, err := fs.ReadFile(FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		if m := markup.FindString(src); m != "" {
			t.Errorf("%s uses %q: reminders must be set as text", p, m)
		}
		if m := loads.FindString(src); m != "" {
			t.Errorf("%s uses %q: reminders load nothing", p, m)
		}
	}
	// app.js hands every turn event to the banner, else a reminder that
	// fires shows nothing outside its conversation.
	app, err := fs.ReadFile(FS(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(app), "stream.on(reminderAlert)") {
		t.Error("app.js no longer passes the turn stream to reminder-alert.js")
	}
}
