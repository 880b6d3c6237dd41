package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestBookViewWritesTextOnly (issue 14): letters' titles, her proposals and
// drafts, and the message to a publisher are set as text only (h's text,
// textContent), never markup. The view loads one thing besides the API:
// the book's own built PDF, in the preview frame; its links go to the
// app's routes and the book's downloads; it fetches nothing itself (api.js
// does). The browser journey (internal/e2e TestBrowserBook) checks the page.
func TestBookViewWritesTextOnly(t *testing.T) {
	data, err := fs.ReadFile(FS(), "views/book.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|eval\(|new Function`).FindString(src); m != "" {
		t.Errorf("book.js uses %q: text must be set as text", m)
	}
	loads := regexp.MustCompile(`h\('(img|iframe|object|embed|video|audio|source|link|script|style)'|\bsrc\s*:[^,\n]*|\.src\s*=|srcdoc|url\(`)
	found := loads.FindAllString(src, -1)
	want := []string{"h('iframe'", "src: `/api/books/${enc(this.book.id)}/download.pdf?inline=1` });"}
	if len(found) != len(want) {
		t.Fatalf("book.js loads %q; only the PDF preview frame may load", found)
	}
	for i := range want {
		if found[i] != want[i] {
			t.Errorf("load %d: %q, want %q", i, found[i], want[i])
		}
	}
	href := regexp.MustCompile(`href:\s*('[^']*'|` + "`[^`]*`" + `|[A-Za-z_.]+)`)
	links := href.FindAllStringSubmatch(src, -1)
	if len(links) < 4 {
		t.Fatalf("%d links found; does the pattern still match the code?", len(links))
	}
	for _, m := range links {
		v := m[1]
		ok := strings.HasPrefix(v, "'#/") || strings.HasPrefix(v, "`#/book/${enc(") || v == "`/api/books/${enc(this.book.id)}/download.${f}`"
		if !ok {
			t.Errorf("a link to %s, which is neither one of the app's routes nor a book download", v)
		}
	}
	if strings.Contains(src, "fetch(") {
		t.Error("book.js fetches by itself; requests go through api.js")
	}
	app, _ := fs.ReadFile(FS(), "app.js")
	if !strings.Contains(string(app), "show('book', bookView, r)") {
		t.Error("app.js no longer routes #/book to views/book.js")
	}
	chat, _ := fs.ReadFile(FS(), "views/chat.js")
	if !strings.Contains(string(chat), "href: '#/book'") {
		t.Error("the sidebar has no link to the book")
	}
}
