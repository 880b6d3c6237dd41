package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestCalendarViewsWriteTextOnly (issue 13): event titles, places, calendar
// names and sync errors come from other people's servers (invitations,
// CalDAV, subscriptions). The calendar views set them as text only (h's
// text, textContent), never markup; build nothing that loads (img, iframe,
// a src); and link only to the app's own routes and the export, so nothing
// an event says becomes a link or a fetch. The one fetch is the .ics upload
// to /api/calendar/import. The browser journey (internal/e2e
// TestBrowserCalendar) checks the rendered page.
func TestCalendarViewsWriteTextOnly(t *testing.T) {
	markup := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment`)
	loads := regexp.MustCompile(`h\('(img|iframe|object|embed|video|audio|source|link|script|style)'|\bsrc\s*:|\.src\s*=|srcdoc|background-image|url\(|new Audio\(`)
	href := regexp.MustCompile(`href:\s*('[^']*'|` + "`[^`]*`" + `|[A-Za-z_.]+)`)
	fetches := regexp.MustCompile(`fetch\(\s*'([^']*)'`)
	for _, p := range []string{"views/calendar.js", "views/settings-calendar.js"} {
		data, err := fs.ReadFile(FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		if m := markup.FindString(src); m != "" {
			t.Errorf("%s uses %q: calendar text must be set as text", p, m)
		}
		if m := loads.FindString(src); m != "" {
			t.Errorf("%s builds %q: calendar views load nothing", p, m)
		}
		links := href.FindAllStringSubmatch(src, -1)
		if len(links) < 1 || p == "views/calendar.js" && len(links) < 4 {
			t.Errorf("%s: %d links found; does the pattern still match the code?", p, len(links))
		}
		for _, m := range links {
			v := m[1]
			if !strings.HasPrefix(v, "'#/") && v != "'/api/calendar/export.ics'" {
				t.Errorf("%s: a link to %s, which is neither one of the app's routes nor the export", p, v)
			}
		}
		if n := strings.Count(src, "fetch("); n != len(fetches.FindAllString(src, -1)) {
			t.Errorf("%s: a fetch to an address this test cannot read", p)
		}
		for _, m := range fetches.FindAllStringSubmatch(src, -1) {
			if m[1] != "/api/calendar/import" {
				t.Errorf("%s fetches %s", p, m[1])
			}
		}
	}
	app, err := fs.ReadFile(FS(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(app), "show('calendar', calendarView, r)") {
		t.Error("app.js no longer routes #/calendar to views/calendar.js")
	}
	settings, err := fs.ReadFile(FS(), "views/settings.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(settings), "calendarSection(section)") {
		t.Error("Settings no longer shows the calendar section")
	}
}
