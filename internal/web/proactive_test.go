package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestProactiveViewWritesTextOnly (issue 13): the reasons and notes in
// Settings → Speaking first come from calendar titles and senders os1 did
// not write; the view sets text only, never markup, talks only to the
// user's own /api/proactive endpoints, and Settings shows it.
func TestProactiveViewWritesTextOnly(t *testing.T) {
	data, err := fs.ReadFile(FS(), "views/settings-proactive.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment`).FindString(src); m != "" {
		t.Errorf("settings-proactive.js uses %q: reasons must be set as text", m)
	}
	for _, m := range regexp.MustCompile(`api\.\w+\('([^']*)'`).FindAllStringSubmatch(src, -1) {
		if !strings.HasPrefix(m[1], "/api/proactive/") {
			t.Errorf("settings-proactive.js calls %s", m[1])
		}
	}
	settings, err := fs.ReadFile(FS(), "views/settings.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(settings), "proactiveSection(section)") {
		t.Error("Settings does not show the proactive section")
	}
}
