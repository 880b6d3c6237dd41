package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestWakeupCallWritesTextOnly (issue 13): the incoming-call screen of a
// wake-up shows the reminder's words and her reply as text only, rings
// with Web Audio (no sound file), fetches only os1's own API, and is what
// reminder-alert.js calls for a "Wake-up call: …" turn. The browser journey
// is internal/e2e TestBrowserWakeupCall.
func TestWakeupCallWritesTextOnly(t *testing.T) {
	data, err := fs.ReadFile(FS(), "wakeup-call.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment`).FindString(src); m != "" {
		t.Errorf("wakeup-call.js uses %q: the call screen must set text only", m)
	}
	for _, m := range regexp.MustCompile(`fetch\(([^,)]*)`).FindAllStringSubmatch(src, -1) {
		if !strings.HasPrefix(m[1], "`/api/") {
			t.Errorf("wakeup-call.js fetches %s: only os1's API", m[1])
		}
	}
	if regexp.MustCompile(`h\('(audio|source|img|iframe|script)'`).MatchString(src) {
		t.Error("wakeup-call.js loads media: the ring is made with Web Audio")
	}
	for _, want := range []string{"/answer`", "/snooze`", "/speak`", "'os1:ring'"} {
		if !strings.Contains(src, want) {
			t.Errorf("wakeup-call.js lacks %s", want)
		}
	}
	alert, err := fs.ReadFile(FS(), "reminder-alert.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(alert), "from './wakeup-call.js'") || !strings.Contains(string(alert), "ring(line, convId)") {
		t.Error("reminder-alert.js no longer rings for a wake-up call")
	}
}
