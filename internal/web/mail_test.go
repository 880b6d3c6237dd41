package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestMailViewsLinkOnlyWithinTheApp guards what the mail views may build
// from an email (issue 12): no element that loads anything (img, iframe,
// a src), and links only to the app's own routes, so nothing in a message
// becomes a clickable link or a remote fetch. The browser journey
// (internal/e2e TestBrowserMail) checks the rendered page; this catches a
// new element before it ships.
func TestMailViewsLinkOnlyWithinTheApp(t *testing.T) {
	// Each link's href, as written: a literal, a template literal, the
	// inbox hash the view built, or a choice between two literals.
	href := regexp.MustCompile("h\\('a',\\s*\\{[^\\n]*?href:\\s*('[^']*'|`[^`]*`|this\\.listHash|ex\\.code === '[a-z_]+' \\? '[^']*' : '[^']*')")
	literal := regexp.MustCompile("'[^']*'|`[^`]*`")
	loads := regexp.MustCompile(`h\('(img|iframe|object|embed|video|audio|source|link|script|style)'|\bsrc\s*:|\.src\s*=|srcdoc|background-image|url\(`)
	for _, p := range []string{"views/mail.js", "views/mail-tidy.js", "views/settings-mail.js"} {
		data, err := fs.ReadFile(FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		if m := loads.FindString(src); m != "" {
			t.Errorf("%s builds %q: mail views must not load anything", p, m)
		}
		if n := strings.Count(src, "h('a',"); n != len(href.FindAllString(src, -1)) {
			t.Errorf("%s has %d links but only %d with an href this test can read", p, n, len(href.FindAllString(src, -1)))
		}
		if p == "views/mail.js" && strings.Count(src, "h('a',") < 5 || p == "views/mail-tidy.js" && strings.Count(src, "h('a',") < 4 {
			t.Errorf("%s: fewer links than the view has; does the pattern still match the code?", p)
		}
		for _, m := range href.FindAllStringSubmatch(src, -1) {
			if m[1] == "this.listHash" {
				continue // built in list() from '#/mail' and its query
			}
			routes := regexp.MustCompile(`^ex\.code === '[a-z_]+'`).ReplaceAllString(m[1], "")
			for _, v := range literal.FindAllString(routes, -1) {
				if !strings.HasPrefix(v[1:], "#/") {
					t.Errorf("%s: a link to %s, which is not one of the app's routes", p, v)
				}
			}
		}
	}
}
