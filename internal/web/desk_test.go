package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestDeskViewWritesTextOnly (issue 14): a document's text and the model's
// suggestions (original, replacement, reason) are untrusted: a pasted
// letter or a model told by it can hold markup. The writing desk sets them
// as text only, loads nothing, links only to the app's routes, keeps
// drafts only under its own localStorage key, and talks only to the
// documents, proofreading and spelling endpoints. The browser journey
// (internal/e2e TestBrowserDesk) checks the rendered page.
func TestDeskViewWritesTextOnly(t *testing.T) {
	for _, name := range []string{"views/desk.js", "views/desk-text.js"} {
		data, err := fs.ReadFile(FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|\beval\(|new Function`).FindString(src); m != "" {
			t.Errorf("%s uses %q: document text must be set as text", name, m)
		}
		if m := regexp.MustCompile(`h\('(img|iframe|object|embed|video|audio|source|link|script|style)'|\bsrc\s*:|\.src\s*=|srcdoc|url\(|mailto:|window\.open|location\.href\s*=`).FindString(src); m != "" {
			t.Errorf("%s builds %q: the desk loads and opens nothing from a document", name, m)
		}
		if strings.Contains(src, "fetch(") {
			t.Errorf("%s calls fetch directly; it must go through api.js (CSRF, errors)", name)
		}
		for _, m := range regexp.MustCompile(`localStorage\.(setItem|getItem|removeItem)\(\s*(draftKey\([^)]*\)|[^,)]+)`).FindAllStringSubmatch(src, -1) {
			if strings.TrimSpace(m[2]) != "draftKey(userId, docId)" {
				t.Errorf("%s uses localStorage key %s; drafts live only under draftKey (per user and document)", name, m[2])
			}
		}
	}
	src := mustRead(t, "views/desk.js")
	links := regexp.MustCompile(`href:\s*('[^']*'|`+"`[^`]*`"+`|[A-Za-z_.]+)`).FindAllStringSubmatch(src, -1)
	if len(links) < 3 {
		t.Errorf("%d links found; does the pattern still match the code?", len(links))
	}
	for _, m := range links {
		if v := m[1]; !strings.HasPrefix(v, "'#/") && !strings.HasPrefix(v, "`#/desk/${enc(") {
			t.Errorf("desk.js links to %s, which is not one of the app's routes", v)
		}
	}
	calls := regexp.MustCompile(`api\.(get|post|put|del)\(\s*('[^']*'|`+"`[^`]*`"+`)`).FindAllStringSubmatch(src, -1)
	if n := len(regexp.MustCompile(`\bapi\.\w+\(`).FindAllString(src, -1)); n != len(calls) {
		t.Errorf("desk.js calls the API %d times, %d of them with a path this test can read", n, len(calls))
	}
	for _, m := range calls {
		p := strings.Trim(m[2], "'`")
		if !strings.HasPrefix(p, "/api/documents") && p != "/api/spelling" {
			t.Errorf("desk.js calls %s", p)
		}
		if strings.Contains(p, "${") && !regexp.MustCompile(`^/api/documents/\$\{enc\(this\.id\)\}`).MatchString(p) && !strings.HasPrefix(p, "/api/documents/${enc(id)}") {
			t.Errorf("desk.js builds %s without encoding the id", p)
		}
	}
	// Suggestions are applied only where their span still holds the
	// original (desk-text.js applySuggestion), never by position alone.
	if !strings.Contains(mustRead(t, "views/desk-text.js"), "text.slice(s.start, s.end) !== s.original") {
		t.Error("applySuggestion no longer checks the span's text before applying")
	}
	app := mustRead(t, "app.js")
	if !strings.Contains(app, "show('desk', deskView, r)") {
		t.Error("app.js no longer routes #/desk to views/desk.js")
	}
	if !strings.Contains(mustRead(t, "views/chat.js"), "href: '#/desk'") {
		t.Error("the sidebar has no link to the writing desk")
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	data, err := fs.ReadFile(FS(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
