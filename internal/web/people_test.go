package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestPeopleViewWritesTextOnly (issue 13): names, handles and notes come
// from address books on DAV servers and from imported .vcf files. The
// People view sets them as text only, builds nothing that loads, links only
// to the app's routes and the export (no mailto: or tel: built from a
// handle), and fetches only the .vcf upload. The browser journey
// (internal/e2e TestBrowserPeople) checks the rendered page.
func TestPeopleViewWritesTextOnly(t *testing.T) {
	data, err := fs.ReadFile(FS(), "views/people.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment`).FindString(src); m != "" {
		t.Errorf("people.js uses %q: contact text must be set as text", m)
	}
	if m := regexp.MustCompile(`h\('(img|iframe|object|embed|video|audio|source|link|script|style)'|\bsrc\s*:|\.src\s*=|srcdoc|url\(|mailto:|tel:`).FindString(src); m != "" {
		t.Errorf("people.js builds %q: the view loads and links nothing from a card", m)
	}
	links := regexp.MustCompile(`href:\s*('[^']*'|`+"`[^`]*`"+`|[A-Za-z_.]+)`).FindAllStringSubmatch(src, -1)
	if len(links) < 2 {
		t.Errorf("%d links found; does the pattern still match the code?", len(links))
	}
	for _, m := range links {
		if v := m[1]; !strings.HasPrefix(v, "'#/") && v != "'/api/contacts/export.vcf'" {
			t.Errorf("people.js links to %s, which is neither one of the app's routes nor the export", v)
		}
	}
	fetches := regexp.MustCompile(`fetch\(\s*'([^']*)'`).FindAllStringSubmatch(src, -1)
	if strings.Count(src, "fetch(") != len(fetches) {
		t.Error("people.js fetches an address this test cannot read")
	}
	for _, m := range fetches {
		if m[1] != "/api/contacts/import" {
			t.Errorf("people.js fetches %s", m[1])
		}
	}
	app, err := fs.ReadFile(FS(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(app), "show('contacts', peopleView, r)") {
		t.Error("app.js no longer routes #/contacts to views/people.js")
	}
}
